/// One Ogg page (RFC 3533 §6): a 27-byte header, a segment table of lacing values, and the data
/// of those segments.
///
/// ```
/// 0 "OggS"  4 version (0)  5 flags (1 continued, 2 first, 4 last)  6 granule position, 64-bit
/// 14 serial number, 32-bit  18 page sequence, 32-bit  22 CRC-32  26 segment count, then the table
/// ```
/// A packet is a run of lacing values of 255 ended by one below 255; a page whose last value is
/// 255 leaves its last packet to be continued on the next page. All fields are little-endian.
public struct OggPage: Sendable, Hashable {
    /// The header's fixed part.
    public static let headerSize = 27
    /// The most segments on a page (so at most 65,025 data bytes).
    public static let maximumSegments = 255

    /// The page continues a packet begun on the previous page (flag 0x01).
    public var isContinuation: Bool
    /// The first page of its logical stream (flag 0x02).
    public var isFirst: Bool
    /// The last page of its logical stream (flag 0x04).
    public var isLast: Bool
    /// The codec's position at the end of the last packet completed on the page (Opus: 48 kHz
    /// samples, pre-skip included); -1 when no packet ends on the page.
    public var granulePosition: Int64
    /// The logical stream's serial number.
    public var serialNumber: UInt32
    /// The page's number in its stream, from 0.
    public var sequenceNumber: UInt32
    /// The lacing values.
    public var segmentTable: [UInt8]
    /// The segments' bytes.
    public var data: [UInt8]

    /// A page; ``serialized()`` computes its CRC.
    public init(isContinuation: Bool = false, isFirst: Bool = false, isLast: Bool = false, granulePosition: Int64,
                serialNumber: UInt32, sequenceNumber: UInt32, segmentTable: [UInt8], data: [UInt8]) {
        self.isContinuation = isContinuation
        self.isFirst = isFirst
        self.isLast = isLast
        self.granulePosition = granulePosition
        self.serialNumber = serialNumber
        self.sequenceNumber = sequenceNumber
        self.segmentTable = segmentTable
        self.data = data
    }

    /// Whether the page's last packet goes on to the next page (its last lacing value is 255).
    public var endsInsidePacket: Bool { segmentTable.last == 255 }

    /// Reads the page at `offset` of `bytes`; returns it and its length.
    ///
    /// - Throws: ``MediaFileError`` `badMagic` without `OggS`, `unsupported` for a version other
    ///   than 0, `truncated` when the page goes past the bytes, `checksum` when its CRC differs.
    public static func parse(_ bytes: [UInt8], at offset: Int = 0) throws(MediaFileError) -> (page: OggPage, length: Int) {
        guard offset >= 0, bytes.count - offset >= headerSize else {
            throw MediaFileError(.truncated, field: "pageHeader", reason: "\(max(bytes.count - offset, 0)) bytes left of a 27-byte page header")
        }
        guard bytes[offset..<(offset + 4)].elementsEqual("OggS".utf8) else {
            throw MediaFileError(.badMagic, field: "capturePattern", reason: "an Ogg page starts with OggS")
        }
        guard bytes[offset + 4] == 0 else {
            throw MediaFileError(.unsupported, field: "version", reason: "Ogg version \(bytes[offset + 4]), only 0 is defined")
        }
        let flags = bytes[offset + 5]
        guard flags & 0xF8 == 0 else {
            throw MediaFileError(.invalidValue, field: "headerType", reason: "undefined flag bits 0x\(String(flags, radix: 16))")
        }
        let segments = Int(bytes[offset + 26])
        let tableEnd = offset + headerSize + segments
        guard bytes.count >= tableEnd else {
            throw MediaFileError(.truncated, field: "segmentTable", reason: "\(segments) lacing values stated, \(bytes.count - offset - headerSize) bytes left")
        }
        let table = Array(bytes[(offset + headerSize)..<tableEnd])
        let dataSize = table.reduce(0) { $0 + Int($1) }
        guard bytes.count - tableEnd >= dataSize else {
            throw MediaFileError(.truncated, field: "pageData", reason: "\(dataSize) data bytes stated, \(bytes.count - tableEnd) left")
        }
        let end = tableEnd + dataSize
        let stated = UInt32(LittleEndian.read(bytes, offset + 22, 4))
        var crc = OggCrc.checksum(bytes[offset..<(offset + 22)])
        crc = OggCrc.checksum([0, 0, 0, 0], continuing: crc)
        crc = OggCrc.checksum(bytes[(offset + 26)..<end], continuing: crc)
        guard crc == stated else {
            throw MediaFileError(.checksum, field: "crc", reason: "stated 0x\(String(stated, radix: 16)), computed 0x\(String(crc, radix: 16))")
        }
        let page = OggPage(
            isContinuation: flags & 0x01 != 0, isFirst: flags & 0x02 != 0, isLast: flags & 0x04 != 0,
            granulePosition: Int64(bitPattern: LittleEndian.read(bytes, offset + 6, 8)),
            serialNumber: UInt32(LittleEndian.read(bytes, offset + 14, 4)),
            sequenceNumber: UInt32(LittleEndian.read(bytes, offset + 18, 4)),
            segmentTable: table, data: Array(bytes[tableEnd..<end]))
        return (page, end - offset)
    }

    /// The page's bytes with its CRC.
    ///
    /// - Throws: ``MediaFileError`` `tooLarge` for more than 255 lacing values, `invalidValue`
    ///   when the data's length is not the table's sum.
    public func serialized() throws(MediaFileError) -> [UInt8] {
        guard segmentTable.count <= Self.maximumSegments else {
            throw MediaFileError(.tooLarge, field: "segmentTable", reason: "\(segmentTable.count) lacing values, at most 255")
        }
        guard segmentTable.reduce(0, { $0 + Int($1) }) == data.count else {
            throw MediaFileError(.invalidValue, field: "pageData", reason: "\(data.count) bytes for lacing values summing to another length")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + segmentTable.count + data.count)
        bytes.append(contentsOf: "OggS".utf8)
        bytes.append(0)
        bytes.append((isContinuation ? 0x01 : 0) | (isFirst ? 0x02 : 0) | (isLast ? 0x04 : 0))
        LittleEndian.append(UInt64(bitPattern: granulePosition), 8, to: &bytes)
        LittleEndian.append(UInt64(serialNumber), 4, to: &bytes)
        LittleEndian.append(UInt64(sequenceNumber), 4, to: &bytes)
        LittleEndian.append(0, 4, to: &bytes)
        bytes.append(UInt8(segmentTable.count))
        bytes.append(contentsOf: segmentTable)
        bytes.append(contentsOf: data)
        let crc = OggCrc.checksum(bytes)
        for i in 0..<4 { bytes[22 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return bytes
    }
}
