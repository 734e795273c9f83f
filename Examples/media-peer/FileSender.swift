// Sends one file's frames on a LocalTrack, paced at the file's timing: frame i goes out when
// the media time before it has passed since the start, through `LocalTrack.write(frame:duration:)`
// (the library packetizes it per sender and advances the RTP clock by its duration). A keyframe
// request (PLI/FIR) makes the next frame the file's latest keyframe at or before the current
// position (the file replays from there; the timestamps keep advancing), since a file cannot
// encode a new one. A file shorter than the duration is sent again from its start.
import JsonlPeer
import Logging
import NiceWebRTC
import Synchronization

final class FileSender: Sendable {
    let kind: MediaKind
    let track: LocalTrack
    private let frames: [MediaFrame]
    private let clockRate: UInt32
    /// Set by a keyframe request, taken by the send loop.
    private let keyframeWanted = Atomic<Bool>(false)
    private let totals = Mutex(Totals())

    struct Totals: Sendable {
        var frames = 0
        var bytes = 0
        var keyframes = 0
        var keyframeRequests = 0
    }

    init(kind: MediaKind, frames: [MediaFrame], track: LocalTrack) {
        self.kind = kind
        self.frames = frames
        self.track = track
        clockRate = kind == .video ? 90_000 : 48_000
    }

    var sent: Totals { totals.withLock { $0 } }

    /// Listens for the peer's keyframe requests until the track's stream finishes.
    func watchKeyframeRequests(logger: Logger) -> Task<Void, Never> {
        let requests = track.keyframeRequests()
        return Task {
            for await request in requests {
                logger.info("\(self.kind) keyframe request: \(request)")
                self.totals.withLock { $0.keyframeRequests += 1 }
                self.keyframeWanted.store(true, ordering: .releasing)
            }
        }
    }

    /// Sends until `duration` seconds of media went out or `stop` is set; `report` is called
    /// about once per second of media time.
    func run(duration: Double, stop: StopFlag, logger: Logger, report: @Sendable () -> Void) async {
        guard !frames.isEmpty else { return }
        let limit = UInt64(duration * Double(clockRate))
        var elapsed: UInt64 = 0  // media ticks sent
        var index = 0
        var nextReport = UInt64(clockRate)
        let start = ContinuousClock.now
        while elapsed < limit, !stop.isSet {
            try? await Task.sleep(until: start + Self.duration(ticks: elapsed, clockRate), clock: .continuous)
            if keyframeWanted.exchange(false, ordering: .acquiringAndReleasing) {
                let back = frames[...index].lastIndex { $0.isKeyframe } ?? 0
                logger.info("\(kind): going on from the keyframe at frame \(back) (was at \(index))")
                index = back
            }
            let frame = frames[index]
            do throws(RtpError) {
                try track.write(frame: frame.bytes, duration: Self.duration(ticks: UInt64(frame.ticks), clockRate))
                totals.withLock { t in
                    t.frames += 1
                    t.bytes += frame.bytes.count
                    if frame.isKeyframe, kind == .video { t.keyframes += 1 }
                }
            } catch {
                logger.warning("\(kind): frame \(index) not sent: \(error)")
            }
            elapsed += UInt64(frame.ticks)
            index = (index + 1) % frames.count
            if elapsed >= nextReport {
                nextReport += UInt64(clockRate)
                report()
            }
        }
    }

    /// `ticks` of a `clockRate` clock, exactly (Duration keeps attoseconds).
    static func duration(ticks: UInt64, _ clockRate: UInt32) -> Duration {
        .seconds(Int64(clamping: ticks)) / Int(clockRate)
    }
}
