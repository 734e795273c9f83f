// Test peers for the media side: NiceWebRTC PeerConnections on 127.0.0.1 as a WHIP publisher
// (sendonly VP8 + Opus from a synthetic frame generator) and WHEP viewers (recvonly), talking to
// `LiveStreams` directly (no HTTP).
import Logging
import Metrics
import NiceWebRTC
import Prometheus
import Testing
@testable import LiveServer

/// A `LiveStreams` on 127.0.0.1 with its own Prometheus registry.
func makeStreams(
    maxSessions: Int = 50, maxViewersPerStream: Int = 20, recordDirectory: String? = nil
) -> (LiveStreams, PrometheusCollectorRegistry) {
    var configuration = LiveStreams.Configuration()
    configuration.peer = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
    configuration.maxSessions = maxSessions
    configuration.maxViewersPerStream = maxViewersPerStream
    configuration.recordDirectory = recordDirectory
    configuration.gatheringTimeout = .seconds(2)
    let registry = PrometheusCollectorRegistry()
    var logger = Logger(label: "LiveServerTests.media")
    logger.logLevel = .warning
    return (LiveStreams(configuration: configuration, metrics: PrometheusMetricsFactory(registry: registry), logger: logger), registry)
}

func clientPeer() throws -> PeerConnection {
    try PeerConnection(configuration: PeerConnection.Configuration(localAddresses: ["127.0.0.1"]))
}

/// `body`'s result, or nil after `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Synthetic VP8: a key frame states 320×240 (RFC 6386 §9.1), an interframe does not; the rest
/// is filler (nobody decodes it here).
enum SyntheticVp8 {
    static func frame(_ index: Int, keyframe: Bool) -> [UInt8] {
        var bytes: [UInt8] = keyframe ? [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] : [0x31, 0x01, 0x00]
        let size = keyframe ? 3000 : 400 + index % 7 * 100
        while bytes.count < size { bytes.append(UInt8(truncatingIfNeeded: bytes.count &* 31 &+ index)) }
        return bytes
    }
}

/// Collects what a stream yields, so a test can wait for a count.
final class Collector<T: Sendable>: Sendable {
    let items = LockedValue<[T]>([])
    private let progress: AsyncStream<Int>
    let task: Task<Void, Never>

    init(_ stream: AsyncStream<T>) {
        let (progress, k) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        self.progress = progress
        let items = items
        task = Task {
            for await item in stream {
                k.yield(items.withLock { i in
                    i.append(item)
                    return i.count
                })
            }
            k.finish()
        }
    }

    var count: Int { items.withLock { $0.count } }
    var all: [T] { items.withLock { $0 } }

    /// Waits until `count` items came in all (false after `timeout` or when the stream ended).
    func wait(for count: Int, timeout: Duration = .seconds(20)) async -> Bool {
        if self.count >= count { return true }
        let progress = progress
        let items = items
        return await withTimeout(timeout) {
            if items.withLock({ $0.count }) >= count { return true }
            for await n in progress where n >= count { return true }
            return items.withLock { $0.count } >= count
        } ?? false
    }
}

/// A WHIP publisher: sendonly VP8 + Opus, frames paced at 30 fps by ``startSending()``; a
/// keyframe request makes the next frame a key frame.
final class TestPublisher: Sendable {
    let connection: PeerConnection
    let video: LocalTrack
    let audio: LocalTrack
    let session: LiveSessionID
    let answer: String
    private let wantKeyframe = LockedValue(true)
    let keyframeRequests: Collector<KeyframeRequest>

