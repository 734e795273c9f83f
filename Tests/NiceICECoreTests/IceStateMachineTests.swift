import Testing
@testable import NiceICECore

// Unit tests of the pure ICE state machine against the State Machine article
// (Sources/NiceICE/NiceICE.docc/StateMachine.md: per component, across components), its
// acceptance sequences, and the W3C RTCIceConnectionState text.

private func change(_ s: IceConnectionState, _ r: IceStateChangeReason?) -> IceStateChange {
    IceStateChange(state: s, reason: r)
}

private let L1: SMInput = .localGatheringDone(stream: 1)
private let E1: SMInput = .remoteEndOfCandidates(stream: 1)
private let A1: SMInput = .remoteCandidateAdded(stream: 1)

// MARK: - 1. Per-component table (§7.3 rows 1–13)

@Suite("IceStateMachine: §7.3 per-component table")
struct IceStateMachineTableTests {
    @Test("history × libnice state × localDone × remoteDone → W3C component state", .timeLimit(.minutes(1)),
          arguments: TableCase.all)
    func table(_ c: TableCase) throws {
        var h = StateHarness()
        h.run(c.history.steps)
        let (before, final, after) = c.inputs
        h.feed(before)
        h.feed(final)
        h.feed(after)
        let expected = c.expected
        #expect(h.component() == expected, "log: \(h.log)")
        #expect(h.state == expected, "one component: the aggregate equals the component; log: \(h.log)")
        #expect(!h.hasConsecutiveDuplicate, "changes: \(h.states)")
        #expect(h.changes.last?.state ?? .new == h.state)

        // Grace: armed exactly when disconnected; a stale or unknown token does nothing; the right one fails.
        let issued = h.tokens()
        if expected == .disconnected {
            let token = try #require(issued.last, "disconnected must arm a grace timer; log: \(h.log)")
            let disconnectedReason = h.changes.last { $0.state == .disconnected }?.reason
            #expect(h.feed([.graceExpired(key11, token: token &+ 1)]).isEmpty)
            #expect(h.feed(issued.dropLast().map { .graceExpired(key11, token: $0) }).isEmpty)
            #expect(h.feed([.graceExpired(ComponentKey(stream: 9, component: 1), token: token)]).isEmpty)
            #expect(h.feed([.graceExpired(key11, token: token)]) == [change(.failed, disconnectedReason)])
            #expect(h.component() == .failed)
            // Failed is sticky: the same timer again, or libnice moving on, does nothing.
            #expect(h.feed([.graceExpired(key11, token: token)]).isEmpty)
        } else {
            #expect(h.feed(issued.map { .graceExpired(key11, token: $0) }).isEmpty,
                    "a grace timer must not fire outside disconnected; tokens \(issued); log: \(h.log)")
            #expect(h.component() == expected)
        }
    }

    @Test("the table enumerates every libnice state and every row", .timeLimit(.minutes(1)))
    func coverage() {
        let cases = TableCase.all
        #expect(Set(cases.map(\.final)) == Set(NiceState.allCases))
        #expect(Set(cases.map(\.expected)) == [.new, .checking, .connected, .completed, .disconnected, .failed])
        for from in [IceConnectionState.new, .checking, .connected, .completed, .disconnected, .failed] {
            #expect(ComponentHistories.all.contains { $0.facts.restartFrom == from }, "restart from \(from)")
        }
        #expect(cases.count > 500)
    }

    @Test("fresh component: every first libnice state", .timeLimit(.minutes(1)), arguments: NiceState.allCases)
    func firstSignal(_ s: NiceState) {
        var h = StateHarness()
        let out = h.feed([nice(s)])
        let expected: [IceConnectionState] = switch s {
        case .disconnected, .gathering: []
        case .connecting: [.checking]
        case .connected: [.connected]
        case .ready: [.connected]
        case .failed: [.disconnected]
        }
        #expect(out.map(\.state) == expected)
    }

    @Test("ComponentMachine.apply returns a grace token only when becoming disconnected", .timeLimit(.minutes(1)),
          arguments: [false, true])
    func componentMachineTokens(everUp: Bool) {
        var m = ComponentMachine()
        var tokens: [UInt64?] = []
        let prefix: [NiceState] = everUp ? [.gathering, .connecting, .connected] : [.gathering, .connecting]
        for s in prefix { tokens.append(m.apply(.nice(s), localDone: false, remoteDone: false)) }
        #expect(tokens.allSatisfy { $0 == nil })
        let token = m.apply(.nice(.failed), localDone: false, remoteDone: false)
        #expect(token != nil)
        #expect(m.state == .disconnected)
        #expect(m.reason == (everUp ? .consentLost : .checksExhausted))
        // Staying disconnected does not re-arm.
        #expect(m.apply(.reevaluate, localDone: false, remoteDone: false) == nil)
        if everUp {
            #expect(m.apply(.nice(.connecting), localDone: false, remoteDone: false) == nil)
            #expect(m.state == .disconnected)
        }
        #expect(m.apply(.graceExpired(token: token! &+ 7), localDone: false, remoteDone: false) == nil)
        #expect(m.state == .disconnected)
        #expect(m.apply(.graceExpired(token: token!), localDone: false, remoteDone: false) == nil)
        #expect(m.state == .failed)
        #expect(m.reason == (everUp ? .consentLost : .checksExhausted))
    }
}

