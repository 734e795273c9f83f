/// An RTCP goodbye (BYE, PT 203; RFC 3550 §6.6): the sources leaving and an optional reason.
public struct RtcpGoodbye: Sendable, Hashable {
    /// At most 31.
    public var sources: [UInt32]
    /// Up to 255 bytes of (UTF-8) text; `nil` for none.
    public var reason: [UInt8]?

    /// A BYE for `sources` with an optional reason in bytes.
    public init(sources: [UInt32], reason: [UInt8]? = nil) {
        self.sources = sources
        self.reason = reason
    }

    /// A BYE for `sources` with a text reason.
    public init(sources: [UInt32], reason: String) { self.init(sources: sources, reason: Array(reason.utf8)) }

    /// The reason as text (invalid UTF-8 repaired).
    public var reasonText: String? { reason.map { String(decoding: $0, as: UTF8.self) } }

    init(count: UInt8, body r: inout RtpWireReader) throws(RtpError) {
        guard 4 * Int(count) <= r.remaining else {
            throw RtpError(.badLength, field: "BYE source count", reason: "\(count) sources need \(4 * Int(count)) bytes, \(r.remaining) left")
        }
        sources = []
        for _ in 0..<count { sources.append(try r.u32("BYE source")) }
        if r.remaining > 0 {
            let length = Int(try r.u8("BYE reason"))
            reason = try r.take(length, "BYE reason")
        } else {
            reason = nil
        }
    }

    /// The wire form.
    public func serialized() throws(RtpError) -> [UInt8] {
        let count = try RtcpFraming.count(sources.count, "BYE source count")
        var w = RtpWireWriter()
        for source in sources { w.u32(source) }
        if let reason {
            guard reason.count <= 255 else { throw RtpError(.tooLarge, field: "BYE reason", reason: "\(reason.count) bytes, at most 255") }
            w.u8(UInt8(reason.count))
            w.append(reason)
            w.alignWithZeros()
        }
        return try RtcpFraming.frame(count: count, type: RtcpPacket.PacketType.goodbye, body: w.bytes, field: "BYE source count")
    }
}
