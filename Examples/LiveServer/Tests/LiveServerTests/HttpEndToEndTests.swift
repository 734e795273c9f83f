// The whole server in-process: a NiceWebRTC WHIP publisher (sendonly VP8 + Opus) and a NiceWebRTC
// WHEP viewer over real HTTP on 127.0.0.1, against the real LiveStreams; the viewer receives the
// publisher's frames; DELETE ends both.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NiceWebRTC
import Prometheus
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

    /// Creates the offer and waits for gathering to complete (a non-trickle WHIP/WHEP client).
    static func gatheredOffer(_ peer: PeerConnection) async throws -> String {
        let gathering = peer.iceGatheringStateChanges()
        _ = try await peer.setLocalDescription()
        if peer.iceGatheringState != .complete {
            for await state in gathering where state == .complete { break }
        }
        return try #require(peer.localDescription?.sdp)
    }

    @Test(
        "a WHIP publisher's VP8 and Opus reach a WHEP viewer; DELETE ends both",
        .timeLimit(.minutes(2)), .disabled("needs the media side (LiveStreams is a placeholder on this branch)"))
    func publishAndWatch() async throws {
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

        try await application.test(.live) { client in
            // The publisher: sendonly VP8 + Opus.
            let publisher = try Self.peer()
            let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "video", streamId: "live")
            let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "audio", streamId: "live")
            for track in [video, audio] {
                let transceiver = try publisher.addTransceiver(track.kind, .init(direction: .sendonly, streamIds: ["live"]))
                try transceiver.sender.replaceTrack(track)
            }
            let published = try await client.post("/whip/e2e", offer: try await Self.gatheredOffer(publisher))
            #expect(published.status == .created, "\(published.text)")
            let publisherLocation = try #require(published.header("Location"))
            try await publisher.setRemoteDescription(SessionDescription(type: .answer, sdp: published.text))
            try await publisher.waitUntilConnected(timeout: .seconds(20))

            // Frames flow while the viewer joins: a keyframe every 10 frames (and on request).
            let writer = Task {
                var index = 0
                while !Task.isCancelled, index < 3000 {
                    try? video.write(frame: index % 10 == 0 ? Self.keyframe : Self.interframe, duration: .milliseconds(33))
                    try? audio.write(frame: Self.opus, duration: .milliseconds(20))
                    index += 1
                    try? await Task.sleep(for: .milliseconds(30))
                }
            }
            defer { writer.cancel() }

            // The viewer: recvonly video + audio.
            let viewer = try Self.peer(.accept(direction: .recvonly))
            _ = try viewer.addTransceiver(.video, .init(direction: .recvonly))
            _ = try viewer.addTransceiver(.audio, .init(direction: .recvonly))
            let tracks = viewer.trackEvents()
            let watched = try await client.post("/whep/e2e", offer: try await Self.gatheredOffer(viewer))
            #expect(watched.status == .created, "\(watched.text)")
            let viewerLocation = try #require(watched.header("Location"))
            try await viewer.setRemoteDescription(SessionDescription(type: .answer, sdp: watched.text))
            try await viewer.waitUntilConnected(timeout: .seconds(20))

            // A keyframe on the video track, an Opus frame on the audio track.
            var kinds: Set<MediaKind> = []
            await withTaskGroup(of: MediaKind?.self) { group in
                var seen = 0
                for await event in tracks {
                    let track = event.track
                    group.addTask {
                        for await frame in track.frames() where track.kind == .audio || frame.isKeyframe { return track.kind }
                        return nil
                    }
                    seen += 1
                    if seen == 2 { break }
                }
                for await kind in group { if let kind { kinds.insert(kind) } }
            }
            #expect(kinds == [.video, .audio])

            #expect(try await client.execute(uri: viewerLocation, method: .delete).status == .ok)
            #expect(try await client.execute(uri: publisherLocation, method: .delete).status == .ok)
            #expect(try await client.execute(uri: publisherLocation, method: .delete).status == .notFound)
            await viewer.closeAndWait()
            await publisher.closeAndWait()
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.text.contains("live_bytes_in_total"))
        }
        await host.shutdown()
    }
}
