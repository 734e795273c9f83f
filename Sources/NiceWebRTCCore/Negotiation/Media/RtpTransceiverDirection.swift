/// The direction of an RTP transceiver or media section (W3C `RTCRtpTransceiverDirection`; the
/// SDP attributes `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`, RFC 3264 §5.1), always
/// from the point of view of the side that wrote it.
public enum RtpTransceiverDirection: String, Sendable, Hashable, CaseIterable {
    /// Sends and receives.
    case sendrecv
    /// Sends only.
    case sendonly
    /// Receives only.
    case recvonly
    /// Neither sends nor receives.
    case inactive

    /// Creates the direction from its two halves.
    public init(send: Bool, receive: Bool) {
        switch (send, receive) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    /// Whether this side sends.
    public var sends: Bool { self == .sendrecv || self == .sendonly }
    /// Whether this side receives.
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The same section seen from the other side: sendonly ↔ recvonly.
    public var reversed: RtpTransceiverDirection { RtpTransceiverDirection(send: receives, receive: sends) }

    /// What both allow: send only if both send, receive only if both receive.
    public func intersection(_ other: RtpTransceiverDirection) -> RtpTransceiverDirection {
        RtpTransceiverDirection(send: sends && other.sends, receive: receives && other.receives)
    }

    /// JSEP (RFC 8829 §5.3.1): the direction an answer writes for a section offered with
    /// `offered` when our transceiver wants `local`: send only if we want to and the offerer
    /// receives, receive only if we want to and the offerer sends.
    ///
    /// ```swift
    /// RtpTransceiverDirection.answering(.sendrecv, local: .sendrecv)   // .sendrecv
    /// RtpTransceiverDirection.answering(.sendonly, local: .sendrecv)   // .recvonly
    /// RtpTransceiverDirection.answering(.recvonly, local: .recvonly)   // .inactive
    /// ```
    public static func answering(_ offered: RtpTransceiverDirection, local: RtpTransceiverDirection) -> RtpTransceiverDirection {
        local.intersection(offered.reversed)
    }
}
