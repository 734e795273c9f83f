import Foundation
import Logging
import NiceWebRTC
import Synchronization

/// Records one publisher session (`recordDirectory` set): its VP8 video into
/// `{dir}/{stream}-{yyyyMMdd-HHmmss}.ivf` (timebase 1/90000, from the first keyframe on) and its
/// Opus audio into `….ogg`, as media-peer's `--record` does. The files are built in memory (at
/// most ``maximumBytes`` per kind; frames past it are left out) and written when the publisher
/// ends (``finish()``). H.264 video is not recorded (IVF holds VP8 here).
final class StreamRecorder: Sendable {
    static let maximumBytes = 256 << 20

    private let basePath: String
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var ivf: IvfWriter?
        var firstTimestamp: UInt32?
        var videoFrames = 0
        var videoBytes = 0
        var ogg: OggOpusWriter?
        var audioFrames = 0
        var audioBytes = 0
        var tasks: [Task<Void, Never>] = []
        var finished = false
    }

    /// - Parameter start: when the publisher started (names the files, UTC).
    init(directory: String, stream: String, start: Date, logger: Logger) {
        basePath = directory + "/" + stream + "-" + Self.stamp(start)
        self.logger = logger
    }

    /// Reads `track`'s frames until it ends (VP8 video, Opus audio; other codecs are skipped).
    func record(_ track: RemoteTrack) {
        let codec = track.codecs.first { !$0.isRtx }?.name.lowercased()
        guard (track.kind == .video && codec == "vp8") || (track.kind == .audio && codec == "opus") else {
            logger.info("not recording \(track.kind) in \(codec ?? "no codec")")
            return
        }
        let frames = track.frames(bufferCapacity: 512)
        let kind = track.kind
        let task = Task { [self] in
            for await frame in frames { add(frame, kind: kind) }
        }
        state.withLock { $0.tasks.append(task) }
    }

    private func add(_ frame: EncodedFrame, kind: MediaKind) {
        state.withLock { s in
            guard !s.finished else { return }
            if kind == .video {
                guard s.videoBytes + frame.bytes.count < Self.maximumBytes else { return }
                if s.ivf == nil {
                    guard frame.isKeyframe, let size = frame.dimensions else { return }
                    s.ivf = try? IvfWriter(header: IvfHeader(
                        width: UInt16(clamping: size.width), height: UInt16(clamping: size.height), timebaseDenominator: 90_000))
                    s.firstTimestamp = frame.timestamp
                }
                guard (try? s.ivf?.write(frame.bytes, timestamp: UInt64(frame.timestamp &- (s.firstTimestamp ?? 0)))) != nil else { return }
                s.videoBytes += frame.bytes.count
                s.videoFrames += 1
            } else {
                guard s.audioBytes + frame.bytes.count < Self.maximumBytes else { return }
                if s.ogg == nil { s.ogg = try? OggOpusWriter(tags: OpusTags(vendor: "LiveServer")) }
                guard (try? s.ogg?.write(frame.bytes)) != nil else { return }
                s.audioBytes += frame.bytes.count
                s.audioFrames += 1
            }
        }
    }

    /// Waits for the readers (the publisher's connection is closed: its tracks ended) and writes
    /// the files. Returns the paths written.
    @discardableResult
    func finish() async -> [String] {
        let tasks = state.withLock { $0.tasks }
        for task in tasks { await task.value }
        let (video, audio) = state.withLock { s -> ([UInt8]?, [UInt8]?) in
            s.finished = true
            var video: [UInt8]?, audio: [UInt8]?
            if var ivf = s.ivf, s.videoFrames > 0 {
                ivf.finish()
                video = ivf.output
            }
            if var ogg = s.ogg, s.audioFrames > 0 {
                ogg.finish()
                audio = ogg.output
            }
            s.ivf = nil
            s.ogg = nil
            return (video, audio)
        }
        var written: [String] = []
        for (bytes, suffix) in [(video, ".ivf"), (audio, ".ogg")] {
            guard let bytes else { continue }
            let path = basePath + suffix
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                logger.info("recorded \(bytes.count) bytes to \(path)")
                written.append(path)
            } catch {
                logger.error("cannot write \(path): \(error)")
            }
        }
        return written
    }

    /// `yyyyMMdd-HHmmss` in UTC.
    static func stamp(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)\(two(month))\(two(day))-\(two(second / 3600))\(two(second % 3600 / 60))\(two(second % 60))"
    }
}