// MARK: - 2. Aggregate (§7.4)

@Suite("IceStateMachine: §7.4 aggregate")
struct IceStateMachineAggregateTests {
    static let all = IceConnectionState.allCases

    @Test("aggregate(_:) over all 7×7 pairs matches the W3C rules", .timeLimit(.minutes(1)), arguments: all, all)
    func pairs(_ a: IceConnectionState, _ b: IceConnectionState) throws {
        let oracle = try #require(w3cAggregate([a, b]))
        #expect(IceStateMachine.aggregate([a, b]) == oracle)
        #expect(IceStateMachine.aggregate([b, a]) == oracle, "order-independent")
    }

    @Test("aggregate(_:) over 0, 1 and 3 transports", .timeLimit(.minutes(1)))
    func othersizes() throws {
        #expect(IceStateMachine.aggregate([]) == .new)
        for a in Self.all {
            #expect(IceStateMachine.aggregate([a]) == (a == .closed ? .new : a))
            for b in Self.all {
                for c in Self.all {
                    #expect(IceStateMachine.aggregate([a, b, c]) == w3cAggregate([a, b, c]), "\([a, b, c])")
                }
            }
        }
    }

    @Test("aggregate spot checks from the W3C text", .timeLimit(.minutes(1)), arguments: [
        ([IceConnectionState.closed, .closed], IceConnectionState.new),
        ([.new, .closed], .new),
        ([.connected, .closed], .connected),
        ([.completed, .closed], .completed),
        ([.completed, .connected], .connected),
        ([.new, .completed], .checking),
        ([.checking, .disconnected], .disconnected),
        ([.disconnected, .failed], .failed),
        ([.completed, .failed], .failed),
        ([.new, .checking], .checking),
        ([.closed, .disconnected], .disconnected),
    ])
    func spot(_ states: [IceConnectionState], _ expected: IceConnectionState) {
        #expect(IceStateMachine.aggregate(states) == expected)
        #expect(w3cAggregate(states) == expected)
    }

    /// Drives one component (stream flags localDone and remoteDone already set) to a W3C state.
    static func drive(_ key: ComponentKey, to target: IceConnectionState) -> [SMInput] {
        let up: [SMInput] = [nice(.gathering, key), nice(.connecting, key), nice(.connected, key)]
        switch target {
        case .new: return [nice(.gathering, key)]
        case .checking: return [nice(.gathering, key), nice(.connecting, key)]
        case .connected: return up
        case .completed: return up + [nice(.ready, key)]
        case .disconnected: return up + [nice(.ready, key), nice(.failed, key)]
        case .failed: return [nice(.gathering, key), nice(.connecting, key), nice(.failed, key)]
        case .closed: return []
        }
    }

    static let reachable: [IceConnectionState] = [.new, .checking, .connected, .completed, .disconnected, .failed]

    enum Layout: String, CaseIterable, Sendable { case twoComponents, twoStreams }

    @Test("handle(): every pair of component states gives the W3C aggregate", .timeLimit(.minutes(1)),
          arguments: Layout.allCases, reachable)
    func throughHandle(_ layout: Layout, _ a: IceConnectionState) throws {
        for b in Self.reachable {
            for aFirst in [true, false] {
                var h = layout == .twoComponents ? StateHarness(streams: [1], components: 2) : StateHarness(streams: [1, 2], components: 1)
                let k2 = layout == .twoComponents ? key12 : key21
                h.feed([L1, E1, .localGatheringDone(stream: 2), .remoteEndOfCandidates(stream: 2)])
                let ia = Self.drive(key11, to: a), ib = Self.drive(k2, to: b)
                h.feed(aFirst ? ia + ib : ib + ia)
                #expect(h.component(key11) == a)
                #expect(h.component(k2) == b)
                let oracle = try #require(w3cAggregate([a, b]))
                #expect(h.state == oracle, "\(layout) \(a)+\(b) log \(h.log)")
                #expect(h.changes.last?.state ?? .new == oracle)
                #expect(!h.hasConsecutiveDuplicate, "\(h.states)")
                if let i = h.states.firstIndex(of: .completed) {
                    #expect(i > 0 && h.states[i - 1] == .connected, "connected before completed: \(h.states)")
                }
            }
        }
    }

