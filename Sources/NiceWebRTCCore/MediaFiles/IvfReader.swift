/// Reads the frames of an IVF file held in memory (VP8 from `ffmpeg -c:v libvpx … file.ivf`).
///
/// ```swift
/// var reader = try IvfReader(bytes: Array(try Data(contentsOf: url)))
/// while let frame = try reader.next() { try track.write(frame: frame.bytes, duration: .milliseconds(33)) }
/// ```
///
/// **Bounds.** A frame larger than ``maximumFrameBytes`` or than the bytes left is an error, so a
/// hostile size field never makes the reader allocate more than the file; the reader copies one
/// frame at a time. A value: one reader per file, used from one place at a time.
public struct IvfReader: Sendable {
    /// 4 MiB: a 4K key frame is a few hundred kilobytes.
    public static let defaultMaximumFrameBytes = 4 << 20

    /// The file's header.
    public let header: IvfHeader
    /// The largest frame ``next()`` returns.
    public let maximumFrameBytes: Int
    /// The frames read so far.
    public private(set) var framesRead = 0

    private let bytes: [UInt8]
    private var offset: Int

    /// Reads the header of `bytes`.
    ///
    /// - Throws: ``MediaFileError`` as ``IvfHeader/init(parsing:)``.
    public init(bytes: [UInt8], maximumFrameBytes: Int = IvfReader.defaultMaximumFrameBytes) throws(MediaFileError) {
        header = try IvfHeader(parsing: bytes)
        self.bytes = bytes
        self.maximumFrameBytes = max(maximumFrameBytes, 1)
        offset = Int(header.headerSize)
    }

    /// The next frame, or nil at the end of the file.
    ///
    /// - Throws: ``MediaFileError`` `truncated` (field `frameHeader` or `frameSize`) when the file
    ///   ends inside a frame, `tooLarge` (field `frameSize`) past ``maximumFrameBytes``. After an
    ///   error the reader stays at that frame (each later call throws it again).
    public mutating func next() throws(MediaFileError) -> IvfFrame? {
        guard offset < bytes.count else { return nil }
        guard bytes.count - offset >= IvfHeader.frameHeaderSize else {
            throw MediaFileError(.truncated, field: "frameHeader",
                                 reason: "frame \(framesRead): \(bytes.count - offset) bytes left of a 12-byte frame header")
        }
        let size = Int(LittleEndian.read(bytes, offset, 4))
        let timestamp = LittleEndian.read(bytes, offset + 4, 8)
        guard size <= maximumFrameBytes else {
            throw MediaFileError(.tooLarge, field: "frameSize", reason: "frame \(framesRead): \(size) bytes, the limit is \(maximumFrameBytes)")
        }
        let start = offset + IvfHeader.frameHeaderSize
        guard bytes.count - start >= size else {
            throw MediaFileError(.truncated, field: "frameSize",
                                 reason: "frame \(framesRead): \(size) bytes stated, \(bytes.count - start) left")
        }
        offset = start + size
        framesRead += 1
        return IvfFrame(bytes: Array(bytes[start..<offset]), timestamp: timestamp)
    }

    /// Every frame left (at most `limit`).
    ///
    /// - Throws: as ``next()``.
    public mutating func readAll(limit: Int = .max) throws(MediaFileError) -> [IvfFrame] {
        var frames: [IvfFrame] = []
        while frames.count < limit, let frame = try next() { frames.append(frame) }
        return frames
    }
}
