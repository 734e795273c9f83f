/// A typed error of the RTP and RTCP codecs: what was wrong, and with which field.
///
/// Every parser in `Rtp/` throws only this error, never traps, and reads no further than the
/// bytes it was given; every writer throws it for a value that does not fit its wire field.
public struct RtpError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of problem.
    public enum Code: String, Sendable, Hashable {
        /// The input ends before the field (a header, a list, an element) is complete.
        case truncated
        /// The version field is not 2 (RFC 3550 §5.1, §6.4.1).
        case badVersion
        /// A length or count field disagrees with the bytes that are present.
        case badLength
        /// A field holds a value the protocol forbids (an extension id 0 with a length, a zero
        /// padding count, a REMB bitrate that overflows, …).
        case invalidValue
        /// Writing: a value or list does not fit its wire field (more than 15 CSRCs, more than
        /// 31 report blocks, a packet longer than the 16-bit length field, …).
        case tooLarge
    }

    /// What kind of problem.
    public var code: Code
    /// The field concerned (`version`, `CSRC list`, `header extension`, `RTCP length`, …).
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
