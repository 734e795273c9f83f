// The files media-peer sends, read whole at start: VP8 in IVF and Opus in Ogg, as frames with
// their durations in RTP clock ticks (90 kHz video, 48 kHz Opus). Nothing here trusts the file:
// a malformed one is a `MediaInputError`, never a crash.
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
    /// The largest file read (a 10 s test file is ~1.5 MB).
    static let maximumFileBytes = 256 << 20

    static func load(_ path: String) throws(MediaInputError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MediaInputError(description: "cannot read \(path)")
        }
        guard data.count <= maximumFileBytes else { throw MediaInputError(description: "\(path) is larger than \(maximumFileBytes) bytes") }
        return [UInt8](data)
    }

    /// VP8 frames from an IVF file (32-byte header; 12-byte frame headers: size, 64-bit pts),
    /// each lasting until the next one's pts (the last as long as the one before it).
    static func ivf(_ path: String) throws(MediaInputError) -> [MediaFrame] {
        let b = try load(path)
        guard b.count >= 32, b[0..<4].elementsEqual("DKIF".utf8) else { throw MediaInputError(description: "\(path): not an IVF file") }
        guard b[8..<12].elementsEqual("VP80".utf8) else { throw MediaInputError(description: "\(path): not VP8 (fourcc \(String(decoding: b[8..<12], as: UTF8.self)))") }
        let headerSize = Int(le16(b, 6))
        let rate = UInt64(le32(b, 16)), scale = UInt64(le32(b, 20))
        guard rate > 0, scale > 0, headerSize >= 32 else { throw MediaInputError(description: "\(path): bad IVF header") }
        var frames: [(bytes: [UInt8], pts: UInt64)] = []
        var offset = headerSize
        while offset + 12 <= b.count {
            let size = Int(le32(b, offset))
            let pts = UInt64(le32(b, offset + 4)) | UInt64(le32(b, offset + 8)) << 32
            offset += 12
            guard size > 0, size <= b.count - offset else { throw MediaInputError(description: "\(path): frame at \(offset - 12) runs past the end") }
            frames.append((Array(b[offset..<offset + size]), pts))
            offset += size
        }
        guard !frames.isEmpty else { throw MediaInputError(description: "\(path): no frames") }
        // pts × scale / rate seconds → 90 kHz ticks
        func ticks(_ d: UInt64) -> UInt32 { UInt32(clamping: d &* scale &* 90_000 / rate) }
        var out: [MediaFrame] = []
        for (i, f) in frames.enumerated() {
            let next = i + 1 < frames.count ? frames[i + 1].pts : nil
            let previous = i > 0 ? frames[i - 1].pts : nil
            let d = next.map { $0 > f.pts ? $0 - f.pts : 1 } ?? previous.map { f.pts > $0 ? f.pts - $0 : 1 } ?? 1
            out.append(MediaFrame(bytes: f.bytes, ticks: max(1, ticks(d)), isKeyframe: f.bytes[0] & 1 == 0))
        }
        return out
    }

    /// Opus packets from an Ogg file (RFC 7845): the pages' segments put together into packets,
    /// OpusHead and OpusTags skipped, each packet lasting what its TOC says (RFC 6716 §3.1).
    static func oggOpus(_ path: String) throws(MediaInputError) -> [MediaFrame] {
        let b = try load(path)
        var packets: [[UInt8]] = []
        var partial: [UInt8] = []
        var offset = 0
        while offset + 27 <= b.count {
            guard b[offset..<offset + 4].elementsEqual("OggS".utf8) else { throw MediaInputError(description: "\(path): no Ogg page at \(offset)") }
            let segments = Int(b[offset + 26])
            guard offset + 27 + segments <= b.count else { throw MediaInputError(description: "\(path): truncated page at \(offset)") }
            var body = offset + 27 + segments
            for s in 0..<segments {
                let length = Int(b[offset + 27 + s])
                guard body + length <= b.count else { throw MediaInputError(description: "\(path): truncated page at \(offset)") }
                partial += b[body..<body + length]
                body += length
                if length < 255 {
                    packets.append(partial)
                    partial = []
                }
            }
            offset = body
        }
        guard packets.count > 2, packets[0].starts(with: "OpusHead".utf8) else { throw MediaInputError(description: "\(path): not Ogg Opus") }
        return packets.dropFirst(2).compactMap { p in
            guard let samples = opusSamples(p) else { return nil }
            return MediaFrame(bytes: p, ticks: samples, isKeyframe: true)
        }
    }

    /// Samples (at 48 kHz) in one Opus packet, from its TOC byte; nil for an unusable packet.
    static func opusSamples(_ p: [UInt8]) -> UInt32? {
        guard let toc = p.first else { return nil }
        let config = Int(toc >> 3)
        let perFrame: UInt32  // samples at 48 kHz
        switch config {
        case 0...11: perFrame = [480, 960, 1920, 2880][config % 4]  // SILK 10/20/40/60 ms
        case 12...15: perFrame = [480, 960][config % 2]  // hybrid 10/20 ms
        default: perFrame = [120, 240, 480, 960][config % 4]  // CELT 2.5/5/10/20 ms
        }
        switch toc & 3 {
        case 0: return perFrame
        case 1, 2: return perFrame * 2
        default:
            guard p.count > 1, p[1] & 0x3F > 0 else { return nil }
            return perFrame * UInt32(p[1] & 0x3F)
        }
    }

    private static func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    private static func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
