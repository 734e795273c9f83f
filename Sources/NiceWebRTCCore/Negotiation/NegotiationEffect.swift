import NiceICECore

/// What the runtime must do after ``Negotiation`` applied a description, in the order given.
///
/// When each comes:
///
/// | call | effects |
/// |---|---|
/// | first local offer | `startIce(.controlling)` (`.controlled` if we are ICE-lite) |
/// | first remote offer | `startIce(.controlled)` (`.controlling` against an ICE-lite offerer), `setRemoteIce` |
/// | first answer, local | `startDtls(.client, remote: the offer's)`, `startSctp` (only with a data section) |
/// | first answer, remote | `setRemoteIce`, `startDtls(.server, …)` (opposite of the answer's role), `startSctp` (only with a data section) |
/// | the answer that adds a data section to a media-only session | `startSctp` |
/// | pranswer | as an answer for ICE (`useLocalIce` / `setRemoteIce`); DTLS and SCTP wait for the answer |
/// | our restart offer | `startIce(.controlling)` if we were controlled, `useLocalIce(new)` |
/// | a remote restart offer | `startIce(.controlled)` if we were controlling, `setRemoteIce(new)`; our answer: `useLocalIce(new)` |
/// | re-offer or answer, no restart | nothing |
/// | rollback | what undoes the offer: `startIce(previous role)`, `useLocalIce(previous)`, `setRemoteIce(previous, the current remote description's candidates)` |
///
/// `startIce` thus comes again only with the other role (a restart offered by the other side
/// than the last one, RFC 8839: a restart decides the roles again, as the first exchange did; a rollback; the first offer after the first one
/// was rolled back): the runtime sets the agent's role (libnice's `controlling-mode`).
/// `startDtls` and `startSctp` come once per session: a re-negotiation keeps the DTLS
/// association (a description that would need a new one is refused). `startSctp` comes with the
/// first completed exchange that has a data section: never in a media-only session (WHIP,
/// WHEP), and in a later exchange (after `startDtls`, possibly with DTLS connected already)
/// when a renegotiation adds a data section to a media-only session.
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
    /// The remote SCTP port and `a=max-message-size` (0 = no limit), from the data section:
    /// start SCTP over the DTLS transport. Only when an exchange negotiated a data section.
    case startSctp(remotePort: UInt16, remoteMaxMessageSize: Int)
}
