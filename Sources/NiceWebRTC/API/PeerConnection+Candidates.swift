import NiceICE
import NiceWebRTCCore

extension PeerConnection {
    /// W3C `addIceCandidate(_:)`: a candidate the peer trickled, routed by its `sdpMid` /
    /// `sdpMLineIndex` and `usernameFragment`; a candidate `""` or nil is the end of the peer's
    /// candidates. Candidates given before the remote description are kept (at most 1,024) and
    /// applied in order once it is set (one refused then is logged, as this call has returned),
    /// and so is a candidate whose `usernameFragment` no remote description announced yet (a
    /// restart's candidates that overtook its offer on the way);
    /// one of an earlier ICE generation, or for a section we rejected, is ignored without an
    /// error, as W3C says.
    ///
    /// - Throws: ``PeerConnectionError``: `TypeError` for a candidate with neither `sdpMid` nor
    ///   `sdpMLineIndex`, `OperationError` for an unknown mid, an index out of range, a line that
    ///   does not parse or an address ICE refuses, `InvalidStateError` when closed.
    public func addIceCandidate(_ candidate: IceCandidateInit?) async throws(PeerConnectionError) {
        try core.addCandidate(candidate)
    }
}
