import NiceICECore

/// What the runtime must do after ``Negotiation`` applied a description, in the order given.
///
/// ```swift
/// for effect in try negotiation.setRemoteDescription(offer) {
///     switch effect {
///     case .startIce(let role): …
///     case .setRemoteIce(let parameters, let candidates, let end, let lite): …
///     …
///     }
/// }
/// ```
public enum NegotiationEffect: Sendable, Hashable {
    /// The first description was applied: run ICE in this role. A local offer makes us
    /// controlling, a remote offer controlled, except when exactly one side is ICE-lite: the
    /// full agent controls (RFC 8445 §6.1.1).
    case startIce(role: IceRole)
    /// A local description with new credentials (a restart we offered, or our answer to a
    /// remote restart) was applied: the agent must now use these credentials.
    case useLocalIce(IceParameters)
    /// The remote ICE parameters (first time, or new ones: a remote restart), the candidates
    /// in the description, whether it ended them, and whether the peer is ICE-lite.
    case setRemoteIce(IceParameters, candidates: [IceCandidate], endOfCandidates: Bool, lite: Bool)
    /// The DTLS role is decided (an answer was applied, local or remote) and the remote
    /// fingerprints are known: start DTLS in this role.
    case startDtls(role: DtlsRole, remote: DtlsParameters)
    /// The remote SCTP port and `a=max-message-size` (0 = no limit), from the data section.
    case startSctp(remotePort: UInt16, remoteMaxMessageSize: Int)
}
