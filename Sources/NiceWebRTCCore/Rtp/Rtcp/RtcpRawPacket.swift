/// An RTCP packet we do not type (APP, XR, unknown feedback formats), kept byte for byte.
public struct RtcpRawPacket: Sendable, Hashable {
    /// The whole packet: header, body and padding.
    public let bytes: [UInt8]

    /// A raw packet from its bytes, checked: at least a header, version 2, and a length field
    /// that matches the byte count.
    public init(_ bytes: [UInt8]) throws(RtpError) {
        guard bytes.count >= 4 else { throw RtpError(.truncated, field: "RTCP header", reason: "\(bytes.count) bytes") }
        guard bytes[0] >> 6 == 2 else { throw RtpError(.badVersion, field: "RTCP version", reason: "version \(bytes[0] >> 6), not 2") }
        guard ((Int(bytes[2]) << 8 | Int(bytes[3])) + 1) * 4 == bytes.count else {
            throw RtpError(.badLength, field: "RTCP length", reason: "length field disagrees with \(bytes.count) bytes")
        }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The packet type (second byte).
    public var packetType: UInt8 { bytes[1] }
    /// The 5-bit count or feedback format.
    public var count: UInt8 { bytes[0] & 0x1F }
}
