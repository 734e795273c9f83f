import NiceICECore

extension Negotiation {
    /// W3C `addIceCandidate`'s checks, in W3C's order, and where the candidate goes.
    ///
    /// - A candidate for the transport's section (the first accepted section of the BUNDLE
    ///   group: of the data section's group, or in a media-only session of the first audio or
    ///   video section's; the data section itself without media) of the current remote generation is
    ///   ``CandidateRoute/add(_:)`` (with that section's mid and index); "" is
    ///   ``CandidateRoute/endOfCandidates``.
    /// - One for another section (rejected by our answer, or a transport the offerer drops), or
    ///   of an earlier ICE generation (its `usernameFragment`, or the `ufrag` attribute browsers
    ///   add to the line, names an earlier remote ufrag) is ``CandidateRoute/ignore(reason:)``.
    ///
    /// - Throws: ``PeerConnectionError``: `invalidState` when closed or without a remote
    ///   description (the runtime queues candidates until one is applied, W3C's operations
    ///   chain); `typeError` for a candidate with neither `sdpMid` nor `sdpMLineIndex`;
    ///   `operationError` for a mid no section has, an index out of range, a
    ///   `usernameFragment` no applied remote description gave that section, or a candidate
    ///   line that does not parse (field `candidate`).
    public func route(_ candidate: IceCandidateInit) throws(PeerConnectionError) -> CandidateRoute {
        guard signalingState != .closed else { throw Self.closedError("addIceCandidate") }
        if !candidate.isEndOfCandidates, candidate.sdpMid == nil, candidate.sdpMLineIndex == nil {
            throw PeerConnectionError(.typeError, field: "sdpMid", reason: "a candidate needs sdpMid or sdpMLineIndex")
        }
        guard let remote = pendingRemote ?? currentRemote else {
            throw PeerConnectionError(.invalidState, reason: "addIceCandidate before a remote description was applied")
        }
        var section: Int?
        if let mid = candidate.sdpMid {
            guard let index = remote.mids.firstIndex(of: mid) else {
                throw PeerConnectionError(
                    .operationError, field: "sdpMid", reason: "no media section of the remote description has mid \(SessionLines.excerpt(mid))")
            }
            section = index
        } else if let index = candidate.sdpMLineIndex {
            guard remote.mids.indices.contains(index) else {
                throw PeerConnectionError(
                    .operationError, field: "sdpMLineIndex",
                    reason: "m-line index \(index) is out of range: the remote description has \(remote.mids.count) media sections")
            }
            section = index
        }
        if let ufrag = candidate.usernameFragment, let section {
            let known = remoteUfrags[Self.sectionKey(mid: remote.mids[section], index: section)] ?? []
            guard known.contains(ufrag) || remote.ufrags[section] == ufrag else {
                throw PeerConnectionError(
                    .operationError, field: "usernameFragment",
                    reason: "no applied remote description has ufrag \(SessionLines.excerpt(ufrag)) for this section")
            }
        }
        var parsed: IceCandidate?
        if !candidate.isEndOfCandidates {
            let text = candidate.candidate
            let line = text.hasPrefix("candidate:") || text.hasPrefix("a=candidate:") ? text : "candidate:" + text
            do {
                parsed = try IceCandidate(parsing: line)
            } catch {
                throw PeerConnectionError(.operationError, field: "candidate", reason: "the candidate does not parse: \(error.reason) (\(error.field ?? "candidate"))")
            }
        }
        if let section, section != remote.transportIndex {
            return .ignore(reason: "m-line \(section) is not the transport's section: its transport is not ours (rejected or dropped)")
        }
        let current = remoteIce ?? remote.transport.ice
        let generation = candidate.usernameFragment ?? parsed?.extensions.first { $0.name == "ufrag" }?.value
        if let generation, generation != current.usernameFragment {
            return .ignore(reason: "ufrag \(SessionLines.excerpt(generation)) is an earlier ICE generation")
        }
        guard var parsed else { return .endOfCandidates }
        parsed.sdpMid = remote.transportMid
        parsed.sdpMLineIndex = remote.transportIndex
        return .add(parsed)
    }
}
