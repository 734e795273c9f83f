// Counts what a RemoteTrack brings: its packets put together into frames (the core's
// FrameAssembler with the VP8, H.264 or Opus depacketizer of the packet's payload type), keyframes,
// frames dropped for a gap; --pli-at asks for a keyframe and times its arrival; --record keeps
// the frames for the file.
import Logging
import NiceWebRTC
import Synchronization

final class TrackCounter: Sendable {
    let kind: MediaKind
    let track: RemoteTrack
    private let state: Mutex<State>

    struct Counts: Sendable {
        var frames = 0
        var keyframes = 0
        var incomplete = 0
        var packets = 0
    }

    private struct State: Sendable {
        var counts = Counts()
        var firstPacket: ContinuousClock.Instant?
        /// When the --pli-at request went (program ms), until its keyframe arrived.
        var pliSentMs: Int?
        var recording: MediaRecording?
    }

    init(track: RemoteTrack, record: Bool) {
        kind = track.kind
        self.track = track
        state = Mutex(State(recording: record ? MediaRecording(kind: track.kind) : nil))
    }

    var counts: Counts { state.withLock { $0.counts } }
    var recording: MediaRecording? { state.withLock { $0.recording } }

    /// Reads the track until it ends. `ms` is the program's clock; `pli` writes the `pli` line.
    func run(pliAt: Double?, ms: @escaping @Sendable () -> Int, logger: Logger, pli: @escaping @Sendable (Int, Int) -> Void) -> Task<Void, Never> {
        let packets = track.packets(bufferCapacity: 4096)
        return Task {
            // The answerer's track is announced before its answer settles the codecs: read them
            // at the first packet of each payload type.
            func codec(_ payloadType: UInt8) -> String? {
                self.track.codecs.first { $0.payloadType == payloadType }?.name.lowercased()
            }
            var assemblers: [UInt8: FrameAssembler] = [:]
            var pliTask: Task<Void, Never>?
            var sawKeyframe = false
            for await packet in packets {
                if self.state.withLock({ s in
                    defer { if s.firstPacket == nil { s.firstPacket = .now } }
                    return s.firstPacket == nil
                }), let pliAt, self.kind == .video {
                    pliTask = Task {
                        try? await Task.sleep(for: .milliseconds(Int(pliAt * 1000)))
                        guard !Task.isCancelled else { return }
                        let sentMs = ms()
                        self.state.withLock { $0.pliSentMs = sentMs }
                        logger.info("--pli-at: asking for a keyframe (sent: \(self.track.requestKeyframe()))")
                    }
                }
                if assemblers[packet.payloadType] == nil {
                    switch codec(packet.payloadType) {
                    case "vp8": assemblers[packet.payloadType] = FrameAssembler(depacketizer: Vp8Depacketizer())
                    case "h264": assemblers[packet.payloadType] = FrameAssembler(depacketizer: H264Depacketizer())
                    case "opus": assemblers[packet.payloadType] = FrameAssembler(depacketizer: OpusDepacketizer())
                    default:
                        self.state.withLock { $0.counts.packets += 1 }
                        continue  // a codec media-peer does not count
                    }
                }
                let unit = RtpPayloadUnit(payload: packet.payload, marker: packet.marker, timestamp: packet.timestamp, sequenceNumber: packet.sequenceNumber)
                let frames = assemblers[packet.payloadType]?.push(unit) ?? []
                let isH264 = assemblers[packet.payloadType]?.depacketizer is H264Depacketizer
                let incomplete = assemblers.values.reduce(0) { $0 + $1.counters.incompleteFrames }
                let now = ms()
                let done = self.state.withLock { s -> (sent: Int, at: Int)? in
                    s.counts.packets += 1
                    s.counts.incomplete = incomplete
                    var done: (Int, Int)?
                    for frame in frames {
                        s.counts.frames += 1
                        if frame.isKeyframe, self.kind == .video {
                            s.counts.keyframes += 1
                            if let sent = s.pliSentMs {
                                done = (sent, now)
                                s.pliSentMs = nil
                            }
                        }
                        if !isH264 { s.recording?.add(frame) }  // the IVF file holds VP8 only
                    }
                    return done
                }
                if let done { pli(done.sent, done.at) }
                if self.kind == .video, !sawKeyframe, let first = frames.first {
                    sawKeyframe = frames.contains { $0.isKeyframe }
                    if !sawKeyframe {
                        // Frames before any keyframe cannot be decoded: ask for one (rate-limited).
                        logger.info("video frame \(first.timestamp) before any keyframe: asking for one")
                        self.track.requestKeyframe()
                    }
                }
            }
            pliTask?.cancel()
        }
    }
}
