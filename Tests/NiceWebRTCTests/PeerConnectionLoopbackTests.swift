import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

@Suite("PeerConnection: two sessions in one process over 127.0.0.1")
struct PeerConnectionLoopbackTests {
    enum Offerer: String, CaseIterable, Sendable { case a, b }

    @Test("offer/answer passed directly, a message each way over a data channel (either side offers)", .timeLimit(.minutes(1)), arguments: Offerer.allCases)
    func messageEachWay(offerer: Offerer) async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        let links = trickle(a, b)
        let (first, second) = offerer == .a ? (a, b) : (b, a)
        let channel = try first.createDataChannel("chat", options: .init(protocol: "text"))
        try await negotiate(first, second)
        #expect(first.signalingState == .stable && second.signalingState == .stable)
        #expect(first.currentLocalDescription?.type == .offer && second.currentLocalDescription?.type == .answer)
        #expect(first.pendingLocalDescription == nil && second.pendingRemoteDescription == nil)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(second)
        #expect(incoming.label == "chat" && incoming.protocol == "text")
        try channel.send(text: "ping")
        #expect(try await nextMessage(incoming) == .text("ping"))
        try incoming.send(text: "pong")
        #expect(try await nextMessage(channel) == .text("pong"))
        try await first.waitUntilConnected(timeout: .seconds(10))
        try await second.waitUntilConnected(timeout: .seconds(10))
        #expect(first.iceConnectionState == .connected || first.iceConnectionState == .completed)
        // The offerer controls ICE; the answerer is the DTLS client (a=setup:active).
        let roles = (first.core.negotiation { $0.iceRole }, second.core.negotiation { $0.iceRole }, second.core.negotiation { $0.dtlsRole })
        #expect(roles.0 == .controlling)
        #expect(roles.1 == .controlled)
        #expect(roles.2 == .client)
        #expect(first.iceGatheringState == .complete)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
        #expect(channel.readyState == .closed)
    }

    @Test("trickle: every candidate of the offerer reaches the answerer before its remote description, and is applied once it is set", .timeLimit(.minutes(1)))
    func candidatesBeforeRemoteDescription() async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        let channel = try a.createDataChannel("early")
        let offer = try await a.createOffer()
        // No candidate is signalled before setLocalDescription.
        #expect(a.iceGatheringState == .new)
        try await a.setLocalDescription(offer)
        var fromA: [IceCandidateInit] = []
        for await c in a.iceCandidates() {
            guard let c else { break }
            fromA.append(c)
        }
        #expect(fromA.filter { !$0.candidate.isEmpty }.count >= 1)
        let ufrag = a.iceTransport.localParameters.usernameFragment
        for c in fromA {
            #expect(c.usernameFragment == ufrag)
            #expect(c.sdpMid != nil && c.sdpMLineIndex != nil)
            try await b.addIceCandidate(c)   // before b has a remote description: kept
        }
        try await b.addIceCandidate(nil)
        #expect(b.remoteDescription == nil)
        // The offer as created carries no candidate: only the early ones can connect.
        #expect(!offer.sdp.contains("a=candidate"))
        try await b.setRemoteDescription(offer)
        let answer = try await b.setLocalDescription()
        let back = Task { for await c in b.iceCandidates() { try? await a.addIceCandidate(c) } }
        try await a.setRemoteDescription(answer)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        try channel.send(bytes: [1, 2, 3])
        #expect(try await nextMessage(incoming) == .binary([1, 2, 3]))
        back.cancel()
        await a.closeAndWait()
        await b.closeAndWait()
    }

    @Test("events: signalling and gathering transitions in W3C order, candidates with mid, index and ufrag, connection states", .timeLimit(.minutes(1)))
    func events() async throws {
        let queue = DispatchQueue(label: "test.events")
        let a = try loopbackPeer(queue: queue), b = try loopbackPeer()
        let signaling = Box<[SignalingState]>([]), gathering = Box<[IceGatheringState]>([])
        let connection = Box<[PeerConnectionState]>([]), ice = Box<[IceConnectionState]>([])
        let candidates = Box<[IceCandidateInit?]>([]), needed = Box(0)
        a.signalingStateHandler = { s in signaling.withLock { $0.append(s) } }
        a.iceGatheringStateHandler = { s in gathering.withLock { $0.append(s) } }
        a.connectionStateHandler = { s in connection.withLock { $0.append(s) } }
        a.iceConnectionStateHandler = { s in ice.withLock { $0.append(s) } }
        a.iceCandidateHandler = { c in candidates.withLock { $0.append(c) } }
        a.negotiationNeededHandler = { needed.withLock { $0 += 1 } }
        let links = trickle(a, b)
        let channel = try a.createDataChannel("x")
        _ = try a.createDataChannel("y")   // one negotiationneeded for both
        try await negotiate(a, b)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        try await a.waitUntilConnected(timeout: .seconds(10))
        queue.sync {}
        #expect(needed.current == 1)
        #expect(signaling.current == [.haveLocalOffer, .stable])
        #expect(gathering.current == [.gathering, .complete])
        #expect(connection.current.first == .connecting && connection.current.last == .connected)
        #expect(ice.current.first == .checking && ice.current.contains(.connected))
        let got = candidates.current
        #expect(got.last == .some(nil))
        #expect(got.dropLast().last??.candidate == "")
        let mid = a.core.negotiation { $0.dataMid }
        for c in got.compactMap({ $0 }) {
            #expect(c.sdpMid == mid, "\(c)")
            #expect(c.sdpMLineIndex == 0)
            #expect(c.usernameFragment == a.iceTransport.localParameters.usernameFragment)
        }
        let report = await a.stats()
        #expect(report.transport.iceRole == "controlling")
        #expect(report.transport.dtlsState == "connected")
        #expect(report.selectedCandidatePair != nil)
        #expect((report.selectedCandidatePair?.currentRoundTripTime ?? -1) >= 0)
        #expect(report.transport.bytesSent > 0 && report.transport.bytesReceived > 0)
        #expect(report.transport.dtlsRole == "server")
        #expect(report.dataChannels.count == 2)
        #expect(report.certificates.count == 2)
        #expect(report.localCandidates.allSatisfy { $0.address == "127.0.0.1" })
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
    }

    @Test("an ICE-lite side, offering or answering: the full agent controls and the channel carries a message", .timeLimit(.minutes(1)), arguments: Offerer.allCases)
    func iceLite(offerer: Offerer) async throws {
        var lite = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
        lite.iceLite = true
        let full = try loopbackPeer(), server = try PeerConnection(configuration: lite)
        let links = trickle(full, server)
        let (first, second) = offerer == .a ? (full, server) : (server, full)
        let channel = try first.createDataChannel("lite")
        try await negotiate(first, second)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(second)
        try channel.send(text: "x")
        #expect(try await nextMessage(incoming) == .text("x"))
        #expect(full.core.negotiation { $0.iceRole } == .controlling)
        #expect(server.core.negotiation { $0.iceRole } == .controlled)
        #expect(server.localDescription?.sdp.contains("a=ice-lite") == true)
        links.forEach { $0.cancel() }
        await full.closeAndWait()
        await server.closeAndWait()
    }
}
