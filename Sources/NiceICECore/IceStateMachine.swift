/// libnice's `NiceComponentState`, mirrored as a Swift enum so the state machine needs no GLib.
package enum NiceState: UInt32, Sendable, Hashable, CaseIterable {
    case disconnected = 0, gathering, connecting, connected, ready, failed
}

/// Identifies one ICE component (libnice stream id, component id).
package struct ComponentKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    package var stream: UInt32
    package var component: UInt32

    package init(stream: UInt32, component: UInt32) {
        self.stream = stream
        self.component = component
    }

    package static func < (a: ComponentKey, b: ComponentKey) -> Bool {
        (a.stream, a.component) < (b.stream, b.component)
    }

    package var description: String { "\(stream)/\(component)" }
}

/// The W3C transport state of one component (`RTCIceTransportState`), computed from libnice's state
/// and the history libnice does not keep. Pure value type; see the State Machine
/// article (NiceICE.docc/StateMachine.md, "Per component").
package struct ComponentMachine: Sendable, Hashable {
    /// Last libnice state seen.
    package private(set) var nice: NiceState = .disconnected
    /// Last W3C transport state computed (and its reason).
    package private(set) var state: IceConnectionState = .new
    package private(set) var reason: IceStateChangeReason?
    /// Reached CONNECTED or READY in this ICE generation.
    package private(set) var everUp = false
    /// FAILED after being up (consent lost/revoked, TCP HUP): only a restart recovers.
    package private(set) var lostAfterUp = false
    /// The W3C state when a restart was requested; `nil` when no restart in this generation.
    package private(set) var restartFrom: IceConnectionState?
    /// `failed` was reported and is sticky.
    package private(set) var failedSticky = false
    /// Sticky `failed` that may still clear: reached without end-of-candidates and never up, and a
    /// new remote candidate came afterwards.
    package private(set) var recoveryAllowed = false
    /// The grace timer token; a timer that fires with another token is stale.
    package private(set) var graceToken: UInt64 = 0
    package private(set) var graceArmed = false
    package private(set) var graceExpired = false

    package enum Input: Sendable, Hashable {
        case nice(NiceState)
        case restart
        case graceExpired(token: UInt64)
        case remoteCandidateAdded
        /// Local gathering or remote end-of-candidates changed (re-evaluate only).
        case reevaluate
    }

    /// Applies one input. Returns a grace token to arm a timer for, if the component just became
    /// `disconnected`.
    package mutating func apply(_ input: Input, localDone: Bool, remoteDone: Bool) -> UInt64? {
        switch input {
        case .nice(let s):
            if s == nice { return nil }
            let previous = nice
            nice = s
            if previous == .failed, s != .failed, failedSticky, recoveryAllowed {
                failedSticky = false
                recoveryAllowed = false
            }
            // Once `failed` was reported (or consent lost), libnice coming back up does not make
            // the connection "up" again: only a restart (or the recovery above) does.
            switch s {
            case .connected, .ready:
                if !lostAfterUp && !failedSticky { everUp = true }
            case .failed:
                if everUp && !failedSticky { lostAfterUp = true }
            default:
                break
            }
        case .restart:
            restartFrom = state
            nice = .gathering
            everUp = false
            lostAfterUp = false
            failedSticky = false
            recoveryAllowed = false
            graceToken &+= 1
            graceArmed = false
            graceExpired = false
        case .graceExpired(let token):
            guard graceArmed, token == graceToken else { return nil }
            graceExpired = true
        case .remoteCandidateAdded:
            if failedSticky, !everUp, !lostAfterUp, !remoteDone { recoveryAllowed = true }
            return nil
        case .reevaluate:
            break
        }
        return update(localDone: localDone, remoteDone: remoteDone)
    }

    private mutating func update(localDone: Bool, remoteDone: Bool) -> UInt64? {
        let (next, why) = evaluate(localDone: localDone, remoteDone: remoteDone)
        state = next
        if let why { reason = why }
        if next == .failed { failedSticky = true }
        if next == .disconnected {
            if !graceArmed {
                graceToken &+= 1
                graceArmed = true
                graceExpired = false
                return graceToken
            }
        } else if next != .failed {
            graceArmed = false
            graceExpired = false
        }
        return nil
    }

    /// §7.3, first matching row wins.
    private func evaluate(localDone: Bool, remoteDone: Bool) -> (IceConnectionState, IceStateChangeReason?) {
        if lostAfterUp {
            return graceExpired ? (.failed, .consentLost) : (.disconnected, .consentLost)
        }
        if failedSticky { return (.failed, reason) }
        switch nice {
        case .disconnected:
            return (.new, nil)
        case .gathering, .connecting:
            // Row 4/5 hold until the new generation is up; afterwards CONNECTING (a closed TCP
            // pair) is plain checking.
            switch everUp ? nil : restartFrom {
            case .connected?, .completed?:
                return (.connected, .iceRestart)
            case .checking?, .disconnected?, .failed?:
                return (.checking, .iceRestart)
            case .new?, .closed?, nil:
                return nice == .gathering ? (.new, restartFrom == nil ? nil : .iceRestart) : (.checking, .checksStarted)
            }
        case .connected:
            return (.connected, state == .completed ? .newCandidatePair : .pairSelected)
        case .ready:
            if localDone && remoteDone { return (.completed, .checksCompleted) }
            return (.connected, state == .completed ? .newCandidatePair : .pairSelected)
        case .failed:
            if !everUp && localDone && remoteDone { return (.failed, .checksExhausted) }
            return graceExpired ? (.failed, .checksExhausted) : (.disconnected, .checksExhausted)
        }
    }
}

