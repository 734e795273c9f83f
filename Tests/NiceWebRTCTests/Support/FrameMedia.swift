import Foundation
import NiceWebRTC
import NiceWebRTCCore

/// Reads a remote track's frames in a task and reports each count (as ``TrackReader`` does for
/// packets), so a writer can wait for what it sent.
final class FrameReader: Sendable {
    let task: Task<Void, Never>
    let progress: AsyncStream<Int>
    let received = Locked<[EncodedFrame]>([])

    init(_ track: RemoteTrack) {
        let stream = track.frames()
        let (progress, k) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        self.progress = progress
        let received = received
        task = Task {
            for await frame in stream {
                let n = received.withLock { r -> Int in
                    r.append(frame)
                    return r.count
                }
                k.yield(n)
            }
            k.finish()
        }
    }

    var frames: [EncodedFrame] { received.withLock { $0 } }

    /// Waits until `count` frames were read in all (false if the stream ended first).
    func wait(for count: Int, _ iterator: inout AsyncStream<Int>.Iterator) async -> Bool {
        if received.withLock({ $0.count }) >= count { return true }
        while let n = await iterator.next() {
            if n >= count { return true }
        }
        return false
    }
}

/// Test media: from ffmpeg when it is installed (a real VP8 stream in IVF, Opus in Ogg), else
/// made up with the same framing, always through our IVF and Ogg readers.
enum TestMedia {
    static func tool(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The bytes ffmpeg writes for `arguments` (output file last), nil without ffmpeg or on failure.
    static func ffmpeg(_ arguments: [String], suffix: String) -> [UInt8]? {
        guard let ffmpeg = tool("ffmpeg") else { return nil }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nice-frames-\(UUID().uuidString).\(suffix)")
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = ["-hide_banner", "-loglevel", "error"] + arguments + [file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = try? Data(contentsOf: file) else { return nil }
        return Array(data)
    }

    /// One second of 30 fps VP8 in IVF (a key frame every 15), plus made-up frames up to 20 kB
    /// (many packets each); whether it came from ffmpeg.
    static func vp8Frames() throws -> ([IvfFrame], fromFfmpeg: Bool) {
        var generator = SystemRandomNumberGenerator()
        var made: [IvfFrame] = []
        for i in 0..<12 {
            let key = i % 6 == 0
            let size = [60, 1150, 1165, 4000, 20_000, 300][i % 6]
            var bytes: [UInt8] = key ? [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] : [0x31, 0x01, 0x00]
            while bytes.count < size { bytes.append(UInt8.random(in: 0...255, using: &generator)) }
            made.append(IvfFrame(bytes: bytes, timestamp: UInt64(i)))
        }
        var writer = try IvfWriter(header: IvfHeader(width: 320, height: 240))
        for frame in made { try writer.write(frame.bytes, timestamp: frame.timestamp) }
        writer.finish()
        var ffmpegFrames: [IvfFrame] = []
        if let real = ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "1", "-c:v", "libvpx", "-b:v", "1M", "-g", "15",
                              "-deadline", "realtime", "-cpu-used", "8"], suffix: "ivf") {
            var reader = try IvfReader(bytes: real)
            ffmpegFrames = try reader.readAll()
        }
        var reader = try IvfReader(bytes: writer.output)
        return (ffmpegFrames + (try reader.readAll()), !ffmpegFrames.isEmpty)
    }

    /// One second of 20 ms Opus packets (ffmpeg's sine, else made-up CELT packets).
    static func opusPackets() throws -> [OggOpusPacket] {
        if let real = ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1", "-c:a", "libopus", "-b:a", "64k",
                              "-page_duration", "20000"], suffix: "ogg") {
            var reader = try OggOpusReader(bytes: real)
            return try reader.readAll()
        }
        var writer = try OggOpusWriter()
        for i in 0..<50 { try writer.write([0xF8] + (0..<(80 + i)).map { UInt8(truncatingIfNeeded: $0 * i) }) }
        writer.finish()
        var reader = try OggOpusReader(bytes: writer.output)
        return try reader.readAll()
    }
}
