/// The RTCP common header (RFC 3550 §6.4.1) around a body: version 2, the 5-bit count or FMT,
/// the packet type, the length in 32-bit words minus one. A body that is not a multiple of 4
/// bytes is padded with the P bit and a final count octet (as libwebrtc pads transport-cc).
enum RtcpFraming {
    static func frame(count: UInt8, type: UInt8, body: [UInt8], field: String) throws(RtpError) -> [UInt8] {
        guard count < 32 else { throw RtpError(.tooLarge, field: field, reason: "count \(count) is wider than 5 bits") }
        let padding = (4 - body.count % 4) % 4
        let total = 4 + body.count + padding
        guard total / 4 - 1 <= Int(UInt16.max) else {
            throw RtpError(.tooLarge, field: "RTCP length", reason: "\(total) bytes do not fit the length field")
        }
        var w = RtpWireWriter(capacity: total)
        w.u8(2 << 6 | (padding > 0 ? 0x20 : 0) | count)
        w.u8(type)
        w.u16(UInt16(total / 4 - 1))
        w.append(body)
        if padding > 0 {
            w.append([UInt8](repeating: 0, count: padding - 1))
            w.u8(UInt8(padding))
        }
        return w.bytes
    }

    /// A list count that must fit the 5-bit field.
    static func count(_ n: Int, _ field: String) throws(RtpError) -> UInt8 {
        guard n <= 31 else { throw RtpError(.tooLarge, field: field, reason: "\(n) entries, at most 31") }
        return UInt8(n)
    }
}
