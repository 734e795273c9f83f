/// The 32-byte header of an IVF file (the container libvpx and ffmpeg write VP8/VP9/AV1 in).
///
/// ```
/// 0  "DKIF"           4  version (0), 16-bit   6  header size (32), 16-bit
/// 8  fourcc (VP80)   12  width, 16-bit        14  height, 16-bit
/// 16 timebase denominator, 32-bit             20  timebase numerator, 32-bit
/// 24 frame count / length, 32-bit             28  unused
/// ```
/// Every field is little-endian. Each frame follows as a 12-byte header (32-bit size, 64-bit
/// timestamp in timebase units) and its bytes.
public struct IvfHeader: Sendable, Hashable {
    /// The header's length on the wire.
    public static let size = 32
    /// The length of each frame's header.
    public static let frameHeaderSize = 12

    /// The codec's four characters: `VP80`, `VP90`, `AV01`, `H264`.
    public var fourcc: String
    /// The picture width in pixels.
    public var width: UInt16
    /// The picture height in pixels.
    public var height: UInt16
    /// The timebase numerator: a timestamp of 1 is `timebaseNumerator / timebaseDenominator`
    /// seconds.
    public var timebaseNumerator: UInt32
    /// The timebase denominator (ffmpeg writes the frame rate with a numerator of 1; libvpx
    /// writes 30/1 or 1000/1).
    public var timebaseDenominator: UInt32
    /// Bytes 24–27 as the header states them (writers patch them at the end; a file cut short,
    /// or written as a stream, may say 0): a reader does not rely on them. libvpx writes the
    /// frame count there; ffmpeg's muxer writes, and its demuxer reads, the stream's length in
    /// timebase units (frames × the mean frame interval), which is the same number when the
    /// timebase is the frame period (1/30 for 30 fps). ``IvfWriter/finish()`` writes ffmpeg's
    /// length, so ffprobe gets the duration right at any timebase (90 kHz, as RTP has it).
    public var frameCount: UInt32
    /// The header size the file states (32; a reader skips any extra bytes).
    public var headerSize: UInt16
    /// The version (0).
    public var version: UInt16

    /// A header.
    ///
    /// - Parameters:
    ///   - fourcc: four ASCII characters (`VP80` for VP8, `H264` for H.264).
    ///   - timebaseNumerator, timebaseDenominator: the timestamps' unit (1/30 s: 1 and 30; 1 ms:
    ///     1 and 1000).
    public init(fourcc: String = "VP80", width: UInt16, height: UInt16, timebaseNumerator: UInt32 = 1,
                timebaseDenominator: UInt32 = 30, frameCount: UInt32 = 0) {
        self.fourcc = fourcc
        self.width = width
        self.height = height
        self.timebaseNumerator = timebaseNumerator
        self.timebaseDenominator = timebaseDenominator
        self.frameCount = frameCount
        self.headerSize = UInt16(Self.size)
        self.version = 0
    }

