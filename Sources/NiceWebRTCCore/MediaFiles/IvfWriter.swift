/// Writes an IVF file: its header, then each frame with its 12-byte header.
///
/// ```swift
/// var writer = try IvfWriter(header: IvfHeader(width: 640, height: 360, timebaseDenominator: 90_000))
/// for await frame in track.frames() { try writer.write(frame.bytes, timestamp: UInt64(frame.timestamp)) }
/// writer.finish()                         // the header's frame count
/// try Data(writer.output).write(to: url)
/// ```
///
/// For a long recording, ``takeOutput()`` hands over what is written so far (append it to the
/// file); ``finish()`` can then no longer patch the frame count (a reader does not rely on it).
public struct IvfWriter: Sendable {
    /// The header as given (its ``IvfHeader/frameCount`` is patched by ``finish()``).
    public private(set) var header: IvfHeader
    /// The frames written.
    public private(set) var frameCount = 0
    /// The bytes written and not yet taken.
    public private(set) var output: [UInt8]
    private var headerTaken = false

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
    }

    /// Sets the header's frame count to the frames written, if the header was not taken yet.
    public mutating func finish() {
        header.frameCount = UInt32(clamping: frameCount)
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
