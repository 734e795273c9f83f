import NiceICECore

/// A description ``Negotiation`` applied, with what it read from it: the transport's ICE and
/// DTLS values, the data section (when it has one), every section's mid and ufrag (for candidate
/// routing), the `m=` lines (for the rejected sections a later offer repeats), the audio and
/// video sections, and which section carries the session's one transport (the BUNDLE tag).
///
/// Where the values come from (the *anchor* section):
/// - With a data section: the data section, read by ``DataChannelRemoteDescription`` (as a
///   data-only session always did; it must not be rejected or bundle-only).
/// - Without one (a media-only session: WHIP, WHEP): the first section of the first BUNDLE
///   group that names an audio or video section with a port (not rejected, not bundle-only),
///   else the first such section when nothing is bundled. Its ICE credentials (media level,
///   else session level), `a=fingerprint` and `a=setup` are required.
struct AppliedDescription: Sendable, Hashable {
    /// The description as given (a local one as created).
    var description: SessionDescription
    /// The data section's values, when the description has a data section.
    var data: DataChannelRemoteDescription?
    /// The description's ICE credentials (the anchor section's).
    var credentials: IceParameters
    /// The description's DTLS role and fingerprints (the anchor section's, media level over
    /// session level).
    var dtls: DtlsParameters
    /// Whether the description says `a=ice-lite`.
    var iceLite: Bool
    /// The m-line index of the section the values above were read from: the data section, else
    /// the first audio or video section of the description's BUNDLE group that has a port.
    var anchorIndex: Int
    /// Every section's mid, in m-line order.
    var mids: [String?]
    /// Every section's ufrag (media level, else session level), in m-line order.
    var ufrags: [String?]
    /// Every section's `m=` line.
    var mediaLines: [SessionLines.MediaLine]
    /// The ICE reading of the description (sections, BUNDLE groups).
    var ice: IceDescription
    /// The audio and video sections, by m-line index.
    var media: [Int: MediaDescription]
    /// The m-line index of the section whose ICE values and candidates are the transport's:
    /// the first mid of the transport's BUNDLE group (for a remote offer: of the group our
    /// answer keeps), else the anchor section.
    var transportIndex: Int
    /// For a remote offer: the audio and video sections our answer accepts, by m-line index,
    /// with the local transceiver that takes each.
    var answerPlan: [Int: Int] = [:]

    /// Reads `description`.
    ///
    /// - Throws: The readers' ``SdpError``. Without a data section:
    ///   ``SdpError/Code/unsupported`` with field `m=application` when there is no audio or video
    ///   section either, and with field `m=` when every audio and video section is rejected (port
    ///   0) so that none can carry the transport; ``SdpError/Code/missing`` with field
    ///   `a=ice-ufrag`, `a=ice-pwd`, `a=fingerprint` or `a=setup` (line: the anchor's `m=` line)
    ///   when the anchor section lacks it at media and session level.
    init(_ description: SessionDescription) throws(SdpError) {
        let sdp = description.sdp
        let ice: IceDescription
        do { ice = try IceDescription(parsing: sdp) } catch { throw SdpError(ice: error) }
        self.description = description
        self.mids = ice.media.map(\.mid)
        self.ufrags = ice.media.map(\.usernameFragment)
        self.ice = ice
        if try DataChannelDescription(parsing: sdp) != nil {
            let parsed = try DataChannelRemoteDescription.read(sdp)
            self.data = parsed.remote
            self.credentials = parsed.remote.ice
            self.dtls = parsed.remote.dtls
            self.iceLite = parsed.remote.iceLite
            self.anchorIndex = parsed.remote.mLineIndex
            self.mediaLines = parsed.mediaLines
            self.media = try MediaDescription.sections(of: sdp)
            self.transportIndex = parsed.remote.mLineIndex
            self.transportIndex = bundleTag(of: nil) ?? parsed.remote.mLineIndex
        } else {
            let mediaLines = SessionLines.mediaLines(of: sdp)
            let media = try MediaDescription.sections(of: sdp)
            let anchor = try Self.anchor(ice: ice, media: media)
            let line = mediaLines.indices.contains(anchor) ? mediaLines[anchor].line : nil
            let section = ice.media[anchor]
            let name = section.mid.map { "mid \(SessionLines.excerpt($0))" } ?? "m-line \(anchor)"
            guard let usernameFragment = section.usernameFragment else {
                throw SdpError(.missing, field: "a=ice-ufrag", line: line, reason: "the transport section (\(name)) has no a=ice-ufrag, at media or session level")
            }
            guard let password = section.password else {
                throw SdpError(.missing, field: "a=ice-pwd", line: line, reason: "the transport section (\(name)) has no a=ice-pwd, at media or session level")
            }
            let dtlsDescription = try DtlsDescription(parsing: sdp)
            guard dtlsDescription.media.indices.contains(anchor) else {
                throw SdpError(.malformed, field: "m=", line: line, reason: "the transport section (\(name)) was not found by the DTLS reader")
            }
            let values = dtlsDescription.media[anchor]
            guard !values.fingerprints.isEmpty else {
                throw SdpError(.missing, field: "a=fingerprint", line: line, reason: "the transport section (\(name)) has no a=fingerprint, at media or session level")
            }
            guard let role = values.role else {
                throw SdpError(.missing, field: "a=setup", line: line, reason: "the transport section (\(name)) has no a=setup, at media or session level")
            }
            self.data = nil
            self.credentials = IceParameters(usernameFragment: usernameFragment, password: password)
            self.dtls = DtlsParameters(role: role, fingerprints: values.fingerprints)
            self.iceLite = ice.iceLite
            self.anchorIndex = anchor
            self.mediaLines = mediaLines
            self.media = media
            self.transportIndex = anchor
        }
    }

