import NiceWebRTCCore
import Testing

@Suite("Media files: IVF")
struct MediaFileIvfTests {
    /// A hand-built file: header (VP80, 176×144, 1/30, 2 frames) and two frames.
    static let handBuilt: [UInt8] =
        Array("DKIF".utf8) + [0, 0, 32, 0] + Array("VP80".utf8) + [176, 0, 144, 0, 30, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]
        + [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] + [0x10, 0x02, 0x00]
        + [2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1] + [0x31, 0xAA]

    @Test("a hand-built file reads field by field")
    func handBuilt() throws {
        var reader = try IvfReader(bytes: Self.handBuilt)
        #expect(reader.header.fourcc == "VP80" && reader.header.width == 176 && reader.header.height == 144)
        #expect(reader.header.timebaseNumerator == 1 && reader.header.timebaseDenominator == 30 && reader.header.frameCount == 2)
        let first = try #require(try reader.next())
        #expect(first.bytes == [0x10, 0x02, 0x00] && first.timestamp == 0 && first.isVp8Keyframe)
        let second = try #require(try reader.next())
        #expect(second.bytes == [0x31, 0xAA] && second.timestamp == 1 << 56 | 1 && !second.isVp8Keyframe)
        #expect(try reader.next() == nil && reader.framesRead == 2)
        #expect(reader.header.duration(ofTimestamp: 45) == .milliseconds(1500))
    }

    @Test("written then read: header, frames and the patched frame count")
    func roundTrip() throws {
        var random = CodecTestRandom(seed: 19)
        let frames = (0..<50).map { i in IvfFrame(bytes: random.bytes(1 + i * 37), timestamp: UInt64(i * 3000)) }
        var writer = try IvfWriter(header: IvfHeader(fourcc: "H264", width: 1280, height: 720, timebaseDenominator: 90_000))
        for frame in frames { try writer.write(frame.bytes, timestamp: frame.timestamp) }
        writer.finish()
        var reader = try IvfReader(bytes: writer.output)
        // ffmpeg's length: 50 frames × 3000 (the mean interval) at 90 kHz.
        #expect(writer.headerLength == 150_000)
        #expect(reader.header == IvfHeader(fourcc: "H264", width: 1280, height: 720, timebaseDenominator: 90_000, frameCount: 150_000))
        #expect(try reader.readAll() == frames)
        // Streaming: the header taken first, the count stays as given.
        var streaming = try IvfWriter(header: IvfHeader(width: 2, height: 2))
        var bytes = streaming.takeOutput()
        try streaming.write([1, 2, 3], timestamp: 7)
        streaming.finish()
        bytes += streaming.takeOutput()
        var again = try IvfReader(bytes: bytes)
        let readBack = try again.readAll()
        #expect(again.header.frameCount == 0 && readBack == [IvfFrame(bytes: [1, 2, 3], timestamp: 7)])
    }

    @Test("the header's length: libvpx's frame count at a frame-period timebase, ffmpeg's units at any")
    func headerLength() throws {
        // 1/30 with timestamps 0, 1, 2, …: the frame count, as libvpx writes it.
        var perFrame = try IvfWriter(header: IvfHeader(width: 2, height: 2))
        for i in 0..<60 { try perFrame.write([0x10, 0x02, 0x00], timestamp: UInt64(i)) }
        perFrame.finish()
        #expect(perFrame.headerLength == 60 && Array(perFrame.output[24..<32]) == [60, 0, 0, 0, 0, 0, 0, 0])
        // 1 ms timestamps with jitter (33, 34, 33 ms …): frames × the mean interval.
        var millis = try IvfWriter(header: IvfHeader(width: 2, height: 2, timebaseDenominator: 1_000))
        for t: UInt64 in [100, 133, 167, 200] { try millis.write([1], timestamp: t) }
        #expect(millis.headerLength == 133)
        // One frame, none, or timestamps that go back: the frame count.
        var one = try IvfWriter(header: IvfHeader(width: 2, height: 2, timebaseDenominator: 90_000))
        #expect(one.headerLength == 0)
        try one.write([1], timestamp: 9_000)
        #expect(one.headerLength == 1)
        try one.write([1], timestamp: 3_000)
        #expect(one.headerLength == 2)
        // A span whose product overflows 64 bits saturates.
        var huge = try IvfWriter(header: IvfHeader(width: 2, height: 2))
        try huge.write([1], timestamp: 0)
        try huge.write([1], timestamp: UInt64.max)
        try huge.write([1], timestamp: UInt64.max)
        #expect(huge.headerLength == UInt32.max)
    }

    @Test("a header size above 32 is skipped", arguments: [32, 40, 64])
    func headerSize(size: Int) throws {
        var bytes = Array(Self.handBuilt.prefix(32))
        bytes[6] = UInt8(size)
        bytes += [UInt8](repeating: 0xEE, count: size - 32) + Self.handBuilt.dropFirst(32)
        var reader = try IvfReader(bytes: bytes)
        #expect(try reader.readAll().map(\.bytes) == [[0x10, 0x02, 0x00], [0x31, 0xAA]])
    }

    @Test("hostile and broken files: typed errors naming the field, no allocation past the file")
    func errors() throws {
        func headerError(_ bytes: [UInt8]) -> MediaFileError? {
            do { _ = try IvfReader(bytes: bytes) } catch { return error }
            return nil
        }
        #expect(headerError(Array(Self.handBuilt.prefix(31)))?.code == .truncated)
        var magic = Self.handBuilt
        magic[0] = 0x44 ^ 0xFF
        #expect(headerError(magic)?.what == "badMagic signature")
        var small = Self.handBuilt
        small[6] = 16
        #expect(headerError(small)?.what == "invalidValue headerSize")
        var beyond = Self.handBuilt
        beyond[6] = 0xFF
        beyond[7] = 0xFF
        #expect(headerError(beyond)?.what == "truncated headerSize")
        var timebase = Self.handBuilt
        timebase[16] = 0
        #expect(headerError(timebase)?.what == "invalidValue timebase")

        func frameError(_ bytes: [UInt8], limit: Int = IvfReader.defaultMaximumFrameBytes) throws -> MediaFileError? {
            var reader = try IvfReader(bytes: bytes, maximumFrameBytes: limit)
            do { _ = try reader.readAll() } catch { return error }
            return nil
        }
        // A size of 4 GiB - 1: refused by the limit before anything is allocated.
        var huge = Self.handBuilt
        for i in 32..<36 { huge[i] = 0xFF }
        #expect(try frameError(huge)?.what == "tooLarge frameSize")
        // Within the limit but past the end of the file.
        var past = Self.handBuilt
        past[32] = 200
        #expect(try frameError(past)?.what == "truncated frameSize")
        #expect(try frameError(Array(Self.handBuilt.dropLast(3)))?.what == "truncated frameHeader")
        #expect(try frameError(Self.handBuilt, limit: 2)?.what == "tooLarge frameSize")
        #expect(throws: MediaFileError.self) { try IvfHeader(fourcc: "VP8", width: 1, height: 1).serialized() }
    }
}

extension MediaFileError {
    /// The code and field, for comparing in tests.
    var what: String { "\(code.rawValue) \(field)" }
}
