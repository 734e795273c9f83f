import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// The ICE state acceptance cases (numbered 1 …) with two real libnice agents over 127.0.0.1, signalling through the
/// public API only. Each test asserts the exact sequence of states both sides reported.
@Suite("ICE states over loopback (§8)", .timeLimit(.minutes(1)))
struct StateIntegrationTests {
    // Case 1
    @Test("1: a new connection stays new after gathering completes")
    func initialStaysNew() async throws {
        let side = try Side("A", Loopback.configuration(.controlling))
        let gathered = AsyncStream.makeStream(of: Void.self)
        side.pc.gatheringStateHandler = { if $0 == .complete { gathered.continuation.yield() } }
        side.pc.start(queue: side.queue)
        #expect(side.pc.iceConnectionState == .new)
        var it = gathered.stream.makeAsyncIterator()
        _ = await it.next()
        // Barrier: anything gathering's end set off has reached the handlers by now.
        await side.settle()
        #expect(side.pc.iceGatheringState == .complete)
        #expect(side.pc.iceConnectionState == .new)
        #expect(side.states.isEmpty)
        await side.pc.closeAndWait()
    }

    // Case 2
    @Test("2: no checking before the first remote candidate")
    func checkingGate() async throws {
        let pair = try Loopback(leftToRight: Signalling(candidates: false), rightToLeft: Signalling(candidates: false))
        try pair.start()
        // Gathering done on both (however long that takes on a loaded machine), parameters known,
        // no remote candidate: once what that set off has reached the handlers (a barrier through
        // each context thread and handler queue), still no state change.
        #expect(await pair.left.waitForEndOfCandidates())
        #expect(await pair.right.waitForEndOfCandidates())
        await pair.left.settle()
        await pair.right.settle()
        #expect(pair.left.pc.iceConnectionState == .new)
        #expect(pair.right.pc.iceConnectionState == .new)
        #expect(pair.left.states.isEmpty)
        #expect(pair.right.states.isEmpty)
        // Now one candidate each way.
        let rc = try #require(pair.right.localCandidates.first)
        let lc = try #require(pair.left.localCandidates.first)
        try pair.left.pc.addIceCandidate(rc)
        try pair.right.pc.addIceCandidate(lc)
        // End-of-candidates still flows both ways, so both complete.
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        #expect(pair.left.states == [.checking, .connected, .completed])
        #expect(pair.right.states == [.checking, .connected, .completed])
        await pair.closeBoth()
    }

    // Case 3
    @Test("3: peer-reflexive: the controlled side goes checking without any remote candidate")
    func peerReflexiveChecking() async throws {
        // L's candidates never reach R; R learns L only from L's checks.
        let pair = try Loopback(leftToRight: Signalling(candidates: false, endOfCandidates: false))
        try pair.start()
        #expect(await pair.right.waitForState(.connected))
        #expect(await pair.left.waitForState(.completed))
        #expect(pair.right.states == [.checking, .connected])
        #expect(pair.left.states == [.checking, .connected, .completed])
        let remote = try #require(pair.right.pc.selectedPair?.remote)
        #expect(remote.type == .prflx)
        await pair.closeBoth()
    }

