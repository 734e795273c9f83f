/// The offer/answer state of a session (W3C `RTCSignalingState`, RFC 8829 §3.2).
///
/// ```text
/// stable ──setLocal(offer)──▶ have-local-offer ──setRemote(pranswer)──▶ have-remote-pranswer
///    ▲                              │                                          │
///    └──────── setRemote(answer) ◀──┴──────────── setRemote(answer) ◀─────────┘
/// stable ──setRemote(offer)─▶ have-remote-offer ─setLocal(pranswer)──▶ have-local-pranswer
///    ▲                              │                                          │
///    └──────── setLocal(answer) ◀───┴──────────── setLocal(answer) ◀──────────┘
/// rollback: have-local-offer / have-remote-offer → stable; close(): any → closed
/// ```
public enum SignalingState: String, Sendable, Hashable, CaseIterable {
    /// No offer/answer exchange in progress (W3C `"stable"`).
    case stable
    /// We applied an offer of ours and wait for the answer (W3C `"have-local-offer"`).
    case haveLocalOffer = "have-local-offer"
    /// We applied the peer's offer and owe an answer (W3C `"have-remote-offer"`).
    case haveRemoteOffer = "have-remote-offer"
    /// We answered the peer's offer provisionally (W3C `"have-local-pranswer"`).
    case haveLocalPranswer = "have-local-pranswer"
    /// The peer answered our offer provisionally (W3C `"have-remote-pranswer"`).
    case haveRemotePranswer = "have-remote-pranswer"
    /// The session was closed; every call throws ``PeerConnectionError/Code/invalidState``
    /// (W3C `"closed"`).
    case closed
}
