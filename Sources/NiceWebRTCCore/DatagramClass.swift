/// RFC 7983 §7: what a datagram on an ICE component is, by its first byte.
public enum DatagramClass: Sendable, Hashable {
    /// 0–3: STUN (libnice consumes these before they reach us).
    case stun
    /// 16–19: ZRTP.
    case zrtp
    /// 20–63: a DTLS record.
    case dtls
    /// 64–79: a TURN channel message.
    case turnChannel
    /// 128–191: RTP or RTCP.
    case rtp
    /// Anything else, and the empty datagram.
    case unknown

    /// Classifies by the first byte.
    public init(firstByteOf bytes: UnsafeRawBufferPointer) {
        guard let b = bytes.first else {
            self = .unknown
            return
        }
        switch b {
        case 0...3: self = .stun
        case 16...19: self = .zrtp
        case 20...63: self = .dtls
        case 64...79: self = .turnChannel
        case 128...191: self = .rtp
        default: self = .unknown
        }
    }
}
