// The files media-peer sends, read whole at start with the core's readers (IvfReader,
// OggOpusReader): frames with their durations in RTP clock ticks (90 kHz video, 48 kHz Opus).
// A malformed file is a `MediaInputError`, never a crash.
import Foundation
import NiceWebRTCCore

/// One frame to send.
struct MediaFrame: Sendable {
    var bytes: [UInt8]
    /// How long it lasts, in RTP clock ticks.
    var ticks: UInt32
    /// A decoder can start here (VP8 key frame; every Opus packet).
    var isKeyframe: Bool
}

struct MediaInputError: Error, CustomStringConvertible {
    var description: String
}

enum MediaInput {
    /// The largest file read (a 10 s test file is ~0.6 MB).
    static let maximumFileBytes = 256 << 20

    static func load(_ path: String) throws(MediaInputError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MediaInputError(description: "cannot read \(path)")
        }
        guard data.count <= maximumFileBytes else { throw MediaInputError(description: "\(path) is larger than \(maximumFileBytes) bytes") }
        return [UInt8](data)
    }

    /// VP8 frames from an IVF file, each lasting until the next one's timestamp (the last as
    /// long as the one before it).
    static func ivf(_ path: String) throws(MediaInputError) -> [MediaFrame] {
        let bytes = try load(path)
        let frames: [IvfFrame]
        let header: IvfHeader
        do throws(MediaFileError) {
            var reader = try IvfReader(bytes: bytes)
            header = reader.header
            frames = try reader.readAll()
        } catch {
            throw MediaInputError(description: "\(path): \(error)")
        }
        guard header.fourcc == "VP80" else { throw MediaInputError(description: "\(path): not VP8 (fourcc \(header.fourcc))") }
        guard !frames.isEmpty else { throw MediaInputError(description: "\(path): no frames") }
        func ticks(_ d: UInt64) -> UInt32 {
            let (seconds, attoseconds) = header.duration(ofTimestamp: d).components
            return max(1, UInt32(clamping: seconds * 90_000 + attoseconds / 11_111_111_111_111))
        }
        return frames.indices.map { i in
            let t = frames[i].timestamp
            let next = i + 1 < frames.count ? frames[i + 1].timestamp : nil
            let previous = i > 0 ? frames[i - 1].timestamp : nil
            let d = next.map { $0 > t ? $0 - t : 1 } ?? previous.map { t > $0 ? t - $0 : 1 } ?? 1
            return MediaFrame(bytes: frames[i].bytes, ticks: ticks(d), isKeyframe: frames[i].isVp8Keyframe)
        }
    }

    /// Opus packets from an Ogg Opus file, each lasting what its TOC says.
    static func oggOpus(_ path: String) throws(MediaInputError) -> [MediaFrame] {
        let bytes = try load(path)
        do throws(MediaFileError) {
            var reader = try OggOpusReader(bytes: bytes)
            let packets = try reader.readAll()
            guard !packets.isEmpty else { throw MediaFileError(.truncated, field: "packet", reason: "no audio packets") }
            return packets.map { MediaFrame(bytes: $0.bytes, ticks: UInt32(clamping: max($0.samples, 1)), isKeyframe: true) }
        } catch {
            throw MediaInputError(description: "\(path): \(error)")
        }
    }
}
