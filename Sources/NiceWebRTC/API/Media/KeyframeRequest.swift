/// Why the peer asked the sender of a ``LocalTrack`` for a keyframe.
public enum KeyframeRequest: Sendable, Hashable {
    /// Picture Loss Indication (RFC 4585 §6.3.1).
    case pli
    /// Full Intra Request (RFC 5104 §4.3.1).
    case fir
}
