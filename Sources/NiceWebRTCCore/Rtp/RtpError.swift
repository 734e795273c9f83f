/// A typed error of the RTP and RTCP codecs and of the codec payload layer (packetizers,
/// depacketizers, payload descriptors): what was wrong, and with which field.
///
/// Every parser in `Rtp/` throws only this error, never traps, and reads no further than the
/// bytes it was given; every writer throws it for a value that does not fit its wire field.
public struct RtpError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of problem.
    public enum Code: String, Sendable, Hashable {
        /// The input ends before the field (a header, a list, an element, a payload descriptor, a
        /// STAP-A size, an FU header, the payload itself) is complete.
        case truncated
        /// The version field is not 2 (RFC 3550 §5.1, §6.4.1).
        case badVersion
        /// A length or count field disagrees with the bytes that are present.
        case badLength
        /// A field holds a value the protocol forbids (an extension id 0 with a length, a zero
        /// padding count, a REMB bitrate that overflows, a 7-bit picture ID above 127, an FU-A
        /// with both its start and end bits, a NAL unit type where it may not appear, …).
        case invalidValue
        /// Writing: a value or list does not fit its wire field (more than 15 CSRCs, more than
        /// 31 report blocks, a packet longer than the 16-bit length field, …).
        case tooLarge
        /// A well-formed payload structure this implementation does not handle (H.264 STAP-B,
        /// MTAP, FU-B: packetization mode 1 only).
        case unsupported
        /// The packets of a frame do not fit together: a sequence gap, the frame's first packet
        /// missing, a fragmented NAL unit without its start or end, packets of two timestamps.
        case fragmentation
        /// The payload size limit is too small for the codec's headers and one byte of data, or a
        /// frame that must fit one packet does not.
        case payloadLimit
        /// The frame would exceed the size limit it is assembled under.
        case frameTooLarge
    }

    /// What kind of problem.
    public var code: Code
    /// The field concerned (`version`, `CSRC list`, `header extension`, `RTCP length`, `S`, `PID`,
    /// `pictureID`, `nalUnitType`, `stapASize`, `fuHeader`, `sequenceNumber`, `frame`,
    /// `maximumPayloadSize`, …).
    public var field: String
    /// What was wrong, for a human.
    public var reason: String

    /// An error of `code` about `field`.
    public init(_ code: Code, field: String, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public var description: String { "RtpError.\(code.rawValue) (\(field)): \(reason)" }
}
