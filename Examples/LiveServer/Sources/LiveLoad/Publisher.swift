// The WHIP publisher: a PeerConnection sending the synthetic video and audio from a thread of its
// own, paced by absolute deadlines, with a keyframe on each request the server forwards.
import Foundation
import Logging
import NiceWebRTC
import Synchronization

/// One WHIP publisher: ``connect(configuration:http:stream:timeout:logger:)``, then
/// ``startSending()`` starts the pacing thread and ``stopSending()`` stops it.
final class Publisher: Sendable {
    /// What the publisher sent so far.
    struct Sent: Sendable {
        var frames = 0
        var keyframes = 0
        var keyframeRequests = 0
        var audioPackets = 0
        var writeErrors = 0
        /// Frames not sent because the thread fell more than 1 s behind.
        var skippedFrames = 0
    }

    let connection: PeerConnection
    let resource: WhipResource
    let video: LocalTrack
    let audio: LocalTrack
    private let counts = Mutex(Sent())
    /// The index the next video frame gets.
    private let next = Atomic<UInt32>(0)
    private let keyframeWanted = Atomic<Bool>(false)
    private let stop = Atomic<Bool>(false)
    private let finished: AsyncStream<Void>
    private let finishedContinuation: AsyncStream<Void>.Continuation
    private let watcher = Mutex<Task<Void, Never>?>(nil)

    private init(connection: PeerConnection, resource: WhipResource, video: LocalTrack, audio: LocalTrack) {
        self.connection = connection
        self.resource = resource
        self.video = video
        self.audio = audio
        (finished, finishedContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// A connected publisher of `stream` (its offer POSTed to `/whip/{stream}`, `connected`
    /// within `timeout`).
    static func connect(configuration: PeerConnection.Configuration, http: WhipHttp, stream: String, timeout: Duration, logger: Logger) async throws(LoadError) -> Publisher {
        let pc: PeerConnection
        do {
            pc = try PeerConnection(configuration: configuration, logger: logger)
        } catch {
            throw LoadError("PeerConnection: \(error)")
        }
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "video", streamId: "live-load")
        let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "audio", streamId: "live-load")
        do {
            for track in [video, audio] {
                let rtp = try pc.addTrack(track)
                try pc.transceivers.first { $0.sender === rtp }?.setDirection(.sendonly)
            }
        } catch {
            pc.close()
            throw LoadError("addTrack: \(error)")
        }
        let negotiated: Negotiated
        do {
            negotiated = try await WhipNegotiation.run(pc, http: http, endpoint: "whip", stream: stream, gatherTimeout: .seconds(5))
        } catch {
            pc.close()
            throw error
        }
        do {
            try await pc.waitUntilConnected(timeout: timeout)
        } catch {
            await http.delete(negotiated.resource)
            pc.close()
            throw LoadError("publisher not connected: \(error)")
        }
        return Publisher(connection: pc, resource: negotiated.resource, video: video, audio: audio)
    }

    /// The index the next video frame gets (frames 0..<nextIndex were written).
    var nextIndex: UInt32 { next.load(ordering: .acquiring) }

    /// A copy of the counters.
    var sent: Sent { counts.withLock { $0 } }

    /// The video and audio RTP packets sent so far, retransmissions left out (outbound-rtp).
    func packetsSent() async -> (video: UInt64, audio: UInt64) {
        let outbound = await connection.stats().outboundRtp
        func sum(_ kind: String) -> UInt64 {
            outbound.filter { $0.kind == kind }.reduce(0) { $0 + $1.packetsSent - min($1.packetsSent, $1.retransmittedPacketsSent) }
        }
        return (sum("video"), sum("audio"))
    }

    /// Starts the keyframe-request watcher and the pacing thread: a video frame every 1/30 s (a
    /// keyframe every 2 s, or the next frame after a request), an Opus packet every 20 ms.
    func startSending() {
        let requests = video.keyframeRequests()
        let task = Task { [self] in
            for await _ in requests {
                keyframeWanted.store(true, ordering: .releasing)
                counts.withLock { $0.keyframeRequests += 1 }
            }
        }
        watcher.withLock { $0 = task }
        let thread = Thread { [self] in
            pace()
            finishedContinuation.finish()
        }
        thread.name = "live-load-publisher"
        thread.start()
    }

    /// Stops the pacing thread and waits for it.
    func stopSending() async {
        stop.store(true, ordering: .releasing)
        for await _ in finished {}
        watcher.withLock { $0 }?.cancel()
    }

    /// Ends the session (DELETE) and closes the connection.
    func end(http: WhipHttp) async {
        await http.delete(resource)
        video.finishKeyframeRequests()
        await connection.closeAndWait()
    }

    private func pace() {
        let clock = ContinuousClock()
        var nextVideo = clock.now, nextAudio = nextVideo
        var sinceKeyframe = SyntheticVideo.keyframeInterval
        while !stop.load(ordering: .acquiring) {
            let now = clock.now
            if now >= nextVideo {
                if now - nextVideo > .seconds(1) {
                    // Far behind (the machine stalled): resume from now rather than burst.
                    let behind = Int(((now - nextVideo) / SyntheticVideo.frameDuration).rounded(.down))
                    counts.withLock { $0.skippedFrames += behind }
                    nextVideo = now
                }
                let wanted = keyframeWanted.exchange(false, ordering: .acquiringAndReleasing)
                let keyframe = wanted || sinceKeyframe >= SyntheticVideo.keyframeInterval
                sinceKeyframe = keyframe ? 1 : sinceKeyframe + 1
                let index = next.load(ordering: .relaxed)
                let failed = (try? video.write(frame: SyntheticVideo.frame(index, keyframe: keyframe), duration: SyntheticVideo.frameDuration)) == nil
                next.store(index &+ 1, ordering: .releasing)
                counts.withLock { c in
                    c.frames += 1
                    if keyframe { c.keyframes += 1 }
                    if failed { c.writeErrors += 1 }
                }
                nextVideo += SyntheticVideo.frameDuration
            }
            if now >= nextAudio {
                if now - nextAudio > .seconds(1) { nextAudio = now }
                let failed = (try? audio.write(frame: SyntheticAudio.packet, duration: SyntheticAudio.packetDuration)) == nil
                counts.withLock { c in
                    c.audioPackets += 1
                    if failed { c.writeErrors += 1 }
                }
                nextAudio += SyntheticAudio.packetDuration
            }
            let due = min(nextVideo, nextAudio)
            let left = due - clock.now
            if left > .zero {
                let (seconds, attoseconds) = left.components
                usleep(UInt32(seconds) * 1_000_000 + UInt32(attoseconds / 1_000_000_000_000))
            }
        }
    }
}
