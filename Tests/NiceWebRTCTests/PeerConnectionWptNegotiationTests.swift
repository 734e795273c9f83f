import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

/// Runtime-level ports of the web-platform-tests' negotiation events for a data-only session:
/// what the pure core cannot show because the events, their timing and the operations chain
/// live in the runtime. The core's ports (descriptions, credentials, routing) are in
/// NiceWebRTCCoreTests/Negotiation*Tests.swift and are not repeated here.
///
/// Events are counted by handlers on a queue of the test's own; `queue.sync {}` after an
/// operation returns delivers everything the operation produced (an event is queued before the
/// call returns), so "no event" is checked without waiting for a timeout.
///
/// **RTCPeerConnection-onnegotiationneeded.html**
/// - Ported: "Creating first data channel should fire negotiationneeded event"; "task for
///   negotiationneeded event should be enqueued for next tick" (a handler set after
///   `createDataChannel` still gets it; a stream made later replays it); "calling
///   createDataChannel twice should fire negotiationneeded event once"; "negotiationneeded
///   event should not fire if signaling state is not stable"; "negotiationneeded event should
///   fire only after signaling state go back to stable" (webrtc-pc §4.4.1.6 step 2.2.10: the
///   flag set outside stable fires on the return to stable, and fires again when it was set
///   both before and after, below with `restartIce()`); the "Untestable" close steps (nothing
///   fires after `close()`).
/// - Do not apply: "addTransceiver() should fire negotiationneeded event", "Calling
///   addTransceiver() twice …", "Calling both addTransceiver() and createDataChannel() …" and
///   the TODO checks of transceiver directions and msid: no media, no transceivers.
///
/// **RTCPeerConnection-restartIce.https.html** (event and ordering parts; the credentials each
/// offer carries are checked by NegotiationRestartTests)
/// - Ported: "restartIce() has no effect on a closed peer connection", "restartIce() does not
///   trigger negotiation ahead of initial negotiation", "restartIce() has no effect on initial
///   negotiation", "restartIce() fires negotiationneeded after initial negotiation",
///   "restartIce() works in have-local-offer", "restartIce() works in initial have-local-offer",
///   "restartIce() works in have-remote-offer", "restartIce() does nothing in initial
///   have-remote-offer", "restartIce() survives remote offer", "restartIce() is satisfied by
///   remote ICE restart", "restartIce() survives rollback"; each checks when
///   `negotiationneeded` fires and that the next offer restarts (its ufrag is new).
/// - Do not apply: "restartIce() trumps {iceRestart: false}" is a property of `createOffer`
///   alone (the core's port covers it); the partial-restart cases need two ICE transports
///   (max-compat with audio and video).
///
/// **RTCPeerConnection-addIceCandidate.html** (timing and queueing parts; the routing and W3C
/// errors of each candidate are the core's NegotiationCandidateTests) and
/// **RTCPeerConnection-addIceCandidate-connectionSetup.html**
/// - Ported: "Candidates are added dynamically; connection should work" (trickle in both
///   directions while the descriptions travel); "Candidates are added at PC1; connection should
///   work" and "Candidates are added at PC2; connection should work" (one side's candidates,
///   gathered to the end, given after the answer; the other side trickles none); "addIceCandidate"
///   after `close()` rejects with InvalidStateError; candidates given before the remote
///   description are kept and applied once it is set, and one given while a
///   `setRemoteDescription` runs waits for it (W3C's operations chain).
/// - Deliberate difference: "Add ICE candidate before setting remote description should reject
///   with InvalidStateError" — issue 18 asks that such candidates be kept (a server's signalling
///   often delivers them first), so they are queued, at most 1,024.
/// - Do not apply: the checks that a candidate is written into `remoteDescription.sdp` (the
///   description stays as received; the candidate goes to the ICE agent); "Add candidate with
///   RTCIceCandidate" (one type).
@Suite("PeerConnection: WPT onnegotiationneeded, restartIce (events), addIceCandidate (timing)")
struct PeerConnectionWptNegotiationTests {
    /// Counts a connection's `negotiationneeded` on a queue of the test's own.
    final class Needed: Sendable {
        let pc: PeerConnection
        let queue: DispatchQueue
        private let count = Box(0)

