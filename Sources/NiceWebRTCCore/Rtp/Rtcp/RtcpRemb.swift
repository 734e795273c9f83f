/// A receiver estimated maximum bitrate (REMB; draft-alvestrand-rmcat-remb-03; PT 206, FMT 15,
/// identifier "REMB"): a bitrate as an 18-bit mantissa and a 6-bit exponent, and the SSRCs it
/// applies to.
public struct RtcpRemb: Sendable, Hashable {
    static let format: UInt8 = 15
    static let identifier: [UInt8] = Array("REMB".utf8)

    /// The SSRC of the packet's sender.
    public var senderSsrc: UInt32
    /// 0 by the draft; kept as read.
    public var mediaSsrc: UInt32
    /// 18 bits.
    public var mantissa: UInt32
    /// 6 bits.
    public var exponent: UInt8
    /// At most 255.
    public var ssrcs: [UInt32]

    /// A REMB for `bitrate` bits per second, rounded down to what the mantissa and the smallest
    /// exponent that fits can express (as libwebrtc).
    public init(senderSsrc: UInt32, mediaSsrc: UInt32 = 0, bitrate: UInt64, ssrcs: [UInt32]) {
        var exponent: UInt8 = 0
        while bitrate >> exponent >= 1 << 18 { exponent += 1 }
        self.init(senderSsrc: senderSsrc, mediaSsrc: mediaSsrc, mantissa: UInt32(bitrate >> exponent), exponent: exponent, ssrcs: ssrcs)
    }

    /// A REMB from its wire fields.
    public init(senderSsrc: UInt32, mediaSsrc: UInt32 = 0, mantissa: UInt32, exponent: UInt8, ssrcs: [UInt32]) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
        self.mantissa = mantissa
        self.exponent = exponent
        self.ssrcs = ssrcs
    }

    /// The bitrate in bits per second, `UInt64.max` when mantissa << exponent overflows.
    public var bitrate: UInt64 {
        guard mantissa != 0 else { return 0 }
        let m = UInt64(mantissa)
        guard exponent < 64, m.leadingZeroBitCount >= Int(exponent) else { return .max }
        return m << UInt64(exponent)
    }

    /// Whether the FCI starts with the "REMB" identifier (other FMT 15 messages stay raw).
    static func isRemb(_ r: RtpWireReader) -> Bool {
        r.remaining >= 12 && Array(r.bytes[r.offset + 8..<r.offset + 12]) == identifier
    }

    init(body r: inout RtpWireReader) throws(RtpError) {
        senderSsrc = try r.u32("feedback SSRCs")
        mediaSsrc = try r.u32("feedback SSRCs")
        try r.skip(4, "REMB identifier")
        let count = Int(try r.u8("REMB"))
        let bits = try r.u24("REMB")
        exponent = UInt8(bits >> 18)
        mantissa = bits & 0x3_FFFF
        guard 4 * count <= r.remaining else {
            throw RtpError(.badLength, field: "REMB SSRC count", reason: "\(count) SSRCs need \(4 * count) bytes, \(r.remaining) left")
        }
        ssrcs = []
        ssrcs.reserveCapacity(count)
        for _ in 0..<count { ssrcs.append(try r.u32("REMB SSRC")) }
    }

    /// The wire form.
    public func serialized() throws(RtpError) -> [UInt8] {
        guard mantissa < 1 << 18 else { throw RtpError(.invalidValue, field: "REMB mantissa", reason: "\(mantissa) is wider than 18 bits") }
        guard exponent < 64 else { throw RtpError(.invalidValue, field: "REMB exponent", reason: "\(exponent) is wider than 6 bits") }
        guard ssrcs.count <= 255 else { throw RtpError(.tooLarge, field: "REMB SSRC count", reason: "\(ssrcs.count) SSRCs, at most 255") }
        var w = RtpWireWriter(capacity: 16 + 4 * ssrcs.count)
        w.u32(senderSsrc)
        w.u32(mediaSsrc)
        w.append(Self.identifier)
        w.u8(UInt8(ssrcs.count))
        w.u24(UInt32(exponent) << 18 | mantissa)
        for ssrc in ssrcs { w.u32(ssrc) }
        return try RtcpFraming.frame(count: Self.format, type: RtcpPacket.PacketType.payloadFeedback, body: w.bytes, field: "REMB")
    }
}
