import NiceICECore

/// Where a remote trickled candidate goes, as ``Negotiation/route(_:)`` decides it.
public enum CandidateRoute: Sendable, Hashable {
    /// A candidate for our transport: give it to the ICE agent (its `sdpMid` and
    /// `sdpMLineIndex` are set to the transport section's: the data section in a data-only
    /// session, the first accepted section of the BUNDLE group otherwise).
    case add(IceCandidate)
    /// The end-of-candidates indication (candidate "") for the current remote generation.
    case endOfCandidates
    /// Not for our transport: another ICE generation (a stale ufrag) or a section we rejected.
    /// W3C resolves `addIceCandidate` without an error in these cases.
    case ignore(reason: String)
}