        init(label: String = "test.needed") throws {
            queue = DispatchQueue(label: label)
            pc = try loopbackPeer(queue: queue)
            pc.negotiationNeededHandler = { [count] in count.withLock { $0 += 1 } }
        }

        /// The events delivered so far, after everything queued until now was delivered.
        var fired: Int {
            queue.sync {}
            return count.withLock { $0 }
        }
    }

    /// The ufrag of a description.
    static func ufrag(_ d: SessionDescription?) -> String? {
        d?.sdp.split(whereSeparator: \.isNewline).first { $0.hasPrefix("a=ice-ufrag:") }.map { String($0.dropFirst(12)) }
    }

    // MARK: onnegotiationneeded

    @Test("onnegotiationneeded: the first channel fires once (also for a handler or stream made later); none outside stable", .timeLimit(.minutes(1)))
    func firstChannel() async throws {
        let n = try Needed()
        _ = try n.pc.createDataChannel("foo")
        _ = try n.pc.createDataChannel("bar")
        #expect(n.fired == 1)
        // Enqueued for the next tick: a stream made afterwards still sees it.
        var events = n.pc.negotiationNeededEvents().makeAsyncIterator()
        #expect(await events.next() != nil)
        // A handler set after createDataChannel, in the same task of the handler queue (W3C's
        // "same tick"), still gets it: the event is queued, not delivered inside the call.
        let lateQueue = DispatchQueue(label: "test.late")
        let late = try loopbackPeer(queue: lateQueue)
        let got = Box(0)
        try lateQueue.sync {
            _ = try late.createDataChannel("x")
            late.negotiationNeededHandler = { got.withLock { $0 += 1 } }
        }
        lateQueue.sync {}
        #expect(got.current == 1)
        // Not in have-local-offer: a fresh connection offers first, then creates its channel.
        let m = try Needed(label: "test.needed.m")
        try await m.pc.setLocalDescription(try await m.pc.createOffer())
        #expect(m.pc.signalingState == .haveLocalOffer)
        _ = try m.pc.createDataChannel("test")
        #expect(m.fired == 0)
        n.pc.close()
        late.close()
        m.pc.close()
    }