    @Test("two components: one connected + one completed ⇒ connected; all completed ⇒ completed", .timeLimit(.minutes(1)))
    func twoComponentsHappy() {
        var h = StateHarness(streams: [1], components: 2)
        #expect(h.feed([L1, E1, nice(.gathering, key11), nice(.gathering, key12)]).isEmpty)
        #expect(h.feed([nice(.connecting, key11)]) == [change(.checking, .checksStarted)])
        #expect(h.feed([nice(.connected, key11), nice(.ready, key11)]).isEmpty, "component 2 is still new")
        #expect(h.component(key11) == .completed)
        #expect(h.feed([nice(.connecting, key12)]).isEmpty)
        #expect(h.feed([nice(.connected, key12)]) == [change(.connected, .pairSelected)])
        #expect(h.feed([nice(.ready, key12)]) == [change(.completed, .checksCompleted)])
        #expect(h.states == [.checking, .connected, .completed])
    }

    @Test("two components: any failed ⇒ failed, and it stays failed while the other completes", .timeLimit(.minutes(1)))
    func twoComponentsFailed() {
        var h = StateHarness(streams: [1], components: 2)
        h.feed([L1, E1, nice(.gathering, key11), nice(.gathering, key12), nice(.connecting, key11), nice(.connecting, key12)])
        #expect(h.feed([nice(.connected, key11)]).isEmpty)
        #expect(h.feed([nice(.failed, key12)]) == [change(.failed, .checksExhausted)])
        #expect(h.feed([nice(.ready, key11)]).isEmpty)
        #expect(h.component(key11) == .completed)
        #expect(h.state == .failed)
        #expect(h.states == [.checking, .failed])
    }

    @Test("two components: one consent lost ⇒ disconnected, its grace ⇒ failed", .timeLimit(.minutes(1)))
    func twoComponentsConsent() throws {
        var h = StateHarness(streams: [1], components: 2)
        h.feed([L1, E1])
        for k in [key11, key12] { h.feed([nice(.gathering, k), nice(.connecting, k), nice(.connected, k), nice(.ready, k)]) }
        #expect(h.states == [.checking, .connected, .completed])
        #expect(h.feed([nice(.failed, key12)]) == [change(.disconnected, .consentLost)])
        let t = try #require(h.tokens(key12).last)
        #expect(h.tokens(key11).isEmpty)
        #expect(h.feed([.graceExpired(key11, token: t)]).isEmpty, "token of another component")
        #expect(h.feed([.graceExpired(key12, token: t)]) == [change(.failed, .consentLost)])
    }

    @Test("two streams: completed needs end-of-candidates and gathering done on every stream", .timeLimit(.minutes(1)))
    func twoStreamsFlags() {
        var h = StateHarness(streams: [1, 2], components: 1)
        h.feed([L1, E1])
        for k in [key11, key21] { h.feed([nice(.gathering, k), nice(.connecting, k), nice(.connected, k), nice(.ready, k)]) }
        #expect(h.states == [.checking, .connected])
        #expect(h.component(key11) == .completed)
        #expect(h.component(key21) == .connected)
        #expect(h.feed([.remoteEndOfCandidates(stream: 2)]).isEmpty)
        #expect(h.feed([.localGatheringDone(stream: 2)]) == [change(.completed, .checksCompleted)])
    }
}

// MARK: - 3. Guarantees and §8 sequences

@Suite("IceStateMachine: guarantees")
struct IceStateMachineGuaranteeTests {
    static let up: [SMInput] = [nice(.gathering), A1, nice(.connecting), nice(.connected), nice(.ready)]