    // Case 4
    @Test("4: happy path with end-of-candidates: new → checking → connected → completed on both sides")
    func happyPath() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        for side in [pair.left, pair.right] {
            #expect(side.states == [.checking, .connected, .completed], "\(side.timeline)")
            #expect(side.reasons == [.checksStarted, .pairSelected, .checksCompleted])
            // The selected pair is delivered before `connected`.
            let order = side.seen.withLock { $0.filter { if case .candidate = $0 { false } else { true } } }
            #expect(order.count == 4)
            if case .pair(let p) = order[1] {
                #expect(p.local.type == .host && p.remote.type == .host)
            } else {
                Issue.record("expected the selected pair second, got \(order)")
            }
            #expect(side.handlerThreadViolations.load(ordering: .relaxed) == 0)
        }
        await pair.closeBoth()
    }

    // Case 5
    @Test("5: without remote end-of-candidates the connection stays connected, never completed")
    func noEndOfCandidates() async throws {
        let pair = try Loopback(
            leftToRight: Signalling(endOfCandidates: false), rightToLeft: Signalling(endOfCandidates: false))
        try pair.start()
        #expect(await pair.left.waitForState(.connected))
        #expect(await pair.right.waitForState(.connected))
        // libnice's checks are over on both sides (components ready: what would complete the
        // connection has happened), and what that set off has reached the handlers.
        #expect(await pair.left.waitForComponentsReady())
        #expect(await pair.right.waitForComponentsReady())
        await pair.left.settle()
        await pair.right.settle()
        #expect(pair.left.states == [.checking, .connected])
        #expect(pair.right.states == [.checking, .connected])
        // Signalling the end later completes it.
        try pair.left.pc.addIceCandidate(nil)
        #expect(await pair.left.waitForState(.completed))
        #expect(pair.left.states == [.checking, .connected, .completed])
        await pair.closeBoth()
    }

    // Case 6
    @Test("6: wrong passwords on both sides with end-of-candidates: checking → failed, never connected")
    func wrongPasswordBoth() async throws {
        let pair = try Loopback()
        try pair.start(leftGetsRight: wrongPassword, rightGetsLeft: wrongPassword)
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(20)))
        #expect(await pair.right.waitForState(.failed, timeout: .seconds(20)))
        #expect(pair.left.states == [.checking, .failed], "\(pair.left.timeline)")
        #expect(pair.right.states == [.checking, .failed], "\(pair.right.timeline)")
        #expect(pair.left.reasons.last == .checksExhausted)
        await pair.closeBoth()
    }

    // Case 7
    @Test("7: wrong passwords without end-of-candidates: checking → disconnected → failed after the grace period")
    func wrongPasswordTrickleOpen() async throws {
        let pair = try Loopback(
            leftToRight: Signalling(endOfCandidates: false), rightToLeft: Signalling(endOfCandidates: false))
        try pair.start(leftGetsRight: wrongPassword, rightGetsLeft: wrongPassword)
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(25)))
        #expect(await pair.right.waitForState(.failed, timeout: .seconds(25)))
        #expect(pair.left.states == [.checking, .disconnected, .failed], "\(pair.left.timeline)")
        #expect(pair.right.states == [.checking, .disconnected, .failed], "\(pair.right.timeline)")
        await pair.closeBoth()
    }

    // Case 8
    @Test("8: wrong password on one side only: the side with the wrong password fails")
    func wrongPasswordOneSide() async throws {
        let pair = try Loopback()
        try pair.start(leftGetsRight: wrongPassword)
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(20)))
        // libnice: R's own checks succeed but L never nominates, so R's component fails too once
        // its checks run out (all pairs done, none nominated).
        #expect(await pair.right.waitForState(.failed, timeout: .seconds(20)))
        #expect(pair.left.states == [.checking, .failed], "\(pair.left.timeline)")
        #expect(pair.right.states == [.checking, .failed], "\(pair.right.timeline)")
        #expect(!pair.left.states.contains(.connected))
        await pair.closeBoth()
    }

    // Case 9
    @Test("9: peer vanishes (its thread stalls): completed → disconnected (consent lost) → failed")
    func peerVanishes() async throws {
        let stalled = NiceContext(name: "stalled")
        let pair = try Loopback(rightContext: stalled)
        try pair.start()
        #expect(await pair.right.waitForState(.completed))
        #expect(await pair.left.waitForState(.completed))
        let t0 = ContinuousClock.now
        stalled.execute { Thread.sleep(forTimeInterval: 16) }  // R answers nothing for 16 s
        // `disconnected` lasts only the 2 s grace period before `failed`: wait until it was reported,
        // not until it is the last state, which a poller kept off the CPU for 2 s would miss.
        #expect(await pair.left.waitFor(.seconds(15)) { $0.contains(.disconnected) }, "\(pair.left.timeline)")
        let lost = ContinuousClock.now - t0
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(5)))
        #expect(pair.left.states == [.checking, .connected, .completed, .disconnected, .failed], "\(pair.left.timeline)")
        #expect(pair.left.reasons.suffix(2) == [.consentLost, .consentLost])
        #expect(lost >= .seconds(4), "consent loss noticed after \(lost)")
        #expect(throws: IceError.self) { try pair.left.pc.send([1, 2, 3]) }
        await pair.left.pc.closeAndWait()
        pair.right.closeNow()
    }

    // Case 10
    @Test("10: consent revoked by the peer: disconnected (403 on the next keepalive, at worst the 10 s consent timeout), then failed; sends fail")
    func consentRevoked() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        pair.right.pc.revokeConsent()
        #expect(await pair.left.waitFor(.seconds(30)) { $0.contains(.disconnected) }, "\(pair.left.timeline)")
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(5)))
        #expect(pair.left.states == [.checking, .connected, .completed, .disconnected, .failed], "\(pair.left.timeline)")
        #expect(pair.left.reasons.last == .consentLost)
        #expect(throws: IceError.self) { try pair.left.pc.send([1]) }
        await pair.closeBoth()
    }

    // Case 12
    @Test("12: restart from completed: completed → connected → completed, never new/checking; data keeps flowing")
    func restartFromCompleted() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let before = (pair.left.pc.localParameters, pair.right.pc.localParameters)
        let l = try pair.left.pc.restartIce()
        let r = try pair.right.pc.restartIce()
        #expect(l != before.0 && r != before.1)
        #expect(pair.left.pc.localParameters == l && pair.right.pc.localParameters == r)
        // restartIce() does not wait; the restart reaches the agent on the context thread.
        #expect(await pair.left.waitForState(.connected))
        // The old pair still carries data during the restart.
        try pair.left.pc.send([7, 7, 7])
        try pair.right.deliverParameters(to: pair.left)
        try pair.left.deliverParameters(to: pair.right)
        #expect(await pair.left.waitFor { $0.count == 5 && $0.last == .completed })
        #expect(await pair.right.waitFor { $0.count == 5 && $0.last == .completed })
        #expect(pair.left.states == [.checking, .connected, .completed, .connected, .completed], "\(pair.left.timeline)")
        #expect(pair.right.states == [.checking, .connected, .completed, .connected, .completed], "\(pair.right.timeline)")
        #expect(pair.left.reasons[3] == .iceRestart)
        #expect(await pair.right.waitForDatagrams(1))
        try pair.right.pc.send([8])
        #expect(await pair.left.waitForDatagrams(1))
        await pair.closeBoth()
    }

    // Case 13
    @Test("13: restart from failed: failed → checking → connected → completed")
    func restartFromFailed() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        pair.right.pc.revokeConsent()
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(20)))
        try pair.left.pc.restartIce()
        try pair.right.pc.restartIce()
        try pair.right.deliverParameters(to: pair.left)
        try pair.left.deliverParameters(to: pair.right)
        #expect(await pair.left.waitFor(.seconds(10)) { $0.count == 8 })
        #expect(
            pair.left.states == [.checking, .connected, .completed, .disconnected, .failed, .checking, .connected, .completed],
            "\(pair.left.timeline)")
        #expect(await pair.right.waitForState(.completed), "\(pair.right.timeline)")
        #expect(pair.right.states.first == .checking && pair.right.states.last == .completed, "\(pair.right.timeline)")
        try pair.left.pc.send([1])
        #expect(await pair.right.waitForDatagrams(1))
        await pair.closeBoth()
    }

    // Case 14
    @Test("14: close while connected: closed at once, no event; the peer loses the connection")
    func closeWhileConnected() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let seenBefore = pair.right.seen.withLock { $0.count }
        pair.right.closeNow()
        #expect(pair.right.pc.iceConnectionState == .closed)
        // libnice notices after about 10 s (consent checks unanswered); the bound is RFC 7675's
        // 30 s consent expiry, so a loaded machine (the GLib thread shared by parallel tests)
        // cannot fail the test by timing alone (it did at 15 s once, 21.6 s under a soak).
        #expect(await pair.left.waitFor(.seconds(30)) { $0.contains(.disconnected) }, "\(pair.left.timeline)")
        #expect(pair.right.seen.withLock { $0.count } == seenBefore)
        #expect(!pair.right.states.contains(.closed))
        #expect(throws: IceError.self) { try pair.right.pc.send([1]) }
        #expect(throws: IceError.self) { try pair.right.pc.addIceCandidate(nil) }
        await pair.left.pc.closeAndWait()
    }

    // Case 15
    @Test("15: a late remote candidate after completed: completed → connected (→ completed), no checking or failed")
    func lateCandidate() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        // An unreachable candidate on the discard port. Its priority must beat the selected pair's:
        // libnice forms no pair below the selected pair's priority (and then nothing changes).
        try pair.left.pc.addIceCandidate(IceCandidate(parsing: "candidate:99 1 UDP 2130706431 127.0.0.1 9 typ host"))
        #expect(await pair.left.waitFor(.seconds(10)) { $0.count >= 4 })
        try await Task.sleep(for: .seconds(3))
        let tail = Array(pair.left.states.dropFirst(3))
        #expect(tail.first == .connected, "\(pair.left.timeline)")
        #expect(!tail.contains(.checking) && !tail.contains(.failed) && !tail.contains(.disconnected), "\(pair.left.timeline)")
        #expect(tail == [.connected] || tail == [.connected, .completed], "\(pair.left.timeline)")
        try pair.left.pc.send([5])
        #expect(await pair.right.waitForDatagrams(1))
        await pair.closeBoth()
    }

    // Case 16
    @Test("16a: two components (no rtcp-mux): both complete, the connection completes")
    func twoComponents() async throws {
        let pair = try Loopback(
            left: Loopback.configuration(.controlling, components: 2),
            right: Loopback.configuration(.controlled, components: 2))
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        #expect(pair.left.states == [.checking, .connected, .completed], "\(pair.left.timeline)")
        #expect(pair.left.pc.selectedPair(component: 2) != nil)
        try pair.left.pc.send([2, 2], component: 2)
        #expect(await pair.right.waitForDatagrams(1))
        #expect(pair.right.datagrams.withLock { $0.first?.component } == 2)
        await pair.closeBoth()
    }

    @Test("16b: two components, component 2 unreachable: any failed component fails the connection")
    func twoComponentsOneFails() async throws {
        let deadEnd = try IceCandidate(parsing: "candidate:98 2 UDP 2015363327 127.0.0.1 9 typ host")
        let pair = try Loopback(
            left: Loopback.configuration(.controlling, components: 2),
            right: Loopback.configuration(.controlled, components: 2),
            leftToRight: Signalling(filter: { $0.component == 1 }),
            rightToLeft: Signalling(filter: { $0.component == 1 }))
        try pair.left.pc.addIceCandidate(deadEnd)
        try pair.right.pc.addIceCandidate(IceCandidate(parsing: "candidate:97 2 UDP 2015363327 127.0.0.1 9 typ host"))
        try pair.start()
        // The dead-end pair fails after its 6 transmissions (19.5 s), then libnice's 5 s idle timeout.
        #expect(await pair.left.waitForState(.failed, timeout: .seconds(40)))
        #expect(pair.left.states.last == .failed, "\(pair.left.timeline)")
        #expect(pair.left.states.first == .checking)
        #expect(!pair.left.states.contains(.completed))
        // Component 1 works regardless.
        #expect(pair.left.pc.selectedPair(component: 1) != nil)
        await pair.closeBoth()
    }

    // Case 17
    @Test("17: remote candidates never arrive: stays new")
    func candidatesNeverArrive() async throws {
        let pair = try Loopback(leftToRight: Signalling(candidates: false), rightToLeft: Signalling(candidates: false))
        try pair.start()
        try await Task.sleep(for: .seconds(7))  // beyond libnice's 5 s idle timeout
        #expect(pair.left.states.isEmpty)
        #expect(pair.right.states.isEmpty)
        #expect(pair.left.pc.iceConnectionState == .new)
        await pair.closeBoth()
    }

    // Case 19
    @Test("19: role conflict (both controlling) still connects")
    func roleConflict() async throws {
        let pair = try Loopback(right: Loopback.configuration(.controlling))
        try pair.start()
        #expect(await pair.left.waitFor { $0.contains(.connected) })
        #expect(await pair.right.waitFor { $0.contains(.connected) })
        #expect(pair.left.states.prefix(2) == [.checking, .connected], "\(pair.left.timeline)")
        #expect(pair.right.states.prefix(2) == [.checking, .connected], "\(pair.right.timeline)")
        try pair.left.pc.send([1])
        #expect(await pair.right.waitForDatagrams(1))
        await pair.closeBoth()
    }
}