    @Test("onnegotiationneeded: a need that arose in have-local-offer fires after the answer returns to stable, and again if the negotiation did not satisfy it", .timeLimit(.minutes(1)))
    func firesAfterStable() async throws {
        let n = try Needed()
        let b = try loopbackPeer()
        // The WPT case: channel created in have-local-offer of an offer made without one. Our
        // offers always carry the data section, so the answer satisfies it: no event.
        let offer = try await n.pc.createOffer()
        try await n.pc.setLocalDescription(offer)
        _ = try n.pc.createDataChannel("test")
        #expect(n.fired == 0)
        try await b.setRemoteDescription(offer)
        try await n.pc.setRemoteDescription(try await b.setLocalDescription())
        #expect(n.pc.signalingState == .stable && n.fired == 0)
        // A restart asked for in have-local-offer: nothing then, the event on the return to stable.
        try await n.pc.setLocalDescription()
        n.pc.restartIce()
        #expect(n.fired == 0)
        try await b.setRemoteDescription(try #require(n.pc.localDescription))
        try await n.pc.setRemoteDescription(try await b.setLocalDescription())
        #expect(n.fired == 1)
        // The next offer restarts (a pending restart trumps iceRestart: false) and its answer
        // satisfies the need: the flag is cleared, nothing fires.
        try await n.pc.setLocalDescription(try await n.pc.createOffer(iceRestart: false))
        #expect(n.fired == 1)
        try await b.setRemoteDescription(try #require(n.pc.localDescription))
        try await n.pc.setRemoteDescription(try await b.setLocalDescription())
        #expect(n.fired == 1)
        #expect(n.pc.core.negotiation { $0.restartPending } == false)
        n.pc.close()
        b.close()
    }

    @Test("onnegotiationneeded: fired and not negotiated, then an offer/answer that does not cover it: fired again on stable; nothing after close", .timeLimit(.minutes(1)))
    func refiresWhenStillNeeded() async throws {
        let n = try Needed()
        let b = try loopbackPeer()
        _ = try n.pc.createDataChannel("x")
        try await negotiate(n.pc, b)
        #expect(n.fired == 1)
        n.pc.restartIce()
        #expect(n.fired == 2)
        // The peer offers (no restart) before we do: the restart is still needed after our
        // answer, and the flag was set before and after: negotiationneeded again.
        try await n.pc.setRemoteDescription(try await b.setLocalDescription())
        #expect(n.fired == 2)
        try await b.setRemoteDescription(try await n.pc.setLocalDescription())
        #expect(n.fired == 3)
        n.pc.close()
        n.pc.restartIce()
        _ = try? n.pc.createDataChannel("late")
        #expect(n.fired == 3)
        b.close()
    }

    // MARK: restartIce

    @Test("restartIce(): nothing when closed, nor ahead of the initial negotiation, nor after it when it came first", .timeLimit(.minutes(1)))
    func restartBeforeInitial() async throws {
        let closed = try Needed(label: "test.closed")
        closed.pc.close()
        closed.pc.restartIce()
        #expect(closed.fired == 0)
        // "does not trigger negotiation ahead of initial negotiation"
        let n = try Needed()
        let b = try loopbackPeer()
        n.pc.restartIce()
        #expect(n.fired == 0)
        // "has no effect on initial negotiation": the first exchange satisfies it.
        _ = try n.pc.createDataChannel("x")
        #expect(n.fired == 1)
        try await negotiate(n.pc, b)
        #expect(n.fired == 1)
        #expect(n.pc.core.negotiation { $0.restartPending } == false)
        n.pc.close()
        b.close()
    }

    @Test("restartIce(): fires after the initial negotiation; the next offer restarts", .timeLimit(.minutes(1)))
    func restartAfterInitial() async throws {
        let n = try Needed()
        let b = try loopbackPeer()
        _ = try n.pc.createDataChannel("x")
        try await negotiate(n.pc, b)
        let before = Self.ufrag(n.pc.localDescription)
        #expect(n.fired == 1)
        n.pc.restartIce()
        #expect(n.fired == 2)
        n.pc.restartIce()   // already needed: once
        #expect(n.fired == 2)
        try await negotiate(n.pc, b)
        #expect(Self.ufrag(n.pc.localDescription) != before)
        #expect(n.fired == 2)
        n.pc.close()
        b.close()
    }

    @Test("restartIce() in have-local-offer, initial or not: negotiationneeded once stable, the next offer restarts", .timeLimit(.minutes(1)), arguments: [true, false])
    func restartInHaveLocalOffer(initial: Bool) async throws {
        let n = try Needed()
        let b = try loopbackPeer()
        _ = try n.pc.createDataChannel("x")
        if !initial { try await negotiate(n.pc, b) }
        let fired = n.fired
        let offer = try await n.pc.setLocalDescription()
        n.pc.restartIce()
        #expect(n.fired == fired)
        try await b.setRemoteDescription(offer)
        try await n.pc.setRemoteDescription(try await b.setLocalDescription())
        #expect(n.fired == fired + 1)
        let restart = try await n.pc.createOffer()
        #expect(Self.ufrag(restart) != Self.ufrag(offer))
        n.pc.close()
        b.close()
    }

    @Test("restartIce() in have-remote-offer fires once stable; in the initial have-remote-offer it does nothing", .timeLimit(.minutes(1)), arguments: [true, false])
    func restartInHaveRemoteOffer(initial: Bool) async throws {
        let n = try Needed()
        let a = try loopbackPeer()
        _ = try a.createDataChannel("x")
        if !initial { try await negotiate(a, n.pc) }
        let fired = n.fired
        try await n.pc.setRemoteDescription(try await a.setLocalDescription())
        n.pc.restartIce()
        #expect(n.fired == fired)
        let answer = try await n.pc.setLocalDescription()
        try await a.setRemoteDescription(answer)
        #expect(n.fired == fired + (initial ? 0 : 1))
        if !initial {
            #expect(Self.ufrag(try await n.pc.createOffer()) != Self.ufrag(answer))
        }
        n.pc.close()
        a.close()
    }

    @Test("restartIce() is satisfied by the peer's ICE restart: no negotiationneeded after answering it", .timeLimit(.minutes(1)))
    func satisfiedByRemoteRestart() async throws {
        let n = try Needed()
        let a = try loopbackPeer()
        _ = try a.createDataChannel("x")
        try await negotiate(a, n.pc)
        n.pc.restartIce()
        #expect(n.fired == 1)
        a.restartIce()
        try await negotiate(a, n.pc)
        #expect(n.fired == 1)
        #expect(n.pc.core.negotiation { $0.restartPending } == false)
        n.pc.close()
        a.close()
    }

    @Test("restartIce() survives a rollback: negotiationneeded again once back in stable", .timeLimit(.minutes(1)))
    func survivesRollback() async throws {
        let n = try Needed()
        let b = try loopbackPeer()
        _ = try n.pc.createDataChannel("x")
        try await negotiate(n.pc, b)
        n.pc.restartIce()
        #expect(n.fired == 2)
        let restart = try await n.pc.setLocalDescription()
        try await n.pc.setLocalDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(n.pc.signalingState == .stable)
        #expect(n.fired == 3)
        let again = try await n.pc.createOffer()
        #expect(Self.ufrag(again) != Self.ufrag(n.pc.currentLocalDescription))
        _ = restart
        n.pc.close()
        b.close()
    }

    // MARK: addIceCandidate (timing and queueing)

    @Test("addIceCandidate-connectionSetup: candidates added dynamically, or only one side's after the answer: the connection works", .timeLimit(.minutes(1)), arguments: ["both", "pc1", "pc2"])
    func connectionSetup(mode: String) async throws {
        let pc1 = try loopbackPeer(), pc2 = try loopbackPeer()
        let channel = try pc1.createDataChannel("setup")
        var links: [Task<Void, Never>] = []
        if mode == "both" {
            links = trickle(pc1, pc2)
            try await negotiate(pc1, pc2)
        } else {
            // W3C's order: pc2 takes the offer, pc1 the answer before pc2 applies it.
            try await pc2.setRemoteDescription(try await pc1.setLocalDescription())
            let answer = try await pc2.createAnswer()
            try await pc1.setRemoteDescription(answer)
            try await pc2.setLocalDescription(answer)
            // One side's candidates, gathered to the end, given to the other.
            let (from, to) = mode == "pc1" ? (pc2, pc1) : (pc1, pc2)
            var gathered: [IceCandidateInit] = []
            for await c in from.iceCandidates() {
                guard let c else { break }
                gathered.append(c)
            }
            let states = to.connectionStateChanges()
            for c in gathered { try await to.addIceCandidate(c) }
            var seen: [PeerConnectionState] = []
            for await s in states {
                seen.append(s)
                if s == .connected || s == .failed { break }
            }
            #expect(seen.last == .connected)
            #expect(seen.contains(.connecting), "\(seen)")
        }
        try await channel.waitUntilOpen(timeout: .seconds(20))
        links.forEach { $0.cancel() }
        await pc1.closeAndWait()
        await pc2.closeAndWait()
    }

    @Test("addIceCandidate: kept before the remote description, ordered behind a running setRemoteDescription, InvalidStateError after close", .timeLimit(.minutes(1)))
    func candidateTiming() async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        let channel = try a.createDataChannel("t")
        let offer = try await a.setLocalDescription()
        var fromA: [IceCandidateInit?] = []
        for await c in a.iceCandidates() {
            fromA.append(c)
            if c == nil { break }
        }
        // Half before the remote description (kept), half started together with it: each call
        // runs after or before setRemoteDescription as a whole, never inside it.
        let half = fromA.count / 2
        for c in fromA[..<half] { try await b.addIceCandidate(c) }
        #expect(b.remoteDescription == nil)
        async let remote: Void = b.setRemoteDescription(offer)
        let rest = Array(fromA[half...])
        let late = Task { for c in rest { try await b.addIceCandidate(c) } }
        try await remote
        try await late.value
        try await a.setRemoteDescription(try await b.setLocalDescription())
        let back = Task { for await c in b.iceCandidates() { try? await a.addIceCandidate(c) } }
        try await channel.waitUntilOpen(timeout: .seconds(20))
        back.cancel()
        b.close()
        do {
            try await b.addIceCandidate(fromA.first ?? nil)
            Issue.record("addIceCandidate after close succeeded")
        } catch {
            #expect(error.code == .invalidState)
        }
        await a.closeAndWait()
        await b.closeAndWait()
    }
}
