import Foundation
import NiceWebRTC
import Prometheus
import Testing
@testable import LiveServer

/// What `LiveStreams` refuses, its limits, shutdown, and that nothing outlives its session.
@Suite("Media: errors, limits, shutdown and lifetimes")
struct MediaRegistryTests {
    /// A client offer (sendonly VP8 + Opus, or recvonly) with its candidates; the peer is closed.
    static func offer(recvonly: Bool = false) async throws -> String {
        let peer = try clientPeer()
        defer { peer.close() }
        if recvonly {
            try peer.addTransceiver(.video, .init(direction: .recvonly))
            try peer.addTransceiver(.audio, .init(direction: .recvonly))
        } else {
            try peer.addTransceiver(.video, .init(direction: .sendonly))
            try peer.addTransceiver(.audio, .init(direction: .sendonly))
        }
        return try await peer.setLocalDescription().sdp
    }

    @Test(".badRequest, .notFound, .conflict, .unprocessable", .timeLimit(.minutes(2)))
    func refusals() async throws {
        let (streams, _) = makeStreams()
        await #expect(throws: LiveError.badRequest("sdp: not a session description (no v=0 line)")) {
            _ = try await streams.publish(stream: "s", offer: "hello")
        }
        let sendOffer = try await Self.offer()
        let broken = sendOffer.replacingOccurrences(of: "a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 VP8")
        do throws(LiveError) {
            _ = try await streams.publish(stream: "s", offer: broken)
            Issue.record("a broken rtpmap was taken")
        } catch {
            guard case .badRequest(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("a=rtpmap"), "names the field: \(message)")
        }
        await #expect(throws: LiveError.notFound("stream nobody has no publisher")) {
            _ = try await streams.watch(stream: "nobody", offer: try await Self.offer(recvonly: true))
        }
        // A publisher whose POST is still being answered (registered, no tracks yet): a viewer
        // is told there is no publisher (404, retried by WHEP clients), not that its offer
        // receives nothing (422: an aiortc viewer in CI was refused so).
        let early = try streams.register("early", .publisher, peer: streams.configuration.peer)
        await #expect(throws: LiveError.notFound("stream early has no publisher yet")) {
            _ = try await streams.watch(stream: "early", offer: try await Self.offer(recvonly: true))
        }
        #expect(await streams.end(early.id))
        // A WHEP offer (recvonly) sent to WHIP; an offer without a codec we forward.
        let recvOffer = try await Self.offer(recvonly: true)
        do throws(LiveError) {
            _ = try await streams.publish(stream: "s", offer: recvOffer)
            Issue.record("a recvonly offer was published")
        } catch {
            guard case .unprocessable(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("recvonly"))
        }
        var noCodec = sendOffer
        for name in ["VP8", "H264", "opus"] { noCodec = noCodec.replacingOccurrences(of: " \(name)/", with: " X\(name)/") }
        await #expect(throws: LiveError.self) { _ = try await streams.publish(stream: "s", offer: noCodec) }
        #expect(streams.allSessions().isEmpty, "nothing left behind by refused offers")

        // One publisher per stream; a viewer needs a codec the stream sends.
        let publisher = try await TestPublisher(streams, stream: "s")
        await #expect(throws: LiveError.conflict("stream s has a publisher")) {
            _ = try await streams.publish(stream: "s", offer: try await Self.offer())
        }
        let audioOnly = recvOffer.replacingOccurrences(of: " VP8/", with: " XVP8/")
            .replacingOccurrences(of: " H264/", with: " XH264/")
        do throws(LiveError) {
            _ = try await streams.watch(stream: "s", offer: audioOnly)
            Issue.record("a viewer without VP8 was taken")
        } catch {
            guard case .unprocessable(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("video/VP8"), "\(message)")
        }
        await #expect(throws: LiveError.self) { _ = try await streams.watch(stream: "s", offer: sendOffer) }
        #expect(streams.allSessions().count == 1)
        await streams.shutdown()
        await publisher.close()
    }

    @Test("limits: sessions and viewers per stream → .unavailable; shutdown refuses later offers", .timeLimit(.minutes(2)))
    func limits() async throws {
        let (streams, registry) = makeStreams(maxSessions: 3, maxViewersPerStream: 1)
        let a = try await TestPublisher(streams, stream: "a")
        let viewer = try await streams.watch(stream: "a", offer: try await Self.offer(recvonly: true))
        await #expect(throws: LiveError.unavailable("stream a has 1 viewers already")) {
            _ = try await streams.watch(stream: "a", offer: try await Self.offer(recvonly: true))
        }
        let b = try await TestPublisher(streams, stream: "b")
        await #expect(throws: LiveError.unavailable("3 sessions already")) {
            _ = try await streams.watch(stream: "b", offer: try await Self.offer(recvonly: true))
        }
        #expect(registry.emitToString().contains(#"live_sessions{role="publisher"} 2"#))
        #expect(await streams.end(viewer.session))
        _ = try await streams.watch(stream: "b", offer: try await Self.offer(recvonly: true))
        await streams.shutdown()
        #expect(streams.allSessions().isEmpty && streams.stream(named: "a") == nil)
        #expect(streams.lookup(a.session) == nil && streams.lookup(b.session) == nil)
        await #expect(throws: LiveError.unavailable("the server is shutting down")) {
            _ = try await streams.publish(stream: "c", offer: try await Self.offer())
        }
        #expect(registry.emitToString().contains(#"live_sessions{role="publisher"} 0"#))
        await a.close()
        await b.close()
    }

    @Test("a session whose client goes away is removed by itself", .timeLimit(.minutes(2)))
    func clientLeaves() async throws {
        let (streams, registry) = makeStreams()
        let publisher = try await TestPublisher(streams, stream: "gone")
        try await publisher.waitConnected()
        let viewer = try await TestViewer(streams, stream: "gone")
        try await viewer.waitConnected()
        guard let server = streams.allSessions().first(where: { $0.id == viewer.session })?.connection else {
            Issue.record("no server connection")
            return
        }
        let states = server.connectionStateChanges()
        await viewer.close()
        // The viewer's DTLS close_notify (or ICE failing) ends the server's connection.
        let ended = await withTimeout(.seconds(40)) { () -> Bool in
            for await state in states where state == .closed || state == .failed { return true }
            return true
        } ?? false
        #expect(ended)
        let removed = await withTimeout(.seconds(5)) { () -> Bool in
            while streams.lookup(viewer.session) != nil { try? await Task.sleep(for: .milliseconds(20)) }
            return true
        } ?? false
        #expect(removed, "the viewer's session is gone")
        #expect(streams.lookup(publisher.session) != nil)
        #expect(registry.emitToString().contains(#"live_viewers{stream="gone"} 0"#))
        await streams.shutdown()
        await publisher.close()
    }

    @Test("after end and shutdown the PeerConnections, streams and LiveStreams are freed", .timeLimit(.minutes(2)))
    func lifetimes() async throws {
        weak var weakStreams: LiveStreams?
        weak var weakStream: LiveStream?
        var weakConnections: [WeakConnection] = []
        do {
            let (streams, _) = makeStreams()
            weakStreams = streams
            let publisher = try await TestPublisher(streams, stream: "life")
            try await publisher.waitConnected()
            let sending = publisher.startSending()
            let viewer = try await TestViewer(streams, stream: "life")
            try await viewer.waitConnected()
            #expect(await viewer.videoFrames.wait(for: 10))
            weakStream = streams.stream(named: "life")
            weakConnections = streams.allSessions().map { WeakConnection($0.connection) }
            #expect(weakConnections.count == 2 && weakStream != nil)
            #expect(await streams.end(viewer.session))
            sending.cancel()
            await sending.value
            await streams.shutdown()
            await viewer.close()
            await publisher.close()
        }
        // Deinit has no event to wait on: poll, bounded.
        for _ in 0..<100 {
            if weakStreams == nil && weakStream == nil && weakConnections.allSatisfy({ $0.connection == nil }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(weakConnections.allSatisfy { $0.connection == nil }, "the server's PeerConnections are freed")
        #expect(weakStream == nil, "the stream is freed")
        #expect(weakStreams == nil, "LiveStreams is freed")
    }
}

final class WeakConnection: @unchecked Sendable {
    // @unchecked: written once in init, read only by the test that made it.
    weak var connection: PeerConnection?
    init(_ connection: PeerConnection) { self.connection = connection }
}