    /// Reads the header at the start of `bytes`.
    ///
    /// - Throws: ``MediaFileError`` `truncated` below 32 bytes or before the stated header size,
    ///   `badMagic` without `DKIF`, `invalidValue` for a header size below 32, a timebase with a
    ///   zero term, or a fourcc that is not four printable ASCII characters.
    public init(parsing bytes: [UInt8]) throws(MediaFileError) {
        guard bytes.count >= Self.size else {
            throw MediaFileError(.truncated, field: "header", reason: "an IVF header is 32 bytes, got \(bytes.count)")
        }
        guard bytes[0..<4].elementsEqual("DKIF".utf8) else {
            throw MediaFileError(.badMagic, field: "signature", reason: "an IVF file starts with DKIF")
        }
        version = UInt16(LittleEndian.read(bytes, 4, 2))
        headerSize = UInt16(LittleEndian.read(bytes, 6, 2))
        guard Int(headerSize) >= Self.size else {
            throw MediaFileError(.invalidValue, field: "headerSize", reason: "\(headerSize) bytes, below 32")
        }
        guard bytes.count >= Int(headerSize) else {
            throw MediaFileError(.truncated, field: "headerSize", reason: "the header states \(headerSize) bytes, the file has \(bytes.count)")
        }
        let code = bytes[8..<12]
        guard code.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw MediaFileError(.invalidValue, field: "fourcc", reason: "not four printable ASCII characters")
        }
        fourcc = String(decoding: code, as: UTF8.self)
        width = UInt16(LittleEndian.read(bytes, 12, 2))
        height = UInt16(LittleEndian.read(bytes, 14, 2))
        timebaseDenominator = UInt32(LittleEndian.read(bytes, 16, 4))
        timebaseNumerator = UInt32(LittleEndian.read(bytes, 20, 4))
        frameCount = UInt32(LittleEndian.read(bytes, 24, 4))
        guard timebaseNumerator > 0, timebaseDenominator > 0 else {
            throw MediaFileError(.invalidValue, field: "timebase", reason: "\(timebaseNumerator)/\(timebaseDenominator) has a zero term")
        }
    }

    /// The header's 32 bytes (a header size other than 32 is written as 32).
    ///
    /// - Throws: ``MediaFileError`` `invalidValue` when the fourcc is not four ASCII characters
    ///   or a timebase term is zero.
    public func serialized() throws(MediaFileError) -> [UInt8] {
        let code = Array(fourcc.utf8)
        guard code.count == 4, code.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw MediaFileError(.invalidValue, field: "fourcc", reason: "\"\(fourcc)\" is not four printable ASCII characters")
        }
        guard timebaseNumerator > 0, timebaseDenominator > 0 else {
            throw MediaFileError(.invalidValue, field: "timebase", reason: "\(timebaseNumerator)/\(timebaseDenominator) has a zero term")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.size)
        bytes.append(contentsOf: "DKIF".utf8)
        LittleEndian.append(UInt64(version), 2, to: &bytes)
        LittleEndian.append(UInt64(Self.size), 2, to: &bytes)
        bytes.append(contentsOf: code)
        LittleEndian.append(UInt64(width), 2, to: &bytes)
        LittleEndian.append(UInt64(height), 2, to: &bytes)
        LittleEndian.append(UInt64(timebaseDenominator), 4, to: &bytes)
        LittleEndian.append(UInt64(timebaseNumerator), 4, to: &bytes)
        LittleEndian.append(UInt64(frameCount), 4, to: &bytes)
        LittleEndian.append(0, 4, to: &bytes)
        return bytes
    }

    /// `timestamp` (in timebase units) as a duration.
    public func duration(ofTimestamp timestamp: UInt64) -> Duration {
        // Whole timebase periods and the remainder apart, so large timestamps do not overflow.
        let num = UInt64(timebaseNumerator), den = UInt64(max(timebaseDenominator, 1))
        let (whole, rest) = timestamp.quotientAndRemainder(dividingBy: den)
        let (high, seconds) = whole.multipliedFullWidth(by: num)
        guard high == 0 else { return .seconds(UInt64.max) }
        return .seconds(seconds) + .seconds(rest * num) / den
    }
}

/// One frame of an IVF file.
public struct IvfFrame: Sendable, Hashable {
    /// The frame as the codec wrote it (a VP8 frame; an H.264 access unit in Annex B).
    public var bytes: [UInt8]
    /// The presentation timestamp, in the header's timebase units.
    public var timestamp: UInt64

    /// A frame of `bytes` at `timestamp` (timebase units).
    public init(bytes: [UInt8], timestamp: UInt64) {
        self.bytes = bytes
        self.timestamp = timestamp
    }

    /// Whether the frame is a VP8 key frame (its frame tag's P bit is 0, RFC 6386 §9.1).
    public var isVp8Keyframe: Bool { bytes.first.map { $0 & 0x01 == 0 } ?? false }
}
