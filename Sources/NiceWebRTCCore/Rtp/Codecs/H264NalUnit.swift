/// H.264 NAL unit headers and Annex-B byte streams (ITU-T H.264 §7.3.1, Annex B; RFC 6184 §1.3).
///
/// A NAL unit starts with one header byte: `|F|NRI|Type|` (1, 2 and 5 bits).
public enum H264NalUnit {
    /// Coded slice of a non-IDR picture.
    public static let nonIdrSlice: UInt8 = 1
    /// Coded slice of an IDR picture: a decoder can start here.
    public static let idrSlice: UInt8 = 5
    /// Supplemental enhancement information.
    public static let sei: UInt8 = 6
    /// Sequence parameter set.
    public static let sps: UInt8 = 7
    /// Picture parameter set.
    public static let pps: UInt8 = 8
    /// Access unit delimiter.
    public static let accessUnitDelimiter: UInt8 = 9
    /// RFC 6184 single-time aggregation packet A.
    public static let stapA: UInt8 = 24
    /// RFC 6184 fragmentation unit A.
    public static let fuA: UInt8 = 28

    /// The 4-byte start code the depacketizer writes before each NAL unit.
    public static let startCode: [UInt8] = [0, 0, 0, 1]

    /// The type field (5 bits) of a NAL unit header byte.
    @inlinable public static func type(_ header: UInt8) -> UInt8 { header & 0x1F }

    /// The NAL units of an Annex-B byte stream, without their start codes.
    ///
    /// Units are separated by 3-byte (`00 00 01`) or 4-byte (`00 00 00 01`) start codes. Bytes
    /// before the first start code count as a unit (a bare NAL unit is taken as is); trailing zero
    /// bytes (the zero byte of a 4-byte start code, `trailing_zero_8bits`) are not part of a unit —
    /// a NAL unit never ends in a zero byte (H.264 §7.4.1) — and empty units are skipped.
    public static func units(inAnnexB stream: [UInt8]) -> [ArraySlice<UInt8>] {
        var units: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        let count = stream.count
        func append(_ begin: Int, _ end: Int) {
            var end = end
            while end > begin, stream[end - 1] == 0 { end -= 1 }
            if end > begin { units.append(stream[begin..<end]) }
        }
        while index + 2 < count {
            if stream[index + 2] > 1 {
                index += 3
            } else if stream[index] == 0, stream[index + 1] == 0, stream[index + 2] == 1 {
                append(start, index)
                index += 3
                start = index
            } else {
                index += 1
            }
        }
        append(start, count)
        return units
    }

    /// The Annex-B form of `units`: each after a 4-byte start code.
    public static func annexB(_ units: [ArraySlice<UInt8>]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(units.reduce(0) { $0 + 4 + $1.count })
        for unit in units {
            bytes.append(contentsOf: startCode)
            bytes.append(contentsOf: unit)
        }
        return bytes
    }
}
