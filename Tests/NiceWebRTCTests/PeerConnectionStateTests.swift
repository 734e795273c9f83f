import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

/// W3C's errors for calls in the wrong state (webrtc-pc §4.4; the web-platform tests
/// RTCPeerConnection-setLocalDescription*, -setRemoteDescription*, -createAnswer,
/// -addIceCandidate, -close for the data-only cases), close semantics and lifetime.
@Suite("PeerConnection: states, W3C errors, close, lifetime")
struct PeerConnectionStateTests {
    /// The W3C error code `body` throws (nil: none; a non-W3C error fails the test).
    func code(_ body: () async throws -> Void) async -> PeerConnectionError.Code? {
        do {
            try await body()
            return nil
        } catch let error as PeerConnectionError {
            return error.code
        } catch {
            Issue.record("not a PeerConnectionError: \(error)")
            return nil
        }
    }

    @Test("wrong-state calls give W3C's errors and change nothing", .timeLimit(.minutes(1)))
    func wrongState() async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        _ = try a.createDataChannel("x")
        // createAnswer in stable: InvalidStateError.
        #expect(await code { _ = try await a.createAnswer() } == .invalidState)
        // Rollback in stable: InvalidStateError.
        #expect(await code { try await a.setLocalDescription(SessionDescription(type: .rollback, sdp: "")) } == .invalidState)
        let offer = try await a.createOffer()
        // An answer in stable, local or remote: InvalidStateError.
        #expect(await code { try await b.setRemoteDescription(SessionDescription(type: .answer, sdp: offer.sdp)) } == .invalidState)
        // An SDP that does not parse: OperationError.
        #expect(await code { try await b.setRemoteDescription(SessionDescription(type: .offer, sdp: "v=0\r\nnot sdp\r\n")) } == .operationError)
        #expect(b.signalingState == .stable && b.remoteDescription == nil)
        // A candidate with neither sdpMid nor sdpMLineIndex: TypeError.
        #expect(await code { try await b.addIceCandidate(IceCandidateInit(candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host")) } == .typeError)
        // A local offer that is not the one we created: InvalidModificationError.
        let tampered = SessionDescription(type: .offer, sdp: offer.sdp.replacingOccurrences(of: "a=ice-ufrag:", with: "a=ice-ufrag:zz"))
        #expect(await code { try await a.setLocalDescription(tampered) } == .invalidModification)
        #expect(a.signalingState == .stable)
        try await a.setLocalDescription(offer)
        #expect(a.signalingState == .haveLocalOffer && a.pendingLocalDescription == offer && a.currentLocalDescription == nil)
        // createAnswer in have-local-offer: InvalidStateError.
        #expect(await code { _ = try await a.createAnswer() } == .invalidState)
        // Rollback returns to stable and forgets the offer.
        try await a.setLocalDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(a.signalingState == .stable && a.localDescription == nil)
        // A remote offer: have-remote-offer; an unknown mid then: OperationError.
        try await b.setRemoteDescription(offer)
        #expect(b.signalingState == .haveRemoteOffer && b.pendingRemoteDescription == offer)
        #expect(await code { try await b.addIceCandidate(IceCandidateInit(candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "nope")) } == .operationError)
        // createOffer in have-remote-offer: InvalidStateError.
        #expect(await code { _ = try await b.createOffer() } == .invalidState)
        // Remote rollback back to stable.
        try await b.setRemoteDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(b.signalingState == .stable && b.remoteDescription == nil)
        a.close()
        b.close()
        // Everything after close: InvalidStateError.
        #expect(await code { _ = try await a.createOffer() } == .invalidState)
        #expect(await code { _ = try await a.createAnswer() } == .invalidState)
        #expect(await code { try await a.setLocalDescription() } == .invalidState)
        #expect(await code { try await a.setRemoteDescription(offer) } == .invalidState)
        #expect(await code { try await a.addIceCandidate(nil) } == .invalidState)
        #expect(await code { _ = try a.createDataChannel("late") } == .invalidState)
    }

    @Test("close: every state closed at once, no event after, the peer's channel closes", .timeLimit(.minutes(1)))
    func closeSemantics() async throws {
        let queue = DispatchQueue(label: "test.close")
        let a = try loopbackPeer(queue: queue), b = try loopbackPeer()
        let links = trickle(a, b)
        let channel = try a.createDataChannel("c")
        try await negotiate(a, b)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        let afterClose = Box<[String]>([]), closed = Box(false)
        let note: @Sendable (String) -> Void = { what in if closed.current { afterClose.withLock { $0.append(what) } } }
        a.signalingStateHandler = { s in note("signaling \(s)") }
        a.connectionStateHandler = { s in note("connection \(s)") }
        a.iceConnectionStateHandler = { s in note("ice \(s)") }
        a.iceGatheringStateHandler = { s in note("gathering \(s)") }
        a.iceCandidateHandler = { c in note("candidate \(String(describing: c))") }
        a.negotiationNeededHandler = { note("negotiationneeded") }
        a.dataChannelHandler = { c in note("datachannel \(c.label)") }
        let streams = a.connectionStateChanges()
        closed.withLock { $0 = true }
        a.close()
        #expect(a.signalingState == .closed)
        #expect(a.connectionState == .closed)
        #expect(a.iceConnectionState == .closed)
        #expect(a.signalingStateHandler == nil && a.iceCandidateHandler == nil)
        a.restartIce()   // nothing happens after close
        // The peer sees the association end.
        #expect(await withDeadline(.seconds(20)) { () async -> Bool in
            for await s in incoming.stateChanges() where s == .closed { return true }
            return incoming.readyState == .closed
        } == true)
        queue.sync {}
        #expect(afterClose.current.isEmpty)
        // A stream made before close yields the current state, then closed, then finishes.
        var last: PeerConnectionState?
        for await s in streams { last = s }
        #expect(last == .closed)
        #expect(channel.readyState == .closed)
        links.forEach { $0.cancel() }
        await b.closeAndWait()
        await a.closeAndWait()
    }

    @Test("lifetime: released after close, also with handlers that capture the PeerConnection", .timeLimit(.minutes(1)))
    func lifetime() async throws {
        let queueA = DispatchQueue(label: "test.lifetime.a"), queueB = DispatchQueue(label: "test.lifetime.b")
        weak var weakA: PeerConnection?
        weak var weakB: PeerConnection?
        weak var weakChannel: DataChannel?
        do {
            let a = try loopbackPeer(queue: queueA), b = try loopbackPeer(queue: queueB)
            weakA = a
            weakB = b
            // Handlers that capture their own PeerConnection strongly (cycles until close).
            a.connectionStateHandler = { _ in _ = a.signalingState }
            a.iceCandidateHandler = { c in Task { try? await b.addIceCandidate(c) } }
            b.iceCandidateHandler = { c in Task { try? await a.addIceCandidate(c) } }
            b.dataChannelHandler = { channel in
                _ = b.connectionState
                channel.messageHandler = { m in try? channel.send(m) }   // the README's echo
            }
            let channel = try a.createDataChannel("echo")
            weakChannel = channel
            try await negotiate(a, b)
            try await channel.waitUntilOpen(timeout: .seconds(20))
            try channel.send(text: "hi")
            #expect(try await nextMessage(channel) == .text("hi"))
            await a.closeAndWait()
            await b.closeAndWait()
        }
        // Whatever the queues still held for the closed sessions runs, then nothing holds them.
        queueA.sync {}
        queueB.sync {}
        #expect(await eventually(.seconds(5)) { weakA == nil && weakB == nil && weakChannel == nil })
    }
}