    @Test("happy path with end-of-candidates: new→checking→connected→completed (§8 case 4)", .timeLimit(.minutes(1)),
          arguments: [0, 1, 2, 3, 4, 5])
    func happyPath(flagsAt: Int) {
        // End-of-candidates and gathering-done may arrive at any point of the libnice sequence.
        var inputs = Self.up
        inputs.insert(contentsOf: [L1, E1], at: flagsAt)
        var h = StateHarness()
        h.feed(inputs)
        #expect(h.changes == [change(.checking, .checksStarted), change(.connected, .pairSelected),
                              change(.completed, .checksCompleted)])
    }

    @Test("no end-of-candidates: ends connected (§8 case 5)", .timeLimit(.minutes(1)), arguments: [
        [SMInput](), [L1], [E1],
    ])
    func noEnd(_ flags: [SMInput]) {
        var h = StateHarness()
        h.feed(flags + Self.up)
        #expect(h.states == [.checking, .connected])
        #expect(h.state == .connected)
    }

    @Test("connected is never skipped: CONNECTING→READY with both flags", .timeLimit(.minutes(1)), arguments: [false, true])
    func neverSkipConnected(flagsFirst: Bool) {
        var h = StateHarness()
        if flagsFirst { h.feed([L1, E1]) }
        h.feed([nice(.gathering), nice(.connecting)])
        h.feed(nice(.ready))
        if !flagsFirst { h.feed([L1, E1]) }
        if flagsFirst {
            #expect(h.changes == [change(.checking, .checksStarted), change(.connected, .pairSelected),
                                  change(.completed, .checksCompleted)])
        } else {
            #expect(h.states == [.checking, .connected, .completed])
        }
    }

    @Test("connected is never skipped: READY straight from new", .timeLimit(.minutes(1)))
    func neverSkipFromNew() {
        var h = StateHarness()
        h.feed([L1, E1])
        #expect(h.feed([nice(.ready)]).map(\.state) == [.connected, .completed])
    }

    @Test("completed requires local gathering done AND remote end-of-candidates", .timeLimit(.minutes(1)))
    func completedNeedsBoth() {
        var h = StateHarness()
        h.feed(Self.up)
        #expect(h.state == .connected)
        #expect(h.feed([L1]).isEmpty)
        #expect(h.state == .connected)
        #expect(h.feed([E1]) == [change(.completed, .checksCompleted)])

        var h2 = StateHarness()
        h2.feed(Self.up + [E1])
        #expect(h2.state == .connected)
        #expect(h2.feed([L1]) == [change(.completed, .checksCompleted)])
    }

    @Test("consent lost after up: disconnected(consentLost), grace ⇒ failed(consentLost) (§8 cases 9, 10)",
          .timeLimit(.minutes(1)), arguments: [false, true])
    func consentLost(completed: Bool) throws {
        var h = StateHarness()
        if completed { h.feed([L1, E1]) }
        h.feed(Self.up)
        let out = h.feed(nice(.failed))
        #expect(out.changes == [change(.disconnected, .consentLost)])
        #expect(out.graceTimers.map(\.key) == [key11])
        let t = try #require(out.graceTimers.first?.token)
        #expect(h.feed([.graceExpired(key11, token: t &- 1)]).isEmpty, "stale token")
        #expect(h.feed([.graceExpired(key11, token: t &+ 1)]).isEmpty, "unknown token")
        #expect(h.feed([.graceExpired(key11, token: t)]) == [change(.failed, .consentLost)])
        #expect(h.states == (completed ? [.checking, .connected, .completed, .disconnected, .failed]
                                       : [.checking, .connected, .disconnected, .failed]))
    }

    @Test("consent lost then keepalive recovery FAILED→CONNECTING→CONNECTED→READY stays down until restart",
          .timeLimit(.minutes(1)), arguments: [false, true])
    func keepaliveRecovery(graceFirst: Bool) throws {
        var h = StateHarness()
        h.feed([L1, E1] + Self.up + [nice(.failed)])
        let t = try #require(h.tokens().last)
        if graceFirst { h.feed(.graceExpired(key11, token: t)) }
        let down: IceConnectionState = graceFirst ? .failed : .disconnected
        #expect(h.feed([nice(.connecting), nice(.connected), nice(.ready), A1, nice(.connected), nice(.ready)]).isEmpty)
        #expect(h.state == down)
        #expect(h.tokens().count == 1, "the grace timer is not re-armed while disconnected")
        if !graceFirst {
            #expect(h.feed([.graceExpired(key11, token: t)]) == [change(.failed, .consentLost)])
        }
        #expect(h.feed([nice(.failed), nice(.connecting), nice(.connected)]).isEmpty)
        #expect(h.feed([.restart]) == [change(.checking, .iceRestart)])
    }

    @Test("wrong password without end-of-candidates: checking→disconnected, grace ⇒ failed (§8 case 7)",
          .timeLimit(.minutes(1)), arguments: [false, true])
    func wrongPasswordTrickle(localDone: Bool) throws {
        var h = StateHarness()
        if localDone { h.feed(L1) }
        h.feed([nice(.gathering), A1, nice(.connecting)])
        let out = h.feed(nice(.failed))
        #expect(out.changes == [change(.disconnected, .checksExhausted)])
        let t = try #require(out.graceTimers.first?.token)
        #expect(h.feed([.graceExpired(key11, token: t)]) == [change(.failed, .checksExhausted)])
        #expect(h.states == [.checking, .disconnected, .failed])
    }

    @Test("wrong password with end-of-candidates: checking→failed directly (§8 case 6)", .timeLimit(.minutes(1)))
    func wrongPasswordEnded() {
        var h = StateHarness()
        h.feed([L1, nice(.gathering), A1, E1, nice(.connecting)])
        let out = h.feed(nice(.failed))
        #expect(out.changes == [change(.failed, .checksExhausted)])
        #expect(out.graceTimers.isEmpty)
        #expect(h.states == [.checking, .failed])
        // Sticky: a triggered check (no new candidate) does not revive it; EOC was given, so neither does a candidate.
        #expect(h.feed([nice(.connecting), A1, nice(.failed), nice(.connecting)]).isEmpty)
        #expect(h.state == .failed)
    }

    @Test("end-of-candidates arriving while disconnected (never up) ⇒ failed", .timeLimit(.minutes(1)))
    func endWhileDisconnected() {
        var h = StateHarness()
        h.feed([L1, nice(.gathering), A1, nice(.connecting), nice(.failed)])
        #expect(h.state == .disconnected)
        #expect(h.feed([E1]) == [change(.failed, .checksExhausted)])
    }

    @Test("never-up disconnected: a late candidate (FAILED→CONNECTING) cancels the grace", .timeLimit(.minutes(1)))
    func lateCandidateCancelsGrace() throws {
        var h = StateHarness()
        h.feed([nice(.gathering), A1, nice(.connecting), nice(.failed)])
        let t = try #require(h.tokens().last)
        #expect(h.feed([A1, nice(.connecting)]) == [change(.checking, .checksStarted)])
        #expect(h.feed([.graceExpired(key11, token: t)]).isEmpty, "timer of the cancelled disconnection")
        #expect(h.feed([nice(.connected)]) == [change(.connected, .pairSelected)])
        #expect(h.states == [.checking, .disconnected, .checking, .connected])
    }

    @Test("failed (no EOC, never up) recovers only with a new remote candidate", .timeLimit(.minutes(1)))
    func failedRecovery() throws {
        var h = StateHarness()
        h.feed([nice(.gathering), A1, nice(.connecting), nice(.failed)])
        h.feed(.graceExpired(key11, token: try #require(h.tokens().last)))
        #expect(h.state == .failed)
        // A new remote candidate, then libnice FAILED→CONNECTING: recovery.
        #expect(h.feed([A1]).isEmpty)
        #expect(h.feed([nice(.connecting)]) == [change(.checking, .checksStarted)])
        #expect(h.feed([nice(.connected)]) == [change(.connected, .pairSelected)])
    }

    @Test("failed (no EOC, never up) without a new candidate: FAILED→CONNECTING is ignored", .timeLimit(.minutes(1)))
    func failedNoRecovery() throws {
        var h = StateHarness()
        h.feed([nice(.gathering), A1, nice(.connecting), nice(.failed)])
        h.feed(.graceExpired(key11, token: try #require(h.tokens().last)))
        #expect(h.feed([nice(.connecting)]).isEmpty)
        #expect(h.state == .failed)
    }

    @Test("failed (row 11) stays failed when libnice later goes up and then FAILED again (row 13)",
          .timeLimit(.minutes(1)))
    func failedStickyAcrossLibniceUpAndDown() {
        // libnice: FAILED→CONNECTING by a triggered check on a higher-priority failed pair (§1.1/§1.4),
        // then CONNECTED/READY, then consent FAILED. No restart and no new candidate: row 13 says failed stays.
        var h = StateHarness()
        h.feed([L1, E1, nice(.gathering), A1, nice(.connecting), nice(.failed)])
        #expect(h.states == [.checking, .failed])
        #expect(h.feed([nice(.connecting), nice(.connected), nice(.ready)]).isEmpty)
        #expect(h.feed([nice(.failed)]).isEmpty, "failed is sticky until restart; got \(h.states)")
        #expect(h.state == .failed)
    }

    @Test("late candidate after completed: READY→CONNECTED ⇒ completed→connected, no checking/failed (§8 case 15)",
          .timeLimit(.minutes(1)))
    func lateCandidateAfterCompleted() {
        var h = StateHarness()
        h.feed([L1, E1] + Self.up)
        #expect(h.feed([A1]).isEmpty)
        #expect(h.feed([nice(.connected)]) == [change(.connected, .newCandidatePair)])
        #expect(h.feed([nice(.ready)]) == [change(.completed, .checksCompleted)])
        #expect(h.states == [.checking, .connected, .completed, .connected, .completed])
    }

    @Test("remote candidates never added: stays new (§8 cases 1, 17)", .timeLimit(.minutes(1)), arguments: [false, true])
    func neverCandidates(remoteEnd: Bool) {
        var h = StateHarness()
        var inputs: [SMInput] = [nice(.gathering), L1]
        if remoteEnd { inputs.append(E1) }
        #expect(h.feed(inputs + [.remoteCandidateAdded(stream: 7)]).isEmpty)
        #expect(h.state == .new)
        #expect(h.component() == .new)
        #expect(h.timers.isEmpty)
    }

    // MARK: Restart

    @Test("restart from completed: →connected, then →completed after new end-of-candidates (§8 case 12)",
          .timeLimit(.minutes(1)))
    func restartFromCompleted() {
        var h = StateHarness()
        h.feed([L1, E1] + Self.up)
        #expect(h.feed([.restart]) == [change(.connected, .iceRestart)])
        #expect(h.feed([nice(.gathering), A1, nice(.connecting), nice(.connected), nice(.ready)]).isEmpty,
                "restart clears remote end-of-candidates")
        #expect(h.feed([E1]) == [change(.completed, .checksCompleted)])
        #expect(!h.states.contains(.new) && h.states.firstIndex(of: .checking) == 0)
    }

    @Test("restart from connected: no change event", .timeLimit(.minutes(1)), arguments: [false, true])
    func restartFromConnected(ready: Bool) {
        var h = StateHarness()
        h.feed([nice(.gathering), A1, nice(.connecting), nice(.connected)] + (ready ? [nice(.ready)] : []))
        #expect(h.state == .connected)
        let out = h.feed(.restart)
        #expect(out.changes.isEmpty)
        #expect(out.graceTimers.isEmpty)
        #expect(h.feed([nice(.gathering), nice(.connecting), nice(.connected), nice(.ready)]).isEmpty)
        #expect(h.state == .connected)
    }

    @Test("restart from disconnected/failed: →checking, never new (§8 case 13)", .timeLimit(.minutes(1)),
          arguments: [false, true], [false, true])
    func restartFromDown(afterGrace: Bool, wasUp: Bool) throws {
        var h = StateHarness()
        h.feed([nice(.gathering), A1, nice(.connecting)] + (wasUp ? [nice(.connected), nice(.ready)] : []) + [nice(.failed)])
        #expect(h.state == .disconnected)
        let t = try #require(h.tokens().last)
        if afterGrace { h.feed(.graceExpired(key11, token: t)) }
        #expect(h.state == (afterGrace ? .failed : .disconnected))
        #expect(h.feed([.restart]) == [change(.checking, .iceRestart)])
        #expect(h.feed([.graceExpired(key11, token: t)]).isEmpty, "timer from before the restart")
        #expect(h.feed([nice(.gathering), A1, nice(.connecting)]).isEmpty)
        #expect(h.feed([nice(.connected)]) == [change(.connected, .pairSelected)])
        #expect(!h.states.contains(.new))
    }

    @Test("restart from checking stays checking; from new stays new", .timeLimit(.minutes(1)))
    func restartFromCheckingAndNew() {
        var h = StateHarness()
        h.feed([nice(.gathering), A1, nice(.connecting)])
        #expect(h.feed([.restart, nice(.gathering)]).isEmpty)
        #expect(h.state == .checking)
        #expect(h.feed([nice(.connecting), nice(.connected)]) == [change(.connected, .pairSelected)])

        var n = StateHarness()
        #expect(n.feed([nice(.gathering), .restart, nice(.gathering)]).isEmpty)
        #expect(n.state == .new)
        #expect(n.feed([A1, nice(.connecting)]) == [change(.checking, .checksStarted)])
    }

    @Test("restart from failed, new generation fails again: →checking→failed (row 11) or →disconnected",
          .timeLimit(.minutes(1)), arguments: [false, true])
    func restartThenFailAgain(endAgain: Bool) {
        var h = StateHarness()
        h.feed([L1, E1, nice(.gathering), A1, nice(.connecting), nice(.failed)])
        #expect(h.feed([.restart]) == [change(.checking, .iceRestart)])
        h.feed([nice(.gathering), A1] + (endAgain ? [E1] : []) + [nice(.connecting)])
        #expect(h.feed([nice(.failed)]).map(\.state) == [endAgain ? .failed : .disconnected])
    }

    // MARK: Close

    @Test("close: state closed, no event, then every input is ignored", .timeLimit(.minutes(1)),
          arguments: IceConnectionState.allCases.filter { $0 != .closed })
    func close(from target: IceConnectionState) throws {
        var h = StateHarness()
        h.feed([L1, E1])
        h.feed(IceStateMachineAggregateTests.drive(key11, to: target))
        #expect(h.state == target)
        let t = h.tokens().last ?? 1
        let out = h.feed(.close)
        #expect(out.changes.isEmpty && out.graceTimers.isEmpty)
        #expect(h.state == .closed)
        #expect(h.machine.isClosed)
        let after: [SMInput] = [.graceExpired(key11, token: t), .restart, nice(.gathering), nice(.connecting), nice(.connected),
                                nice(.ready), nice(.failed), A1, E1, L1, .close, .graceExpired(key11, token: t &+ 1)]
        for i in after {
            let o = h.feed(i)
            #expect(o.changes.isEmpty && o.graceTimers.isEmpty, "\(describeInput(i)) after close")
            #expect(h.state == .closed)
        }
    }

    // MARK: Only real changes

    @Test("no event without a change: duplicates and re-evaluations", .timeLimit(.minutes(1)))
    func onlyRealChanges() {
        var h = StateHarness()
        h.feed([nice(.gathering), nice(.gathering), A1, A1, nice(.connecting), nice(.connecting), L1, L1,
                nice(.connected), nice(.connected), E1, E1, nice(.ready), nice(.ready), A1])
        #expect(h.states == [.checking, .connected, .completed])
        #expect(!h.hasConsecutiveDuplicate)
    }
}

// MARK: - 4. Randomised invariants

@Suite("IceStateMachine: randomised invariants")
struct IceStateMachinePropertyTests {
    struct Config: Sendable, CustomTestStringConvertible {
        var streams: [UInt32]
        var components: Int
        var testDescription: String { "streams \(streams) × \(components) component(s)" }
        var keys: [ComponentKey] {
            streams.flatMap { s in (1...components).map { ComponentKey(stream: s, component: UInt32($0)) } }
        }
    }

    static let configs = [Config(streams: [1], components: 1), Config(streams: [1], components: 2),
                          Config(streams: [1, 2], components: 1)]

    /// Tracks, independently of the machine, what the invariants need.
    struct Tracker {
        var nice: [ComponentKey: NiceState] = [:]
        var upInGeneration: Set<ComponentKey> = []
        var lostInGeneration: Set<ComponentKey> = []
        var candidateAfterFailed: Set<ComponentKey> = []
        var localDone: Set<UInt32> = []
        var remoteDone: Set<UInt32> = []
    }

    @Test("random legal sequences keep every invariant", .timeLimit(.minutes(1)), arguments: configs)
    func randomLegal(_ config: Config) {
        Self.runRandomSequences(config, seed: 0x5EED_0000, legal: true)
    }

    @Test("random arbitrary (also illegal) libnice sequences keep the structural invariants", .timeLimit(.minutes(1)),
          arguments: configs)
    func randomArbitrary(_ config: Config) {
        Self.runRandomSequences(config, seed: 0xA4B1_7000, legal: false)
    }

    /// 2,000 seeded random sequences of up to 30 inputs; records the first three that break an invariant.
    static func runRandomSequences(_ config: Config, seed: UInt64, legal: Bool) {
        var rng = SeededGenerator(seed: seed &+ UInt64(config.keys.count * 10 + config.streams.count))
        var failures = 0
        for n in 0..<2_000 {
            let length = Int.random(in: 1...30, using: &rng)
            if let problem = runSequence(config, length: length, legal: legal, rng: &rng) {
                failures += 1
                if failures <= 3 { Issue.record("sequence \(n): \(problem)") }
            }
        }
        #expect(failures == 0, "\(failures) of 2000 sequences broke an invariant")
    }

    static func nextInput(_ config: Config, _ t: Tracker, _ h: StateHarness, legal: Bool,
                          rng: inout SeededGenerator) -> SMInput {
        let key = config.keys.randomElement(using: &rng)!
        let stream = config.streams.randomElement(using: &rng)!
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<50:
            let current = t.nice[key] ?? .disconnected
            let options = NiceState.allCases.filter { legal ? isLegalNiceTransition(from: current, to: $0) : $0 != current }
            return nice(options.randomElement(using: &rng) ?? .failed, key)
        case 50..<58: return .localGatheringDone(stream: stream)
        case 58..<66: return .remoteEndOfCandidates(stream: stream)
        case 66..<76: return .remoteCandidateAdded(stream: stream)
        case 76..<81: return .restart
        case 81..<92:
            let tokens = h.tokens(key)
            return .graceExpired(key, token: tokens.last ?? 1)
        case 92..<98:
            let tokens = h.tokens(key)
            let stale = tokens.dropLast().randomElement(using: &rng) ?? UInt64.random(in: 0...3, using: &rng)
            return .graceExpired(key, token: stale)
        default: return .close
        }
    }

    /// Runs one random sequence; returns a description of the first broken invariant.
    static func runSequence(_ config: Config, length: Int, legal: Bool, rng: inout SeededGenerator) -> String? {
        var h = StateHarness(streams: config.streams, components: config.components)
        var t = Tracker()
        var reported: [IceConnectionState] = [.new]
        var pendingCompletedGuard = true // entered new/checking and no connected since
        for _ in 0..<length {
            let input = nextInput(config, t, h, legal: legal, rng: &rng)
            let before = h.state
            let wasClosed = h.machine.isClosed
            let componentsBefore = Dictionary(uniqueKeysWithValues: config.keys.map { ($0, h.component($0)!) })
            let out = h.feed(input)
            let fail = { (what: String) in "\(what); inputs \(h.log); changes \(h.states)" }

            // Tracker update (mirrors libnice and the wrapper, not the machine).
            switch input {
            case .componentState(let k, let s):
                if t.nice[k] != s {
                    t.nice[k] = s
                    // libnice coming back up after `failed` was reported is not "up" (row 13).
                    let stickyFailed = componentsBefore[k] == .failed
                    if (s == .connected || s == .ready) && !stickyFailed { t.upInGeneration.insert(k) }
                    if s == .failed && t.upInGeneration.contains(k) && !stickyFailed { t.lostInGeneration.insert(k) }
                }
            case .localGatheringDone(let s): t.localDone.insert(s)
            case .remoteEndOfCandidates(let s): t.remoteDone.insert(s)
            case .remoteCandidateAdded(let s):
                for k in config.keys where k.stream == s && componentsBefore[k] == .failed && !t.remoteDone.contains(s)
                    && !t.upInGeneration.contains(k)
                {
                    t.candidateAfterFailed.insert(k)
                }
            case .restart:
                t.remoteDone = []
                t.upInGeneration = []
                t.lostInGeneration = []
                t.candidateAfterFailed = []
                for k in config.keys { t.nice[k] = .gathering }
            case .graceExpired, .close, .setupFailed, .peerReflexiveFlood: break
            }

            // Nothing after close; close itself is silent.
            if wasClosed || input == .close {
                guard out.changes.isEmpty, out.graceTimers.isEmpty else { return fail("event after/at close") }
                guard h.state == .closed else { return fail("state \(h.state) after close") }
                continue
            }
            // Only real changes.
            var previous = before
            for c in out.changes {
                guard c.state != previous else { return fail("duplicate \(c.state)") }
                previous = c.state
            }
            guard h.state == (out.changes.last?.state ?? before) else { return fail("state/changes mismatch") }
            // Connected precedes completed after new/checking.
            for c in out.changes {
                if c.state == .new || c.state == .checking { pendingCompletedGuard = true }
                if c.state == .connected { pendingCompletedGuard = false }
                if c.state == .completed && pendingCompletedGuard { return fail("completed without connected") }
                reported.append(c.state)
            }
            // Aggregate equals the W3C rules over the component states.
            let comps = config.keys.map { h.component($0)! }
            guard h.state == w3cAggregate(comps) else { return fail("aggregate \(h.state) vs components \(comps)") }
            for k in config.keys {
                let now = h.component(k)!, was = componentsBefore[k]!
                // Completed needs both flags and libnice READY.
                if now == .completed {
                    guard t.localDone.contains(k.stream), t.remoteDone.contains(k.stream) else {
                        return fail("\(k) completed without both flags")
                    }
                    if legal, t.nice[k] != .ready { return fail("\(k) completed while libnice \(t.nice[k].map(niceName) ?? "-")") }
                }
                // Becoming disconnected arms a grace timer for that component.
                if now == .disconnected && was != .disconnected && !out.graceTimers.contains(where: { $0.key == k }) {
                    return fail("\(k) disconnected without grace timer")
                }
                if out.graceTimers.contains(where: { $0.key == k }) && now != .disconnected {
                    return fail("\(k) grace timer while \(now)")
                }
                guard legal else { continue }
                // Failed leaves only via restart or the never-up/no-EOC/new-candidate recovery.
                if was == .failed && now != .failed {
                    var recovery = false
                    if case .componentState(let changed, _) = input, changed == k { recovery = t.candidateAfterFailed.contains(k) }
                    if input != .restart && !recovery { return fail("\(k) left failed to \(now)") }
                    t.candidateAfterFailed.remove(k)
                }
                // After consent loss: down until restart.
                if t.lostInGeneration.contains(k) && now != .disconnected && now != .failed {
                    return fail("\(k) left disconnected/failed after consent loss: \(now)")
                }
                if now == .new && input == .restart && was != .new { return fail("\(k) restart → new") }
            }
            if input == .restart {
                let expected: IceConnectionState? = switch before {
                case .completed, .connected: .connected
                case .disconnected, .failed: .checking
                case .checking: .checking
                case .new: .new
                case .closed: nil
                }
                if legal, let expected, h.state != expected { return fail("restart from \(before) → \(h.state)") }
                if out.changes.contains(where: { $0.state == .new }) { return fail("restart reported new") }
            }
        }
        _ = reported
        return nil
    }
}
