// The whole server in-process: a NiceWebRTC WHIP publisher (sendonly VP8 + Opus) and a NiceWebRTC
// WHEP viewer over real HTTP on 127.0.0.1, against the real LiveStreams: the viewer receives the
// publisher's frames, keeps receiving them across an ICE restart over PATCH, and DELETE ends both.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NiceWebRTC
import Prometheus
import Synchronization
import Testing

@testable import LiveServer

@Suite("HTTP end to end: WHIP publisher → LiveStreams → WHEP viewer")
struct HttpEndToEndTests {
    /// A VP8 keyframe's header (frame tag with the key-frame bit clear, start code, 64×48) and filler.
    static let keyframe: [UInt8] = [0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x00, 0x30, 0x00] + [UInt8](repeating: 0x11, count: 400)
    /// A VP8 interframe (key-frame bit set).
    static let interframe: [UInt8] = [0x51, 0x01, 0x00] + [UInt8](repeating: 0x22, count: 200)
    /// An Opus packet (TOC of a 20 ms CELT frame) and filler.
    static let opus: [UInt8] = [0xFC] + [UInt8](repeating: 0x33, count: 60)

    static func peer(_ policy: RemoteMediaPolicy = .reject) throws -> PeerConnection {
        var configuration = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
        configuration.remoteMediaPolicy = policy
        return try PeerConnection(configuration: configuration)
    }

    /// Applies a new local offer and waits for gathering to complete (a non-trickle client).
    static func gatheredOffer(_ peer: PeerConnection) async throws -> String {
        let gathering = peer.iceGatheringStateChanges()
        _ = try await peer.setLocalDescription()
        if peer.iceGatheringState != .complete {
            for await state in gathering where state == .complete { break }
        }
        return try #require(peer.localDescription?.sdp)
    }

    /// The real LiveStreams behind the HTTP side, on 127.0.0.1.
    static func withLiveServer(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = LiveStreams.Configuration()
        configuration.peer = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
        let registry = PrometheusCollectorRegistry()
        var logger = Logger(label: "LiveServer.e2e")
        logger.logLevel = .warning
        let host = LiveStreams(configuration: configuration, metrics: PrometheusMetricsFactory(registry: registry), logger: logger)
        let settings = LiveHTTPSettings(origins: try OriginPolicy(allowing: []))
        let endpoints = WishEndpoints(host: host, settings: settings, state: LiveHTTPState(), logger: logger, sessionCapacity: 100)
        let folder = try HttpTest.publicFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let router = LiveApplication.router(endpoints: endpoints, registry: registry, publicDirectory: folder, logger: logger)
        let application = LiveApplication.build(router: router, host: "127.0.0.1", port: 0, logger: logger)
        try await application.test(.live, body)
        await host.shutdown()
    }

    /// A connected WHIP publisher writing VP8 (a keyframe every 10 frames) and Opus every 30 ms.
    struct Publisher {
        let peer: PeerConnection
        let location: String
        let writer: Task<Void, Never>
    }

