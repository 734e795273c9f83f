// The publisher's synthetic media: VP8-shaped frames at 1.5 Mbit/s, 30 fps (NiceBench's `forward`
// stream, as whole frames for `LocalTrack.write(frame:duration:)`) and 20 ms Opus packets.

/// A 1.5 Mbit/s, 30 frames/s VP8-shaped video stream: a keyframe every 2 s (or when asked for)
/// 8× the size of a delta frame, each frame with a valid VP8 frame tag (RFC 6386 §9.1: the key
/// frame bit, version 0, show_frame, the first partition's size; a keyframe's start code and a
/// 640×480 size) followed by filler. Bytes 10–13 of every frame hold its index (big-endian), so a
/// viewer knows exactly which frames it got.
enum SyntheticVideo {
    static let fps = 30
    static let keyframeInterval = 60
    static let bitrate = 1_500_000
    /// (K + 59 D) / 60 = bitrate / 8 / fps with K = 8 D.
    static let deltaBytes = bitrate / 8 / fps * keyframeInterval / (keyframeInterval - 1 + 8)
    static let keyBytes = 8 * deltaBytes
    static let frameDuration: Duration = .seconds(1) / fps
    /// Where the frame index sits.
    static let indexOffset = 10

    /// Frame `index`, a keyframe or a delta frame.
    static func frame(_ index: UInt32, keyframe: Bool) -> [UInt8] {
        let size = keyframe ? keyBytes : deltaBytes
        var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size)
        // Frame tag, 24 bits little-endian: bit 0 = 0 for a keyframe, bits 1–3 version 0, bit 4
        // show_frame, bits 5–23 the first partition's size (here a made-up 100 bytes).
        let tag = UInt32(keyframe ? 0 : 1) | 1 << 4 | 100 << 5
        bytes[0] = UInt8(truncatingIfNeeded: tag)
        bytes[1] = UInt8(truncatingIfNeeded: tag >> 8)
        bytes[2] = UInt8(truncatingIfNeeded: tag >> 16)
        if keyframe {
            // Start code, then width and height (14 bits each, no scaling), little-endian.
            bytes[3] = 0x9D
            bytes[4] = 0x01
            bytes[5] = 0x2A
            bytes[6] = UInt8(640 & 0xFF)
            bytes[7] = UInt8(640 >> 8)
            bytes[8] = UInt8(480 & 0xFF)
            bytes[9] = UInt8(480 >> 8)
        }
        for i in 0..<4 { bytes[indexOffset + i] = UInt8(truncatingIfNeeded: index >> (24 - 8 * i)) }
        return bytes
    }

    /// The index a frame of ``frame(_:keyframe:)`` carries (nil: too short to be one).
    static func index(of frame: [UInt8]) -> UInt32? {
        guard frame.count >= indexOffset + 4 else { return nil }
        return (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(frame[indexOffset + $1]) }
    }
}

/// 20 ms Opus packets of 80 bytes (32 kbit/s): TOC 0xF8 (config 31, CELT-only fullband 20 ms,
/// mono, one frame) and filler; nobody decodes them, the server forwards them.
enum SyntheticAudio {
    static let packetDuration: Duration = .milliseconds(20)
    static let packet: [UInt8] = [0xF8, 0xFF, 0xFE] + [UInt8](repeating: 0, count: 77)
}
