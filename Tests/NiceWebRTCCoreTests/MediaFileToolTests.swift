import Foundation
import NiceWebRTCCore
import Testing

/// ffmpeg and ffprobe, when installed (`scripts/deps.sh --test` installs them; these tests skip
/// with a message otherwise).
enum MediaTools {
    static func path(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `tool` with `arguments`; its standard output, or nil when it failed.
    static func run(_ tool: String, _ arguments: [String]) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nice-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite("Media files: ffmpeg writes, we read; we write, ffprobe reads")
struct MediaFileToolTests {
    @Test("ffmpeg's VP8 IVF and Opus Ogg read fully", .timeLimit(.minutes(2)))
    func readFfmpeg() throws {
        guard let ffmpeg = MediaTools.path("ffmpeg") else {
            print("skipped: ffmpeg is not installed (apt-get install -y ffmpeg)")
            return
        }
        let dir = try MediaTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = dir.appendingPathComponent("video.ivf").path, audio = dir.appendingPathComponent("audio.ogg").path
        // The plan's commands, shorter and smaller (2 s, 160×120): a key frame every 30 frames.
        try #require(try MediaTools.run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30",
                                                 "-t", "2", "-c:v", "libvpx", "-b:v", "300k", "-g", "30", "-deadline", "realtime",
                                                 "-cpu-used", "8", video]) != nil)
        try #require(try MediaTools.run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                                 "-t", "2", "-c:a", "libopus", "-b:a", "64k", "-page_duration", "20000", audio]) != nil)

        var ivf = try IvfReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: video))))
        #expect(ivf.header.fourcc == "VP80" && ivf.header.width == 160 && ivf.header.height == 120)
        let frames = try ivf.readAll()
        #expect(frames.count == 60, "\(frames.count) frames")
        #expect(frames.first?.isVp8Keyframe == true && frames.filter(\.isVp8Keyframe).count >= 2)
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp })
        let last = try #require(frames.last)
        let seconds = ivf.header.duration(ofTimestamp: last.timestamp)
        #expect(seconds > .milliseconds(1800) && seconds < .milliseconds(2100), "\(seconds)")

        var ogg = try OggOpusReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: audio))))
        #expect(ogg.head.channelCount == 1 && ogg.head.preSkip > 0 && ogg.head.inputSampleRate == 48_000)
        #expect(ogg.tags.vendor.contains("Lavf") || ogg.tags.vendor.contains("libopus"), "\(ogg.tags.vendor)")
        let packets = try ogg.readAll()
        #expect(packets.count >= 100 && packets.count <= 102, "\(packets.count) packets")
        #expect(packets.dropLast().allSatisfy { $0.samples == 960 })
        // Positions only grow; the last is the stream's end: 2 s plus the pre-skip.
        #expect(zip(packets, packets.dropFirst()).allSatisfy { $0.granulePosition < $1.granulePosition })
        #expect(packets.last?.granulePosition == 96_000 + Int64(ogg.head.preSkip))
    }

    @Test("our IVF and Ogg Opus files: ffprobe sees the codecs, sizes, frame and packet counts", .timeLimit(.minutes(2)))
    func probeOurs() throws {
        guard let ffmpeg = MediaTools.path("ffmpeg"), let ffprobe = MediaTools.path("ffprobe") else {
            print("skipped: ffmpeg/ffprobe are not installed (apt-get install -y ffmpeg)")
            return
        }
        let dir = try MediaTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Real codec data from ffmpeg, rewritten by our writers (so the probe decodes it).
        let sourceVideo = dir.appendingPathComponent("in.ivf").path, sourceAudio = dir.appendingPathComponent("in.ogg").path
        try #require(try MediaTools.run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30",
                                                 "-t", "1", "-c:v", "libvpx", "-g", "30", "-deadline", "realtime", "-cpu-used", "8", sourceVideo]) != nil)
        try #require(try MediaTools.run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                                 "-ac", "2", "-t", "1", "-c:a", "libopus", sourceAudio]) != nil)
        var ivf = try IvfReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: sourceVideo))))
        let frames = try ivf.readAll()
        var ogg = try OggOpusReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: sourceAudio))))
        let packets = try ogg.readAll()

        // Video at 90 kHz timestamps (as RTP has them).
        var ivfWriter = try IvfWriter(header: IvfHeader(width: 160, height: 120, timebaseDenominator: 90_000))
        for (i, frame) in frames.enumerated() { try ivfWriter.write(frame.bytes, timestamp: UInt64(i * 3000)) }
        ivfWriter.finish()
        let video = dir.appendingPathComponent("ours.ivf")
        try Data(ivfWriter.output).write(to: video)
        var oggWriter = try OggOpusWriter(head: OpusHead(channelCount: 2, preSkip: ogg.head.preSkip), tags: OpusTags(vendor: "NiceWebRTC"))
        for packet in packets { try oggWriter.write(packet.bytes) }
        oggWriter.finish()
        let audio = dir.appendingPathComponent("ours.ogg")
        try Data(oggWriter.output).write(to: audio)

        let probe = ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,channels,sample_rate,nb_read_frames",
                     "-of", "default=noprint_wrappers=1"]
        let videoInfo = try #require(try MediaTools.run(ffprobe, probe + [video.path]))
        #expect(videoInfo.contains("codec_name=vp8") && videoInfo.contains("width=160") && videoInfo.contains("height=120"), "\(videoInfo)")
        #expect(videoInfo.contains("nb_read_frames=\(frames.count)"), "\(videoInfo)")
        // ffmpeg's demuxer reads bytes 24–27 as the length in timebase units: 30 frames at
        // 3000/90000 s are 1 s (the frame count there would say 0.000333 s).
        let duration = try #require(try MediaTools.run(ffprobe, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", video.path]))
        let seconds = try #require(Double(duration.trimmingCharacters(in: .whitespacesAndNewlines)), "\(duration)")
        #expect(abs(seconds - Double(frames.count) / 30) < 0.001, "\(duration) for \(frames.count) frames")
        let audioInfo = try #require(try MediaTools.run(ffprobe, probe + [audio.path]))
        #expect(audioInfo.contains("codec_name=opus") && audioInfo.contains("sample_rate=48000") && audioInfo.contains("channels=2"), "\(audioInfo)")
        #expect(audioInfo.contains("nb_read_frames=\(packets.count)"), "\(audioInfo)")
        // And a full decode without errors.
        for file in [video.path, audio.path] {
            #expect(try MediaTools.run(ffmpeg, ["-hide_banner", "-v", "error", "-xerror", "-i", file, "-f", "null", "-"]) != nil, "\(file)")
        }
    }
}
