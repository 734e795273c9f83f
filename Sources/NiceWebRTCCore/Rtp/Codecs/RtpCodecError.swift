/// A typed error of the codec payload layer (packetizers, depacketizers, payload descriptors):
/// what was wrong, and with which field.
public struct RtpCodecError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The bytes end before a field that must be there (a payload descriptor, a STAP-A size,
        /// an FU header, the payload itself).
        case truncated
        /// A field holds a value the format does not allow (a 7-bit picture ID above 127, an FU-A
        /// with both its start and end bits, a NAL unit type where it may not appear).
        case invalidValue
        /// A well-formed structure this implementation does not handle (H.264 STAP-B, MTAP, FU-B:
        /// packetization mode 1 only).
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

    public var code: Code
    /// The field concerned (`S`, `PID`, `pictureID`, `nalUnitType`, `stapASize`, `fuHeader`,
    /// `sequenceNumber`, `frame`, `maximumPayloadSize`, …).
    public var field: String
    /// What was wrong, for a human.
    public var reason: String

    public init(_ code: Code, field: String, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public var description: String {
        "RtpCodecError.\(code.rawValue) (\(field)): \(reason)"
    }
}