/// The connection-level ICE state: per-component machines plus the W3C aggregate (§7.4).
///
/// Pure and synchronous: every input returns the state changes to report, in order, and the
/// grace timers to arm. The caller (``IceTransport``) owns the clock and the threads.
package struct IceStateMachine: Sendable {
    package struct Stream: Sendable {
        package var localDone = false
        package var remoteDone = false
        package var components: [UInt32: ComponentMachine] = [:]
    }

    package enum Input: Sendable, Hashable {
        case componentState(ComponentKey, NiceState)
        case localGatheringDone(stream: UInt32)
        case remoteEndOfCandidates(stream: UInt32)
        case remoteCandidateAdded(stream: UInt32)
        case restart
        case graceExpired(ComponentKey, token: UInt64)
        /// The agent could not be set up (no socket, an unresolvable server, libnice refused):
        /// `failed` at once, and for good — there is no agent to restart.
        case setupFailed
        /// The peer made libnice learn too many peer-reflexive candidates: `failed` at once, and
        /// for good (the agent is released).
        case peerReflexiveFlood
        case close
    }

    package struct Output: Sendable {
        package var changes: [IceStateChange] = []
        package var graceTimers: [(key: ComponentKey, token: UInt64)] = []
    }

    package private(set) var streams: [UInt32: Stream] = [:]
    package private(set) var state: IceConnectionState = .new
    package private(set) var isClosed = false
    /// Set-up failed, or the connection was abandoned (a peer-reflexive flood): every later input
    /// but `close` is ignored.
    package private(set) var setupFailed = false

    /// Creates the machine for the given streams, each with `components` components.
    package init(streams ids: [UInt32], components: Int) {
        for id in ids {
            var stream = Stream()
            for c in 1...max(1, components) { stream.components[UInt32(c)] = ComponentMachine() }
            streams[id] = stream
        }
    }

    package func component(_ key: ComponentKey) -> ComponentMachine? {
        streams[key.stream]?.components[key.component]
    }

    package mutating func handle(_ input: Input) -> Output {
        var out = Output()
        if isClosed { return out }
        if setupFailed && input != .close { return out }
        var trigger: IceStateChangeReason?
        switch input {
        case .close:
            isClosed = true
            state = .closed
            return out
        case .setupFailed:
            setupFailed = true
            state = .failed
            out.changes.append(IceStateChange(state: .failed, reason: .setupFailed))
            return out
        case .peerReflexiveFlood:
            setupFailed = true
            state = .failed
            out.changes.append(IceStateChange(state: .failed, reason: .peerReflexiveFlood))
            return out
        case .componentState(let key, let s):
            trigger = apply(.nice(s), to: key, &out)
        case .graceExpired(let key, let token):
            // `failed` after the grace period keeps the reason of the `disconnected`.
            trigger = apply(.graceExpired(token: token), to: key, &out)
        case .localGatheringDone(let id):
            guard streams[id] != nil, streams[id]?.localDone == false else { return out }
            streams[id]?.localDone = true
            trigger = reevaluate(stream: id, &out)
        case .remoteEndOfCandidates(let id):
            guard streams[id] != nil, streams[id]?.remoteDone == false else { return out }
            streams[id]?.remoteDone = true
            trigger = reevaluate(stream: id, &out)
        case .remoteCandidateAdded(let id):
            guard let stream = streams[id] else { return out }
            for key in stream.components.keys {
                _ = apply(.remoteCandidateAdded, to: ComponentKey(stream: id, component: key), &out)
            }
            return out
        case .restart:
            for (id, stream) in streams {
                streams[id]?.remoteDone = false
                for c in stream.components.keys {
                    _ = apply(.restart, to: ComponentKey(stream: id, component: c), &out)
                }
            }
            trigger = .iceRestart
        }
        aggregate(reason: trigger, &out)
        return out
    }

    private mutating func apply(_ input: ComponentMachine.Input, to key: ComponentKey, _ out: inout Output)
        -> IceStateChangeReason?
    {
        guard var stream = streams[key.stream], var machine = stream.components[key.component] else { return nil }
        let token = machine.apply(input, localDone: stream.localDone, remoteDone: stream.remoteDone)
        if let token { out.graceTimers.append((key, token)) }
        stream.components[key.component] = machine
        streams[key.stream] = stream
        return machine.reason
    }

    private mutating func reevaluate(stream id: UInt32, _ out: inout Output) -> IceStateChangeReason? {
        guard let stream = streams[id] else { return nil }
        var reason: IceStateChangeReason?
        for c in stream.components.keys.sorted() {
            reason = apply(.reevaluate, to: ComponentKey(stream: id, component: c), &out) ?? reason
        }
        return reason
    }

    /// W3C aggregate, plus Chrome's guard: never jump from `new`/`checking` to `completed`.
    private mutating func aggregate(reason: IceStateChangeReason?, _ out: inout Output) {
        let machines = streams.keys.sorted().flatMap { id in
            (streams[id]?.components ?? [:]).sorted { $0.key < $1.key }.map(\.value)
        }
        let next = Self.aggregate(machines.map(\.state))
        guard next != state else { return }
        // Prefer the trigger's reason when its component is in the new state, else the reason of
        // the first component that is.
        let reason = reason.flatMap { r in machines.contains { $0.state == next && $0.reason == r } ? r : nil }
            ?? (reason == .iceRestart ? .iceRestart : machines.first { $0.state == next }?.reason)
        if next == .completed && (state == .new || state == .checking) {
            out.changes.append(IceStateChange(state: .connected, reason: .pairSelected))
        }
        state = next
        out.changes.append(IceStateChange(state: next, reason: reason))
    }

    /// The W3C `RTCIceConnectionState` aggregate over transport states.
    package static func aggregate(_ states: [IceConnectionState]) -> IceConnectionState {
        if states.contains(.failed) { return .failed }
        if states.contains(.disconnected) { return .disconnected }
        if states.allSatisfy({ $0 == .new || $0 == .closed }) { return .new }
        if states.contains(where: { $0 == .new || $0 == .checking }) { return .checking }
        if states.allSatisfy({ $0 == .completed || $0 == .closed }) { return .completed }
        return .connected
    }
}
