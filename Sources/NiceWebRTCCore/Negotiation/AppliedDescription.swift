import NiceICECore

/// A description ``Negotiation`` applied, with what it read from it: the data transport's
/// values, every section's mid and ufrag (for candidate routing), the `m=` lines (for the
/// rejected sections a later offer repeats), the audio and video sections, and which section
/// carries the session's one transport (the BUNDLE tag).
struct AppliedDescription: Sendable, Hashable {
    /// The description as given (a local one as created).
    var description: SessionDescription
    /// The data section's transport values.
    var data: DataChannelRemoteDescription
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
    /// the first mid of the BUNDLE group that has the data section (for a remote offer: of the
    /// group our answer keeps), else the data section.
    var transportIndex: Int
    /// For a remote offer: the audio and video sections our answer accepts, by m-line index,
    /// with the local transceiver that takes each.
    var answerPlan: [Int: Int] = [:]

    /// Reads `description`.
    ///
    /// - Throws: The readers' ``SdpError``.
    init(_ description: SessionDescription) throws(SdpError) {
        let parsed = try DataChannelRemoteDescription.read(description.sdp)
        self.description = description
        self.data = parsed.remote
        self.mids = parsed.ice.media.map(\.mid)
        self.ufrags = parsed.ice.media.map(\.usernameFragment)
        self.mediaLines = parsed.mediaLines
        self.ice = parsed.ice
        self.media = try MediaDescription.sections(of: description.sdp)
        self.transportIndex = parsed.remote.mLineIndex
        self.transportIndex = bundleTag(of: nil) ?? parsed.remote.mLineIndex
    }

    /// The BUNDLE group that has the data section, nil when it is not bundled.
    var dataGroup: [String]? {
        data.mid.flatMap { mid in ice.bundleGroups.first { $0.contains(mid) } }
    }

    /// The m-line index of the first mid of the data section's BUNDLE group among `accepted`
    /// (all of the group when nil) that names a section.
    func bundleTag(of accepted: Set<Int>?) -> Int? {
        for mid in dataGroup ?? [] {
            guard let index = mids.firstIndex(of: mid) else { continue }
            if index == data.mLineIndex || accepted?.contains(index) ?? true { return index }
        }
        return nil
    }

    /// The transport section's ICE values, its candidates (each with the transport's mid and
    /// index) and whether it ended them; the data section's when the transport section has no
    /// credentials of its own.
    var transport: (ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool) {
        guard transportIndex != data.mLineIndex, ice.media.indices.contains(transportIndex),
            let parameters = ice.media[transportIndex].parameters
        else { return (data.ice, data.candidates, data.endOfCandidates) }
        let section = ice.media[transportIndex]
        return (parameters, section.candidates, section.endOfCandidates)
    }

    /// The transport section's mid.
    var transportMid: String? { mids.indices.contains(transportIndex) ? mids[transportIndex] : data.mid }

    /// The sections other than the data section, as a later offer repeats them (rejected).
    var otherSections: [DataChannelOffer.RejectedSection] {
        mediaLines.indices.compactMap { index in
            guard index != data.mLineIndex else { return nil }
            let line = mediaLines[index]
            return DataChannelOffer.RejectedSection(
                kind: line.kind, proto: line.proto, format: line.firstFormat, mid: mids.indices.contains(index) ? mids[index] : nil)
        }
    }
}
