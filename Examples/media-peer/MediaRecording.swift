// --record: what the receiver writes, built in memory and written at close. VP8 frames into an
// IVF file (timebase 1/90000, pts from the RTP timestamps), Opus packets into an Ogg file
// (RFC 7845: OpusHead, OpusTags, one packet per page with its granule position).
import Foundation
import NiceWebRTCCore

/// One recorded file in the making.
struct MediaRecording: Sendable {
    let kind: MediaKind
    private(set) var body: [UInt8] = []
    private(set) var frames = 0
    private var firstTimestamp: UInt32?
    private var dimensions: FrameDimensions?
    private var granule: UInt64 = 0
    private var pageSequence: UInt32 = 2
    private let serial = UInt32.random(in: 0...UInt32.max)

    /// The most a recording holds; frames past it are left out.
    static let maximumBytes = 64 << 20

    init(kind: MediaKind) { self.kind = kind }

    /// Adds one frame; a video recording starts at the first keyframe.
    mutating func add(_ frame: EncodedFrame) {
        guard body.count + frame.bytes.count < Self.maximumBytes else { return }
        if kind == .video {
            if firstTimestamp == nil {
                guard frame.isKeyframe else { return }
                firstTimestamp = frame.timestamp
                dimensions = frame.dimensions
            }
            let pts = UInt64(frame.timestamp &- (firstTimestamp ?? 0))
            appendLE(&body, UInt32(frame.bytes.count))
            appendLE(&body, UInt32(truncatingIfNeeded: pts))
            appendLE(&body, UInt32(truncatingIfNeeded: pts >> 32))
            body += frame.bytes
        } else {
            granule += UInt64(MediaInput.opusSamples(frame.bytes) ?? 960)
            body += Self.page(frame.bytes, granule: granule, serial: serial, sequence: pageSequence, flags: 0)
            pageSequence &+= 1
        }
        frames += 1
    }

    /// The whole file.
    var file: [UInt8] {
        if kind == .video {
            var header = Array("DKIF".utf8)
            appendLE(&header, UInt16(0))  // version
            appendLE(&header, UInt16(32))  // header size
            header += Array("VP80".utf8)
            appendLE(&header, UInt16(clamping: dimensions?.width ?? 0))
            appendLE(&header, UInt16(clamping: dimensions?.height ?? 0))
            appendLE(&header, UInt32(90_000))  // timebase denominator
            appendLE(&header, UInt32(1))  // numerator
            appendLE(&header, UInt32(frames))
            appendLE(&header, UInt32(0))
            return header + body
        }
        // OpusHead: version 1, 2 channels, pre-skip 312, 48 kHz, gain 0, mapping family 0.
        var head = Array("OpusHead".utf8) + [1, 2]
        appendLE(&head, UInt16(312))
        appendLE(&head, UInt32(48_000))
        appendLE(&head, UInt16(0))
        head.append(0)
        var tags = Array("OpusTags".utf8)
        let vendor = Array("media-peer".utf8)
        appendLE(&tags, UInt32(vendor.count))
        tags += vendor
        appendLE(&tags, UInt32(0))
        var out = Self.page(head, granule: 0, serial: serial, sequence: 0, flags: 0x02)
        out += Self.page(tags, granule: 0, serial: serial, sequence: 1, flags: 0)
        out += body
        // An end-of-stream page (no packets) closes the stream.
        out += Self.page([], granule: granule, serial: serial, sequence: pageSequence, flags: 0x04)
        return out
    }

    /// One Ogg page holding one packet (< 255 × 255 bytes), with its CRC.
    static func page(_ packet: [UInt8], granule: UInt64, serial: UInt32, sequence: UInt32, flags: UInt8) -> [UInt8] {
        var lacing = [UInt8](repeating: 255, count: packet.count / 255)
        lacing.append(UInt8(packet.count % 255))
        if packet.isEmpty { lacing = [] }
        var p = Array("OggS".utf8) + [0, flags]
        appendLE(&p, UInt32(truncatingIfNeeded: granule))
        appendLE(&p, UInt32(truncatingIfNeeded: granule >> 32))
        appendLE(&p, serial)
        appendLE(&p, sequence)
        appendLE(&p, UInt32(0))  // CRC, filled in below
        p.append(UInt8(lacing.count))
        p += lacing
        p += packet
        let crc = oggCrc(p)
        p[22] = UInt8(truncatingIfNeeded: crc)
        p[23] = UInt8(truncatingIfNeeded: crc >> 8)
        p[24] = UInt8(truncatingIfNeeded: crc >> 16)
        p[25] = UInt8(truncatingIfNeeded: crc >> 24)
        return p
    }

    /// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR.
    static func oggCrc(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0
        for byte in bytes {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        return crc
    }
}

private func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
}