    /// The anchor of a description without a data section: the first audio or video section
    /// with a port in the first BUNDLE group that has one, else the first such section.
    static func anchor(ice: IceDescription, media: [Int: MediaDescription]) throws(SdpError) -> Int {
        guard !media.isEmpty else {
            throw SdpError(
                .unsupported, field: "m=application",
                reason: "the description has no data-channel section (m=application … UDP/DTLS/SCTP webrtc-datachannel) and no audio or video section")
        }
        func usable(_ index: Int) -> Bool {
            ice.media.indices.contains(index) && media[index] != nil && ice.media[index].port != 0
        }
        for group in ice.bundleGroups {
            for mid in group {
                if let index = ice.media.firstIndex(where: { $0.mid == mid }), usable(index) { return index }
            }
        }
        if let index = ice.media.indices.first(where: usable) { return index }
        throw SdpError(
            .unsupported, field: "m=",
            reason: "every audio and video section is rejected (port 0) or bundle-only, and there is no data section: nothing carries the transport")
    }

    /// The BUNDLE group of the session's one transport: the one that has the anchor section (the
    /// data section when there is one); nil when the anchor is not bundled.
    var transportGroup: [String]? {
        guard mids.indices.contains(anchorIndex), let mid = mids[anchorIndex] else { return nil }
        return ice.bundleGroups.first { $0.contains(mid) }
    }

    /// The mids that may share the transport: the transport's BUNDLE group, or the anchor section
    /// alone when it is not bundled. Sections outside it are rejected (one transport, max-bundle).
    var transportMids: Set<String> {
        if let group = transportGroup { return Set(group) }
        guard mids.indices.contains(anchorIndex), let mid = mids[anchorIndex] else { return [] }
        return [mid]
    }

    /// The m-line index of the first mid of the transport's BUNDLE group among `accepted` (all of
    /// the group when nil) that names a section; the data section always counts as accepted.
    func bundleTag(of accepted: Set<Int>?) -> Int? {
        for mid in transportGroup ?? [] {
            guard let index = mids.firstIndex(of: mid) else { continue }
            if index == data?.mLineIndex || accepted?.contains(index) ?? true { return index }
        }
        return nil
    }

    /// The transport section's ICE values, its candidates (each with the transport's mid and
    /// index) and whether it ended them; the anchor section's when the transport section has no
    /// credentials of its own.
    var transport: (ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool) {
        if transportIndex != anchorIndex, ice.media.indices.contains(transportIndex), let parameters = ice.media[transportIndex].parameters {
            let section = ice.media[transportIndex]
            return (parameters, section.candidates, section.endOfCandidates)
        }
        if let data { return (data.ice, data.candidates, data.endOfCandidates) }
        let section = ice.media[anchorIndex]
        return (credentials, section.candidates, section.endOfCandidates)
    }

    /// The transport section's mid.
    var transportMid: String? { mids.indices.contains(transportIndex) ? mids[transportIndex] : nil }

    /// The sections other than the data section, as a later offer repeats them (rejected).
    var otherSections: [DataChannelOffer.RejectedSection] {
        mediaLines.indices.compactMap { index in
            guard index != data?.mLineIndex else { return nil }
            let line = mediaLines[index]
            return DataChannelOffer.RejectedSection(
                kind: line.kind, proto: line.proto, format: line.firstFormat, mid: mids.indices.contains(index) ? mids[index] : nil)
        }
    }
}
