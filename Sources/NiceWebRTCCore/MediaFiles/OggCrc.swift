/// The CRC-32 of Ogg pages (RFC 3533 §6): polynomial 0x04C11DB7, initial value 0, no bit
/// reflection, no final XOR, over the whole page with its CRC field set to zero.
public enum OggCrc {
    static let table: [UInt32] = (0..<256).map { (index: Int) -> UInt32 in
        var r = UInt32(index) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? (r << 1) ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    /// The checksum of `bytes`, continuing from `crc`.
    public static func checksum(_ bytes: some Sequence<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        var crc = crc
        for byte in bytes { crc = (crc << 8) ^ table[Int((crc >> 24) ^ UInt32(byte))] }
        return crc
    }
}
