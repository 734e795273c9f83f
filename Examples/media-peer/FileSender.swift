// Sends one file's frames on a LocalTrack, paced at the file's timing: frame i goes out when
// the media time before it has passed since the start. Frames are packetized here with the
// core's packetizers (VP8: RFC 7741, Opus: RFC 7587); the LocalTrack rewrites SSRC, payload type
// and sequence numbers per sender. A keyframe request (PLI/FIR) makes the next frame the file's
// latest keyframe at or before the current position (the file replays from there; the RTP
// timestamps keep advancing), since a file cannot encode a new one.
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
        var packets = 0
        var bytes = 0
        var keyframes = 0
        var keyframeRequests = 0
    }

    /// What fits one SRTP packet on a 1,200-byte path: 12 bytes of RTP header, the mid extension
    /// (up to 8), SRTP's 16-byte tag, with room to spare.
    static let maximumPayloadSize = 1_100

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
    func run(duration: Double, stop: StopFlag, logger: Logger, report: @Sendable (Totals) -> Void) async {
        guard !frames.isEmpty else { return }
        var packetizer: any RtpPacketizer = kind == .video
            ? Vp8Packetizer(firstPictureID: UInt16.random(in: 0...0x7FFF)) : OpusPacketizer()
        let firstTimestamp = UInt32.random(in: 0...UInt32.max)
        let limit = UInt64(duration * Double(clockRate))
        var elapsed: UInt64 = 0  // media ticks sent
        var sequenceNumber = UInt16.random(in: 0...UInt16.max)
        var index = 0
        var nextReport = UInt64(clockRate)
        let start = ContinuousClock.now
        while elapsed < limit, !stop.isSet {
            let due = start + .nanoseconds(Int64(elapsed * 1_000_000_000 / UInt64(clockRate)))
            try? await Task.sleep(until: due, clock: .continuous)
            if keyframeWanted.exchange(false, ordering: .acquiringAndReleasing) {
                let back = frames[...index].lastIndex { $0.isKeyframe } ?? 0
                logger.info("\(kind): going on from the keyframe at frame \(back) (was at \(index))")
                index = back
            }
            let frame = frames[index]
            let units: [RtpPayloadUnit]
            do throws(RtpError) {
                units = try packetizer.packetize(
                    frame.bytes, timestamp: firstTimestamp &+ UInt32(truncatingIfNeeded: elapsed),
                    firstSequenceNumber: sequenceNumber, maximumPayloadSize: Self.maximumPayloadSize)
            } catch {
                logger.warning("\(kind): frame \(index) not sent: \(error)")
                units = []
            }
            for unit in units {
                track.write(RtpPacket(marker: unit.marker, payloadType: 0, sequenceNumber: unit.sequenceNumber,
                                      timestamp: unit.timestamp, ssrc: 0, payload: unit.payload))
            }
            sequenceNumber &+= UInt16(truncatingIfNeeded: units.count)
            let now = totals.withLock { t -> Totals in
                if !units.isEmpty {
                    t.frames += 1
                    t.packets += units.count
                    t.bytes += units.reduce(0) { $0 + $1.payload.count }
                    if frame.isKeyframe, kind == .video { t.keyframes += 1 }
                }
                return t
            }
            elapsed += UInt64(frame.ticks)
            index = (index + 1) % frames.count
            if elapsed >= nextReport {
                nextReport += UInt64(clockRate)
                report(now)
            }
        }
    }
}