    /// The offer (with its candidates unless `trickle`), the answer applied; with `trickle` the
    /// candidates go through `LiveStreams.trickle` afterwards.
    init(_ streams: LiveStreams, stream: String, trickle: Bool = false, offerEdit: (String) -> String = { $0 }) async throws {
        let connection = try clientPeer()
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "camera", streamId: "publisher")
        let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "mic", streamId: "publisher")
        self.connection = connection
        self.video = video
        self.audio = audio
        keyframeRequests = Collector(video.keyframeRequests())
        for track in [video, audio] {
            let sender = try connection.addTrack(track)
            try connection.transceivers.first { $0.sender === sender }?.setDirection(.sendonly)
        }
        let offer = try await connection.setLocalDescription()
        let gathered = await Gathering.candidates(of: connection, timeout: .seconds(2))
        let sdp = offerEdit(trickle ? offer.sdp : SdpEditing.adding(candidates: gathered.candidates, complete: gathered.complete, to: offer.sdp))
        do throws(LiveError) {
            let answer = try await streams.publish(stream: stream, offer: sdp)
            session = answer.session
            self.answer = answer.sdp
        } catch {
            connection.close()
            throw error
        }
        try await connection.setRemoteDescription(SessionDescription(type: .answer, sdp: answer))
        if trickle {
            try await streams.trickle(session, TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: gathered.candidates, endOfCandidates: true))
        }
        let requests = video.keyframeRequests()
        let flag = wantKeyframe
        Task { for await _ in requests { flag.withLock { $0 = true } } }
    }

    func waitConnected() async throws { try await connection.waitUntilConnected(timeout: .seconds(20)) }

    /// Writes a video frame and an Opus packet every 33 ms until cancelled (at most 2 minutes).
    func startSending() -> Task<Void, Never> {
        let video = video, audio = audio, flag = wantKeyframe
        return Task {
            for index in 0..<3600 where !Task.isCancelled {
                let key = flag.withLock { f -> Bool in
                    defer { f = false }
                    return f
                } || index % 90 == 0
                try? video.write(frame: SyntheticVp8.frame(index, keyframe: key), duration: .seconds(1) / 30)
                try? audio.write(frame: [0xF8] + (0..<60).map { UInt8(truncatingIfNeeded: $0 &+ index) }, duration: .milliseconds(33))
                try? await Task.sleep(for: .milliseconds(33))
            }
        }
    }

    func close() async { await connection.closeAndWait() }
}

/// A WHEP viewer: recvonly video and audio; collects the frames and video packets it gets.
final class TestViewer: Sendable {
    let connection: PeerConnection
    let session: LiveSessionID
    let video: RemoteTrack
    let audio: RemoteTrack
    let videoFrames: Collector<EncodedFrame>
    let audioFrames: Collector<EncodedFrame>
    let videoPackets: Collector<RtpPacket>

    init(_ streams: LiveStreams, stream: String) async throws {
        let connection = try clientPeer()
        self.connection = connection
        try connection.addTransceiver(.video, .init(direction: .recvonly))
        try connection.addTransceiver(.audio, .init(direction: .recvonly))
        let events = connection.trackEvents()
        let offer = try await connection.setLocalDescription()
        let gathered = await Gathering.candidates(of: connection, timeout: .seconds(2))
        let sdp = SdpEditing.adding(candidates: gathered.candidates, complete: gathered.complete, to: offer.sdp)
        let answer: LiveAnswer
        do {
            answer = try await streams.watch(stream: stream, offer: sdp)
        } catch {
            connection.close()
            throw error
        }
        session = answer.session
        try await connection.setRemoteDescription(SessionDescription(type: .answer, sdp: answer.sdp))
        let tracks: [RemoteTrack] = await withTimeout(.seconds(10)) { () -> [RemoteTrack] in
            var tracks: [RemoteTrack] = []
            for await event in events {
                tracks.append(event.track)
                if tracks.count == 2 { break }
            }
            return tracks
        } ?? []
        video = try #require(tracks.first { $0.kind == .video })
        audio = try #require(tracks.first { $0.kind == .audio })
        videoFrames = Collector(video.frames())
        audioFrames = Collector(audio.frames())
        videoPackets = Collector(video.packets())
    }

    func waitConnected() async throws { try await connection.waitUntilConnected(timeout: .seconds(20)) }

    func close() async { await connection.closeAndWait() }
}