@Suite("ICE-lite", .timeLimit(.minutes(1)))
struct IceLiteTests {
    @Test("A lite agent (controlled) connects with a full agent and carries data both ways")
    func liteWithFull() async throws {
        var lite = Loopback.configuration(.controlled)
        lite.iceLite = true
        let pair = try Loopback(right: lite)
        try pair.start()
        #expect(await pair.left.waitForState(.completed), "\(pair.left.timeline)")
        #expect(await pair.right.waitFor { $0.contains(.connected) }, "\(pair.right.timeline)")
        #expect(pair.left.states == [.checking, .connected, .completed], "\(pair.left.timeline)")
        #expect(pair.right.states.prefix(2) == [.checking, .connected], "\(pair.right.timeline)")
        try pair.left.pc.send([1])
        try pair.right.pc.send([2])
        #expect(await pair.right.waitForDatagrams(1))
        #expect(await pair.left.waitForDatagrams(1))
        await pair.closeBoth()
    }

    @Test("A controlling lite agent is a configuration error naming the role")
    func liteControlling() {
        var c = Loopback.configuration(.controlling)
        c.iceLite = true
        #expect(throws: IceError.self) { _ = try IceTransport(configuration: c) }
        do { _ = try IceTransport(configuration: c) } catch { #expect(error.field == "role") }
    }
}
