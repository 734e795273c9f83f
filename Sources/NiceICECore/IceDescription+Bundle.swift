/// Looking media sections up by mid, following BUNDLE to the shared transport, and offer/answer roles.
extension IceDescription {
    /// The media section whose `a=mid` is `mid`, or nil.
    public func media(mid: String) -> Media? {
        media.first { $0.mid == mid }
    }

    /// The BUNDLE group (from ``bundleGroups``) that contains `mid`, or nil when `mid` is not bundled.
    public func bundleGroup(containing mid: String) -> [String]? {
        bundleGroups.first { $0.contains(mid) }
    }

    /// The media section whose ICE values describe the transport that the section `mid` is sent on.
    ///
    /// For a bundled mid, its BUNDLE group's tagged section (the group's first mid): all sections
    /// of a group share that section's transport (RFC 8843), so its ufrag, password and candidates
    /// are the transport's. For a mid outside every BUNDLE group, the section itself. Nil when no
    /// section has that mid.
    ///
    /// ```swift
    /// let offer = try IceDescription(parsing: chromeOffer)  // a=group:BUNDLE 0 1 2
    /// offer.transportMedia(for: "2")?.mid                    // "0"
    /// offer.transportMedia(for: "2")?.parameters             // mid 0's ufrag and password
    /// ```
    public func transportMedia(for mid: String) -> Media? {
        guard media(mid: mid) != nil else { return nil }
        return media(mid: bundleGroup(containing: mid)?.first ?? mid)
    }

    /// The media section a trickled candidate belongs to, found as W3C `addIceCandidate` does:
    /// by ``IceCandidate/sdpMid`` when it is set, otherwise by ``IceCandidate/sdpMLineIndex``.
    ///
    /// - Throws: ``IceError`` with code ``IceError/Code/invalidCandidate`` and field `"sdpMid"`
    ///   when the mid names no section or neither value is set, or `"sdpMLineIndex"` when the
    ///   index is out of range.
    public func media(for candidate: IceCandidate) throws(IceError) -> Media {
        media[try candidate.mediaIndex(in: media.map(\.mid))]
    }

    /// The ICE role of the agent that answers this offer (RFC 8445 §6.1.1, W3C `RTCIceRole`).
    ///
    /// The offerer is controlling and the answerer controlled, except when the offer has
    /// `a=ice-lite` and the answerer is a full agent: then the answerer controls. An ICE-lite
    /// answerer is always controlled.
    ///
    /// - Parameter iceLite: Whether the answerer is an ICE-lite agent.
    public func answererRole(iceLite: Bool = false) -> IceRole {
        self.iceLite && !iceLite ? .controlling : .controlled
    }
}

extension IceCandidate {
    /// The index in `mids` (the mids of an SDP's media sections, in order) of the section this
    /// candidate belongs to: by ``sdpMid`` when set, otherwise by ``sdpMLineIndex`` (W3C
    /// `addIceCandidate`).
    func mediaIndex(in mids: [String?]) throws(IceError) -> Int {
        if let sdpMid {
            guard let index = mids.firstIndex(of: sdpMid) else {
                throw IceError(
                    .invalidCandidate,
                    field: "sdpMid",
                    reason: "no media section has mid \(CandidateGrammar.excerpt(Array(sdpMid.utf8)[...]))"
                )
            }
            return index
        }
        guard let sdpMLineIndex else {
            throw IceError(.invalidCandidate, field: "sdpMid", reason: "a trickled candidate needs sdpMid or sdpMLineIndex")
        }
        guard mids.indices.contains(sdpMLineIndex) else {
            throw IceError(
                .invalidCandidate,
                field: "sdpMLineIndex",
                reason: "m-line index \(sdpMLineIndex) is out of range: the description has \(mids.count) media section\(mids.count == 1 ? "" : "s")"
            )
        }
        return sdpMLineIndex
    }
}
