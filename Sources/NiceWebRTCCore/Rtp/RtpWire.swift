/// Bounded big-endian reads over a byte array: every read checks the end first and throws a
/// ``RtpError/Code/truncated`` error naming the field instead of trapping.
struct RtpWireReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.offset = start
        self.end = end
    }

    var remaining: Int { end - offset }

    mutating func need(_ count: Int, _ field: String) throws(RtpError) {
        guard count >= 0, count <= remaining else {
            throw RtpError(.truncated, field: field, reason: "needs \(count) bytes, \(remaining) left")
        }
    }

    mutating func u8(_ field: String) throws(RtpError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ field: String) throws(RtpError) -> UInt16 {
        try need(2, field)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u24(_ field: String) throws(RtpError) -> UInt32 {
        try need(3, field)
        defer { offset += 3 }
        return UInt32(bytes[offset]) << 16 | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2])
    }

    mutating func u32(_ field: String) throws(RtpError) -> UInt32 {
        try need(4, field)
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    mutating func u64(_ field: String) throws(RtpError) -> UInt64 {
        UInt64(try u32(field)) << 32 | UInt64(try u32(field))
    }

    mutating func take(_ count: Int, _ field: String) throws(RtpError) -> [UInt8] {
        try need(count, field)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func skip(_ count: Int, _ field: String) throws(RtpError) {
        try need(count, field)
        offset += count
    }

    /// The rest, consumed.
    mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

/// Big-endian appends.
struct RtpWireWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u24(_ v: UInt32) {
        bytes.append(UInt8((v >> 16) & 0xFF)); bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }
    mutating func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xFFFF)) }
    mutating func u64(_ v: UInt64) { u32(UInt32(v >> 32)); u32(UInt32(v & 0xFFFF_FFFF)) }
    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    /// Zero bytes up to the next multiple of four.
    mutating func alignWithZeros() { while bytes.count % 4 != 0 { bytes.append(0) } }
}
