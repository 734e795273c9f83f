// --record: what the receiver writes, with the core's writers, built in memory and written at
// close: VP8 frames into an IVF file (timebase 1/90000, timestamps from RTP's, from the first
// keyframe on), Opus packets into an Ogg Opus file.
import NiceWebRTCCore

/// One recorded file in the making.
struct MediaRecording: Sendable {
    let kind: MediaKind
    private(set) var frames = 0
    private var ivf: IvfWriter?
    private var ogg: OggOpusWriter?
    private var firstTimestamp: UInt32?
    private var bytes = 0

    /// The most a recording holds; frames past it are left out.
    static let maximumBytes = 64 << 20

    init(kind: MediaKind) {
        self.kind = kind
        if kind == .audio { ogg = try? OggOpusWriter(tags: OpusTags(vendor: "media-peer")) }
    }

    /// Adds one frame; a video recording starts at the first VP8 keyframe (with its size).
    mutating func add(_ frame: EncodedFrame) {
        guard bytes + frame.bytes.count < Self.maximumBytes else { return }
        if kind == .video {
            if ivf == nil {
                // A VP8 key frame states its size; an H.264 one does not (and IVF holds VP8 here).
                guard frame.isKeyframe, frame.dimensions != nil else { return }
                let size = frame.dimensions
                ivf = try? IvfWriter(header: IvfHeader(
                    width: UInt16(clamping: size?.width ?? 0), height: UInt16(clamping: size?.height ?? 0), timebaseDenominator: 90_000))
                firstTimestamp = frame.timestamp
            }
            guard (try? ivf?.write(frame.bytes, timestamp: UInt64(frame.timestamp &- (firstTimestamp ?? 0)))) != nil else { return }
        } else {
            guard (try? ogg?.write(frame.bytes)) != nil else { return }
        }
        bytes += frame.bytes.count
        frames += 1
    }

    /// The whole file (nil when nothing was recorded).
    var file: [UInt8]? {
        if var ivf {
            ivf.finish()
            return ivf.output
        }
        if var ogg, frames > 0 {
            ogg.finish()
            return ogg.output
        }
        return nil
    }
}
