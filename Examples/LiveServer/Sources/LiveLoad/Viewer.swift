// A WHEP viewer: a recvonly PeerConnection reading whole frames from the video track, timing the
// first decodable frame (a keyframe) from the POST, and, over the measurement window, counting
// the publisher's frames it got and the longest gap between two of them (a freeze).
import Logging
import NiceWebRTC
import Synchronization

/// One WHEP viewer. ``join(...)`` negotiates and reads; ``beginWindow(index:)`` and
/// ``endWindow(at:index:)`` bracket the measurement.
final class Viewer: Sendable {
    /// What a viewer saw.
    struct Record: Sendable {
        var failure: String?
        var postedAt: ContinuousClock.Instant?
        /// POST → answer applied, and → `connected`.
        var answer: Duration?
        var connected: Duration?
        /// POST → the first keyframe (the first frame a decoder can show).
        var firstFrame: Duration?
        var frames = 0
        var framesBeforeKeyframe = 0
        // The window: frames with an index in [windowFirst, windowEnd) arriving after its start.
        var windowFirst: UInt32?
        var windowEnd: UInt32?
        var windowStart: ContinuousClock.Instant?
        var lastInWindow: ContinuousClock.Instant?
        var windowFrames = 0
        var longestGap: Duration = .zero
        var videoPackets0: UInt64 = 0
        var audioPackets0: UInt64 = 0
        var videoPackets: UInt64 = 0
        var audioPackets: UInt64 = 0
        var incompleteFrames: UInt64 = 0
        var nacksSent: UInt64 = 0
        var plisSent: UInt64 = 0
    }

    let number: Int
    private let record = Mutex(Record())
    private let tracks = Mutex<(video: RemoteTrack?, audio: RemoteTrack?)>((nil, nil))
    private let resource = Mutex<WhipResource?>(nil)
    private let connection = Mutex<PeerConnection?>(nil)
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(number: Int) { self.number = number }

    /// A copy of what the viewer saw.
    var snapshot: Record { record.withLock { $0 } }

    /// Negotiates with `/whep/{stream}` and reads the video frames until the connection closes.
    /// Failures are kept in the record (`failure`), not thrown.
    func join(configuration: PeerConnection.Configuration, http: WhipHttp, stream: String, timeout: Duration, logger: Logger) async {
        let pc: PeerConnection
        do {
            pc = try PeerConnection(configuration: configuration, logger: logger)
            try pc.addTransceiver(.video, .init(direction: .recvonly))
            try pc.addTransceiver(.audio, .init(direction: .recvonly))
        } catch {
            fail("PeerConnection: \(error)")
            return
        }
        connection.withLock { $0 = pc }
        let events = pc.trackEvents()
        let task = Task { [self] in
            for await event in events {
                switch event.track.kind {
                case .video:
                    tracks.withLock { $0.video = event.track }
                    // Not awaited here: each track's frames are read on a task of their own.
                    Task { await self.read(event.track.frames()) }
                case .audio:
                    tracks.withLock { $0.audio = event.track }
                }
            }
        }
        reader.withLock { $0 = task }
        do {
            let negotiated = try await WhipNegotiation.run(pc, http: http, endpoint: "whep", stream: stream, gatherTimeout: .seconds(5))
            resource.withLock { $0 = negotiated.resource }
            record.withLock { r in
                r.postedAt = negotiated.postedAt
                r.answer = negotiated.answeredAt - negotiated.postedAt
            }
        } catch {
            fail("\(error)")
            return
        }
        do {
            try await pc.waitUntilConnected(timeout: timeout)
            record.withLock { r in r.connected = r.postedAt.map { .now - $0 } }
        } catch {
            fail("not connected: \(error)")
        }
    }

    private func fail(_ reason: String) {
        record.withLock { if $0.failure == nil { $0.failure = reason } }
    }

    private func read(_ frames: AsyncStream<EncodedFrame>) async {
        for await frame in frames {
            let now = ContinuousClock.now
            let index = SyntheticVideo.index(of: frame.bytes)
            record.withLock { r in
                if r.firstFrame == nil {
                    guard frame.isKeyframe else {
                        r.framesBeforeKeyframe += 1
                        return
                    }
                    r.firstFrame = r.postedAt.map { now - $0 }
                }
                r.frames += 1
                guard let start = r.windowStart, let first = r.windowFirst, let index, index >= first, r.windowEnd.map({ index < $0 }) ?? true else { return }
                r.windowFrames += 1
                r.longestGap = max(r.longestGap, now - (r.lastInWindow ?? start))
                r.lastInWindow = now
            }
        }
    }

    /// Starts the window now: frames from `index` on count.
    func beginWindow(index: UInt32) {
        let (video, audio) = tracks.withLock { $0 }
        let now = ContinuousClock.now
        record.withLock { r in
            r.windowStart = now
            r.windowFirst = index
            r.videoPackets0 = video?.receivedPackets ?? 0
            r.audioPackets0 = audio?.receivedPackets ?? 0
        }
    }

    /// Ends the window: the publisher's last frame was `index - 1`, written before `end`; called
    /// once the frames in flight arrived. The gap from the last frame to `end` counts as a freeze.
    func endWindow(at end: ContinuousClock.Instant, index: UInt32) async {
        let (video, audio) = tracks.withLock { $0 }
        let stats = await connection.withLock { $0 }?.stats()
        record.withLock { r in
            r.windowEnd = index
            if let start = r.windowStart { r.longestGap = max(r.longestGap, end - (r.lastInWindow ?? start)) }
            r.videoPackets = (video?.receivedPackets ?? 0) - r.videoPackets0
            r.audioPackets = (audio?.receivedPackets ?? 0) - r.audioPackets0
            r.incompleteFrames = video?.incompleteFrames ?? 0
            r.nacksSent = stats?.inboundRtp.reduce(0) { $0 + $1.nackCount } ?? 0
            r.plisSent = stats?.inboundRtp.reduce(0) { $0 + $1.pliCount } ?? 0
        }
    }

    /// Ends the session (DELETE) and closes the connection.
    func leave(http: WhipHttp) async {
        if let resource = resource.withLock({ $0 }) { await http.delete(resource) }
        await connection.withLock { $0 }?.closeAndWait()
        reader.withLock { $0 }?.cancel()
    }
}