    static func publish(_ client: any TestClientProtocol, stream: String) async throws -> Publisher {
        let peer = try Self.peer()
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "video", streamId: "live")
        let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "audio", streamId: "live")
        for track in [video, audio] {
            let transceiver = try peer.addTransceiver(track.kind, .init(direction: .sendonly, streamIds: ["live"]))
            try transceiver.sender.replaceTrack(track)
        }
        let published = try await client.post("/whip/\(stream)", offer: try await gatheredOffer(peer))
        #expect(published.status == .created, "\(published.text)")
        let location = try #require(published.header("Location"))
        try await peer.setRemoteDescription(SessionDescription(type: .answer, sdp: published.text))
        try await peer.waitUntilConnected(timeout: .seconds(20))
        let writer = Task {
            var index = 0
            while !Task.isCancelled, index < 6000 {
                try? video.write(frame: index % 10 == 0 ? keyframe : interframe, duration: .milliseconds(33))
                try? audio.write(frame: opus, duration: .milliseconds(20))
                index += 1
                try? await Task.sleep(for: .milliseconds(30))
            }
        }
        return Publisher(peer: peer, location: location, writer: writer)
    }

    /// A WHEP viewer and the running count of frames per kind it has received.
    struct Viewer {
        let peer: PeerConnection
        let location: String
        let etag: String
        let answer: String
        /// Yields (kind, frames of that kind so far, whether this one is a keyframe).
        let progress: AsyncStream<(MediaKind, Int, Bool)>
        let readers: Task<Void, Never>
    }

    static func watch(_ client: any TestClientProtocol, stream: String) async throws -> Viewer {
        let peer = try Self.peer(.accept(direction: .recvonly))
        _ = try peer.addTransceiver(.video, .init(direction: .recvonly))
        _ = try peer.addTransceiver(.audio, .init(direction: .recvonly))
        let tracks = peer.trackEvents()
        let (progress, sink) = AsyncStream.makeStream(of: (MediaKind, Int, Bool).self, bufferingPolicy: .bufferingNewest(256))
        let readers = Task {
            await withTaskGroup(of: Void.self) { group in
                var seen = 0
                for await event in tracks {
                    let track = event.track
                    group.addTask {
                        var count = 0
                        for await frame in track.frames() {
                            count += 1
                            sink.yield((track.kind, count, frame.isKeyframe))
                        }
                    }
                    seen += 1
                    if seen == 2 { break }
                }
            }
            sink.finish()
        }
        let watched = try await client.post("/whep/\(stream)", offer: try await gatheredOffer(peer))
        #expect(watched.status == .created, "\(watched.text)")
        let location = try #require(watched.header("Location"))
        let etag = try #require(watched.header("ETag"))
        try await peer.setRemoteDescription(SessionDescription(type: .answer, sdp: watched.text))
        try await peer.waitUntilConnected(timeout: .seconds(20))
        return Viewer(peer: peer, location: location, etag: etag, answer: watched.text, progress: progress, readers: readers)
    }

    /// Waits until a video keyframe and an audio frame arrived, and `videoFrames` video frames past
    /// `after`; returns the video count reached.
    static func awaitFrames(_ iterator: inout AsyncStream<(MediaKind, Int, Bool)>.Iterator, after: Int, videoFrames: Int) async -> Int {
        var keyframe = false, audio = false, video = after
        while let (kind, count, isKeyframe) = await iterator.next() {
            if kind == .audio { audio = true }
            if kind == .video {
                video = count
                if isKeyframe && count > after { keyframe = true }
            }
            if keyframe && audio && video >= after + videoFrames { break }
        }
        return video
    }

    @Test("a WHIP publisher's VP8 and Opus reach a WHEP viewer; DELETE ends both", .timeLimit(.minutes(2)))
    func publishAndWatch() async throws {
        try await Self.withLiveServer { client in
            let publisher = try await Self.publish(client, stream: "e2e")
            defer { publisher.writer.cancel() }
            let viewer = try await Self.watch(client, stream: "e2e")
            var progress = viewer.progress.makeAsyncIterator()
            let frames = await Self.awaitFrames(&progress, after: 0, videoFrames: 10)
            #expect(frames >= 10)

            #expect(try await client.execute(uri: viewer.location, method: .delete).status == .ok)
            #expect(try await client.execute(uri: publisher.location, method: .delete).status == .ok)
            #expect(try await client.execute(uri: publisher.location, method: .delete).status == .notFound)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.text.contains("live_bytes_in_total"))
            viewer.readers.cancel()
            await viewer.peer.closeAndWait()
            await publisher.peer.closeAndWait()
        }
    }

    @Test("an ICE restart over PATCH mid-stream: 200 with the server's sdpfrag and a new ETag; video continues", .timeLimit(.minutes(2)))
    func iceRestartOverPatch() async throws {
        try await Self.withLiveServer { client in
            let publisher = try await Self.publish(client, stream: "restart")
            defer { publisher.writer.cancel() }
            let viewer = try await Self.watch(client, stream: "restart")
            var progress = viewer.progress.makeAsyncIterator()
            let before = await Self.awaitFrames(&progress, after: 0, videoFrames: 5)

            // The viewer's restart offer, as an sdpfrag: its new credentials, sections and candidates.
            viewer.peer.restartIce()
            let offer = try await Self.gatheredOffer(viewer.peer)
            let fragment = offer.split(whereSeparator: \.isNewline)
                .filter { ["a=ice-ufrag:", "a=ice-pwd:", "m=", "a=mid:", "a=candidate:", "a=end-of-candidates"].contains(where: $0.hasPrefix) }
                .map { $0 + "\r\n" }.joined()
            let response = try await client.patch(viewer.location, fragment: fragment, headers: [("If-Match", viewer.etag)])
            #expect(response.status == .ok, "\(response.text)")
            let newTag = try #require(response.header("ETag"))
            #expect(newTag != viewer.etag)
            let server = try TrickleIceFragment(parsing: response.text)
            let ufrag = try #require(server.iceUfrag)
            let pwd = try #require(server.icePwd)
            #expect(!viewer.answer.contains("a=ice-ufrag:\(ufrag)\r\n"), "the server's ufrag changed")

            // The answer the viewer applies: the first one with the new credentials, its candidates trickled.
            let answer = viewer.answer.split(separator: "\r\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("a=candidate:") && !$0.hasPrefix("a=end-of-candidates") }
                .map { $0.hasPrefix("a=ice-ufrag:") ? "a=ice-ufrag:" + ufrag : $0.hasPrefix("a=ice-pwd:") ? "a=ice-pwd:" + pwd : String($0) }
                .joined(separator: "\r\n")
            try await viewer.peer.setRemoteDescription(SessionDescription(type: .answer, sdp: answer))
            for candidate in server.candidates { try await viewer.peer.addIceCandidate(candidate) }
            if server.endOfCandidates { try await viewer.peer.addIceCandidate(nil) }
            try await viewer.peer.waitUntilConnected(timeout: .seconds(20))

            let after = await Self.awaitFrames(&progress, after: before + 5, videoFrames: 20)
            #expect(after >= before + 25, "video continued after the restart: \(before) → \(after)")
            // The old ETag is stale; the new one takes a trickle.
            #expect(try await client.patch(viewer.location, fragment: "a=end-of-candidates\r\n", headers: [("If-Match", viewer.etag)]).status == .preconditionFailed)
            #expect(try await client.patch(viewer.location, fragment: "a=end-of-candidates\r\n", headers: [("If-Match", newTag)]).status == .noContent)
            viewer.readers.cancel()
            await viewer.peer.closeAndWait()
            await publisher.peer.closeAndWait()
        }
    }
}
