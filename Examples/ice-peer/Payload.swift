// The datagram content both ICE-JSONL peers of this repository send by default, so that a receiver
// run with --check-pattern can check every byte: datagram i starts with i as a 32-bit big-endian
// number and byte j (j ≥ 4) is (i + j) mod 256. Datagrams shorter than 4 bytes carry (i + j) mod 256
// only and are not checked. Without --check-pattern the receiver counts datagrams and ignores content.
enum Payload {
    static func datagram(index: Int, size: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        for j in 0..<size { bytes[j] = UInt8(truncatingIfNeeded: index &+ j) }
        if size >= 4 {
            let seq = UInt32(truncatingIfNeeded: index)
            bytes[0] = UInt8(truncatingIfNeeded: seq >> 24)
            bytes[1] = UInt8(truncatingIfNeeded: seq >> 16)
            bytes[2] = UInt8(truncatingIfNeeded: seq >> 8)
            bytes[3] = UInt8(truncatingIfNeeded: seq)
        }
        return bytes
    }

    /// True when `bytes` follows the pattern (always true below 4 bytes).
    static func isIntact(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return true }
        let seq = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        for j in 4..<bytes.count where bytes[j] != UInt8(truncatingIfNeeded: seq &+ j) {
            return false
        }
        return true
    }
}
