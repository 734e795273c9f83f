/// Writes an IVF file: its header, then each frame with its 12-byte header.
///
/// ```swift
/// var writer = try IvfWriter(header: IvfHeader(width: 640, height: 360, timebaseDenominator: 90_000))
/// for await frame in track.frames() { try writer.write(frame.bytes, timestamp: UInt64(frame.timestamp)) }
/// writer.finish()                         // the header's length (see IvfHeader.frameCount)
/// try Data(writer.output).write(to: url)
/// ```
///
/// For a long recording, ``takeOutput()`` hands over what is written so far (append it to the
/// file); ``finish()`` can then no longer patch the header's length (a reader does not rely
/// on it).
public struct IvfWriter: Sendable {
    /// The header as given (its ``IvfHeader/frameCount`` is patched by ``finish()``).
    public private(set) var header: IvfHeader
    /// The frames written.
    public private(set) var frameCount = 0
    /// The bytes written and not yet taken.
    public private(set) var output: [UInt8]
    private var headerTaken = false
    private var firstTimestamp: UInt64?
    private var lastTimestamp: UInt64 = 0

    /// Starts a file with `header`.
    ///
    /// - Throws: ``MediaFileError`` `invalidValue` for a header that cannot be written
    ///   (``IvfHeader/serialized()``).
    public init(header: IvfHeader) throws(MediaFileError) {
        self.header = header
        output = try header.serialized()
    }

    /// Appends one frame.
    ///
    /// - Parameter timestamp: its presentation time in the header's timebase units.
    /// - Throws: ``MediaFileError`` `tooLarge` (field `frameSize`) for a frame of 4 GiB or more.
    public mutating func write(_ frame: [UInt8], timestamp: UInt64) throws(MediaFileError) {
        guard frame.count <= Int(UInt32.max) else {
            throw MediaFileError(.tooLarge, field: "frameSize", reason: "\(frame.count) bytes do not fit 32 bits")
        }
        LittleEndian.append(UInt64(frame.count), 4, to: &output)
        LittleEndian.append(timestamp, 8, to: &output)
        output.append(contentsOf: frame)
        frameCount += 1
        if firstTimestamp == nil { firstTimestamp = timestamp }
        lastTimestamp = timestamp
    }

    /// The length ``finish()`` writes in bytes 24–27: as ffmpeg's IVF muxer has it, the frames
    /// written × their mean interval in timebase units (what ffmpeg's demuxer reads as the
    /// stream's duration; libvpx's frame count when the timebase is the frame period); the
    /// frame count itself for fewer than two frames or timestamps that do not increase.
    public var headerLength: UInt32 {
        guard frameCount > 1, let first = firstTimestamp, lastTimestamp > first else { return UInt32(clamping: frameCount) }
        let span = lastTimestamp - first
        let (product, overflow) = span.multipliedReportingOverflow(by: UInt64(frameCount))
        guard !overflow else { return UInt32.max }
        return UInt32(clamping: product / UInt64(frameCount - 1))
    }

    /// Sets the header's length (``headerLength``) if the header was not taken yet.
    public mutating func finish() {
        header.frameCount = headerLength
        guard !headerTaken, output.count >= IvfHeader.size else { return }
        var count: [UInt8] = []
        LittleEndian.append(UInt64(header.frameCount), 4, to: &count)
        output.replaceSubrange(24..<28, with: count)
    }

    /// The bytes written since the last call (the header first), leaving ``output`` empty.
    public mutating func takeOutput() -> [UInt8] {
        defer {
            output = []
            headerTaken = true
        }
        return output
    }
}
