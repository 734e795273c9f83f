// Counts what a RemoteTrack brings through `frames()` (the library's depacketized VP8, H.264
// and Opus frames; an incomplete one is dropped, counted in `incompleteFrames`, and a video
// keyframe asked for): frames, keyframes; --pli-at asks for a keyframe and times its arrival;
// --record keeps the frames for the file.
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
        var frames = 0
        var keyframes = 0
        /// When the --pli-at request went (program ms), until its keyframe arrived.
        var pliSentMs: Int?
        var recording: MediaRecording?
    }

    init(track: RemoteTrack, record: Bool) {
        kind = track.kind
        self.track = track
        state = Mutex(State(recording: record ? MediaRecording(kind: track.kind) : nil))
    }

    var counts: Counts {
        let (frames, keyframes) = state.withLock { ($0.frames, $0.keyframes) }
        return Counts(frames: frames, keyframes: keyframes, incomplete: Int(track.incompleteFrames), packets: Int(track.receivedPackets))
    }

    var recording: MediaRecording? { state.withLock { $0.recording } }

    /// Reads the track until it ends. `ms` is the program's clock; `pli` writes the `pli` line.
    func run(pliAt: Double?, ms: @escaping @Sendable () -> Int, logger: Logger, pli: @escaping @Sendable (Int, Int) -> Void) -> Task<Void, Never> {
        let frames = track.frames(bufferCapacity: 1024)
        return Task {
            var pliTask: Task<Void, Never>?
            var sawKeyframe = false
            for await frame in frames {
                let now = ms()
                let (first, done) = self.state.withLock { s -> (Bool, (Int, Int)?) in
                    s.frames += 1
                    var done: (Int, Int)?
                    if frame.isKeyframe, self.kind == .video {
                        s.keyframes += 1
                        if let sent = s.pliSentMs {
                            done = (sent, now)
                            s.pliSentMs = nil
                        }
                    }
                    s.recording?.add(frame)
                    return (s.frames == 1, done)
                }
                if let done { pli(done.0, done.1) }
                guard self.kind == .video else { continue }
                if first, let pliAt {
                    pliTask = Task {
                        try? await Task.sleep(for: .milliseconds(Int(pliAt * 1000)))
                        guard !Task.isCancelled else { return }
                        let sentMs = ms()
                        self.state.withLock { $0.pliSentMs = sentMs }
                        logger.info("--pli-at: asking for a keyframe (sent: \(self.track.requestKeyframe()))")
                    }
                }
                if !sawKeyframe {
                    sawKeyframe = frame.isKeyframe
                    if !sawKeyframe {
                        // Frames before any keyframe cannot be decoded: ask for one (rate-limited).
                        logger.info("video frame \(frame.timestamp) before any keyframe: asking for one")
                        self.track.requestKeyframe()
                    }
                }
            }
            pliTask?.cancel()
        }
    }
}
