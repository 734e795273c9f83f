@testable import NiceICECore

// Fixtures for IceStateMachineTests: a recording harness around `IceStateMachine`, independent
// oracles written from the State Machine article (per component, across components) and the W3C text, and a seeded RNG.

typealias SMInput = IceStateMachine.Input

/// Stream 1 / component 1 and 2, stream 2 / component 1.
let key11 = ComponentKey(stream: 1, component: 1)
let key12 = ComponentKey(stream: 1, component: 2)
let key21 = ComponentKey(stream: 2, component: 1)

/// Shorthand for a libnice component-state signal.
func nice(_ s: NiceState, _ key: ComponentKey = key11) -> SMInput { .componentState(key, s) }

/// libnice's name for a component state (no conformance added to the library type).
func niceName(_ s: NiceState) -> String {
    switch s {
    case .disconnected: "DISCONNECTED"
    case .gathering: "GATHERING"
    case .connecting: "CONNECTING"
    case .connected: "CONNECTED"
    case .ready: "READY"
    case .failed: "FAILED"
    }
}

/// libnice 0.1.21's legal transitions (§1.1), as seen by the wrapper. `GATHERING` is only reached
/// from `DISCONNECTED` by `nice_agent_gather_candidates()`, or by a restart (which the wrapper
/// always feeds as `.restart` first, and which the machine then already treats as GATHERING).
func isLegalNiceTransition(from a: NiceState, to b: NiceState) -> Bool {
    switch (a, b) {
    case (_, .failed): a != .failed
    case (.disconnected, .gathering), (.disconnected, .connecting): true
    case (.gathering, .connecting): true
    case (.connecting, .connected): true
    case (.connected, .ready), (.connected, .connecting): true
    case (.ready, .connected): true
    case (.failed, .connecting): true
    default: false
    }
}

/// A step of a scripted history: an input, or "expire the most recent grace timer of `key`".
enum HistoryStep: Sendable, CustomStringConvertible {
    case input(SMInput)
    case expireGrace(ComponentKey)

    var description: String {
        switch self {
        case .input(let i): describeInput(i)
        case .expireGrace(let k): "expireGrace(\(k))"
        }
    }
}

func describeInput(_ i: SMInput) -> String {
    switch i {
    case .componentState(let k, let s): "\(niceName(s))@\(k)"
    case .localGatheringDone(let s): "localDone(\(s))"
    case .remoteEndOfCandidates(let s): "EOC(\(s))"
    case .remoteCandidateAdded(let s): "cand(\(s))"
    case .restart: "restart"
    case .graceExpired(let k, let t): "grace(\(k),#\(t))"
    case .setupFailed: "setupFailed"
    case .peerReflexiveFlood: "peerReflexiveFlood"
    case .close: "close"
    }
}

/// Records every change and grace timer the machine reports.
struct StateHarness {
    var machine: IceStateMachine
    private(set) var changes: [IceStateChange] = []
    private(set) var timers: [(key: ComponentKey, token: UInt64)] = []
    private(set) var log: [String] = []

    init(streams: [UInt32] = [1], components: Int = 1) {
        machine = IceStateMachine(streams: streams, components: components)
    }

    var states: [IceConnectionState] { changes.map(\.state) }
    var state: IceConnectionState { machine.state }

    func component(_ key: ComponentKey = key11) -> IceConnectionState? { machine.component(key)?.state }

    /// All grace tokens issued for `key`, oldest first.
    func tokens(_ key: ComponentKey = key11) -> [UInt64] { timers.filter { $0.key == key }.map(\.token) }

    @discardableResult
    mutating func feed(_ input: SMInput) -> IceStateMachine.Output {
        let out = machine.handle(input)
        changes += out.changes
        timers += out.graceTimers
        log.append(describeInput(input))
        return out
    }

    @discardableResult
    mutating func feed(_ inputs: [SMInput]) -> [IceStateChange] {
        let before = changes.count
        for i in inputs { feed(i) }
        return Array(changes[before...])
    }

    /// Runs scripted steps; `expireGrace` uses the newest token issued for the key.
    mutating func run(_ steps: [HistoryStep]) {
        for step in steps {
            switch step {
            case .input(let i): feed(i)
            case .expireGrace(let k):
                if let t = tokens(k).last { feed(.graceExpired(k, token: t)) } else { log.append("expireGrace(\(k)) without token") }
            }
        }
    }

    /// `changes` never repeats a state, and never repeats the initial `new`.
    var hasConsecutiveDuplicate: Bool {
        var previous = IceConnectionState.new
        for c in changes {
            if c.state == previous { return true }
            previous = c.state
        }
        return false
    }
}

/// The W3C `RTCIceConnectionState` aggregate, written from the spec text (webrtc-pc
/// "RTCIceConnectionState Enum"): rules in order, each "none of the previous states apply and …".
/// Returns nil when no rule applies (would mean the rules are not exhaustive).
func w3cAggregate(_ transports: [IceConnectionState], isClosed: Bool = false) -> IceConnectionState? {
    if isClosed { return .closed }
    var count: [IceConnectionState: Int] = [:]
    for t in transports { count[t, default: 0] += 1 }
    let n = transports.count
    let c = { (s: IceConnectionState) in count[s] ?? 0 }
    if c(.failed) > 0 { return .failed }
    if c(.disconnected) > 0 { return .disconnected }
    if n == 0 || c(.new) + c(.closed) == n { return .new }
    if c(.new) + c(.checking) > 0 { return .checking }
    if c(.completed) + c(.closed) == n { return .completed }
    if c(.connected) + c(.completed) + c(.closed) == n { return .connected }
    return nil
}

/// SplitMix64: small, deterministic, good enough for input generation.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - §7.3 table oracle

/// What the §7.3 table needs to know about a component's history, stated explicitly per scripted
/// history (not derived by running the machine).
struct TableFacts: Sendable, Hashable {
    /// libnice state after the history.
    var last: NiceState = .disconnected
    /// `restartFrom` for the current generation, nil when no restart.
    var restartFrom: IceConnectionState?
    /// libnice reached CONNECTED/READY in this generation.
    var everUp = false
    /// FAILED after being up in this generation (consent lost / TCP HUP): row 12 until restart.
    var lost = false
    /// The grace period of the `lost` disconnection expired.
    var lostGraceExpired = false
    /// `failed` was reported (row 11, or row 12 grace expiry) and is sticky (row 13).
    var failedReported = false
    /// A new remote candidate arrived after `failed`, while the remote side had not ended.
    var recoverable = false
    /// Flags already set by the history itself (restart clears `remoteDone`, not `localDone`).
    var localDone = false
    var remoteDone = false

    /// The W3C transport state for libnice state `s`, §7.3 rows 2–13 (row 13 stickiness and the
    /// "after being up" consent loss take precedence; grace expiry is in `failedReported`/`lostGraceExpired`).
    func table(_ s: NiceState) -> IceConnectionState {
        if failedReported { return .failed }                                    // row 13
        if lost { return lostGraceExpired ? .failed : .disconnected }           // row 12 (after up)
        switch s {
        case .disconnected:
            return .new                                                         // row 2
        case .gathering, .connecting:
            // Rows 4/5 hold until the new generation is up (then CONNECTING is a TCP prune: row 7).
            switch everUp ? nil : restartFrom {
            case .connected?, .completed?: return .connected                    // row 4
            case .checking?, .disconnected?, .failed?: return .checking         // row 5
            case .new?, .closed?, nil: return s == .gathering ? .new : .checking // rows 3, 6, 7
            }
        case .connected:
            return .connected                                                   // row 8
        case .ready:
            return localDone && remoteDone ? .completed : .connected            // rows 9, 10
        case .failed:
            return !everUp && localDone && remoteDone ? .failed : .disconnected // rows 11, 12
        }
    }

    /// libnice moves to `s`.
    mutating func transition(to s: NiceState) {
        guard s != last else { return }
        if failedReported, recoverable, last == .failed { // row 13 exception
            failedReported = false
            recoverable = false
        }
        last = s
        // After `failed` was reported, libnice coming back up is not "up" (row 13).
        if (s == .connected || s == .ready) && !lost && !failedReported { everUp = true }
        if s == .failed && everUp && !failedReported { lost = true }
    }

    /// The state was reported; `failed` becomes sticky.
    mutating func note(_ reported: IceConnectionState) {
        if reported == .failed { failedReported = true }
    }
}

/// A scripted component history (stream 1, component 1) with its facts.
struct ComponentHistory: Sendable, CustomStringConvertible {
    var name: String
    var steps: [HistoryStep]
    var facts: TableFacts
    var description: String { name }
}

enum ComponentHistories {
    private static let G = HistoryStep.input(nice(.gathering)), C = HistoryStep.input(nice(.connecting))
    private static let CD = HistoryStep.input(nice(.connected)), R = HistoryStep.input(nice(.ready))
    private static let F = HistoryStep.input(nice(.failed)), A = HistoryStep.input(.remoteCandidateAdded(stream: 1))
    private static let L = HistoryStep.input(.localGatheringDone(stream: 1)), E = HistoryStep.input(.remoteEndOfCandidates(stream: 1))
    private static let RS = HistoryStep.input(.restart), X = HistoryStep.expireGrace(key11)

    private static func h(_ name: String, _ steps: [HistoryStep], _ build: (inout TableFacts) -> Void) -> ComponentHistory {
        var f = TableFacts()
        build(&f)
        return ComponentHistory(name: name, steps: steps, facts: f)
    }

    static let all: [ComponentHistory] = [
        // Generation 0, never up.
        h("initial", []) { _ in },
        h("gathering", [G]) { $0.last = .gathering },
        h("checking", [G, A, C]) { $0.last = .connecting },
        h("checking (prflx, no addIceCandidate)", [G, C]) { $0.last = .connecting },
        h("never-up FAILED, no EOC: disconnected, grace armed", [G, A, C, F]) { $0.last = .failed },
        h("never-up FAILED, no EOC, grace expired: failed", [G, A, C, F, X]) {
            $0.last = .failed; $0.failedReported = true
        },
        h("never-up failed after grace, then new remote candidate", [G, A, C, F, X, A]) {
            $0.last = .failed; $0.failedReported = true; $0.recoverable = true
        },
        h("never-up failed after grace, FAILED→CONNECTING without new candidate", [G, A, C, F, X, C]) {
            $0.last = .connecting; $0.failedReported = true
        },
        h("never-up failed with EOC (row 11)", [L, E, G, A, C, F]) {
            $0.last = .failed; $0.failedReported = true; $0.localDone = true; $0.remoteDone = true
        },
        h("row-11 failed, then new remote candidate (EOC already received)", [L, E, G, A, C, F, A]) {
            $0.last = .failed; $0.failedReported = true; $0.localDone = true; $0.remoteDone = true
        },
        h("row-11 failed, then libnice FAILED→CONNECTING (triggered check)", [L, E, G, A, C, F, C]) {
            $0.last = .connecting; $0.failedReported = true; $0.localDone = true; $0.remoteDone = true
        },
        h("row-11 failed, then libnice CONNECTING→CONNECTED→READY without candidate", [L, E, G, A, C, F, C, CD, R]) {
            $0.last = .ready; $0.failedReported = true; $0.everUp = true; $0.localDone = true; $0.remoteDone = true
        },
        h("grace-expired failed, then libnice CONNECTING→CONNECTED without candidate", [G, A, C, F, X, C, CD]) {
            $0.last = .connected; $0.failedReported = true; $0.everUp = true
        },
        h("never-up disconnected, recovered by new candidate before grace", [G, A, C, F, A, C]) { $0.last = .connecting },
        // Generation 0, up.
        h("connected", [G, A, C, CD]) { $0.last = .connected; $0.everUp = true },
        h("ready", [G, A, C, CD, R]) { $0.last = .ready; $0.everUp = true },
        h("ready then late candidate (READY→CONNECTED)", [G, A, C, CD, R, A, CD]) { $0.last = .connected; $0.everUp = true },
        h("up then TCP prune (CONNECTED→CONNECTING)", [G, A, C, CD, C]) { $0.last = .connecting; $0.everUp = true },
        h("consent lost (READY→FAILED)", [G, A, C, CD, R, F]) { $0.last = .failed; $0.everUp = true; $0.lost = true },
        h("consent lost (CONNECTED→FAILED)", [G, A, C, CD, F]) { $0.last = .failed; $0.everUp = true; $0.lost = true },
        h("consent lost, grace expired", [G, A, C, CD, R, F, X]) {
            $0.last = .failed; $0.everUp = true; $0.lost = true; $0.lostGraceExpired = true
        },
        h("consent lost, keepalive recovery FAILED→CONNECTING→CONNECTED→READY", [G, A, C, CD, R, F, C, CD, R]) {
            $0.last = .ready; $0.everUp = true; $0.lost = true
        },
        h("consent lost, grace expired, keepalive recovery to READY", [G, A, C, CD, R, F, X, C, CD, R]) {
            $0.last = .ready; $0.everUp = true; $0.lost = true; $0.lostGraceExpired = true
        },
        h("consent lost, keepalive recovery to CONNECTING only", [G, A, C, CD, R, F, C]) {
            $0.last = .connecting; $0.everUp = true; $0.lost = true
        },
        h("up, TCP prune, then FAILED", [G, A, C, CD, C, F]) { $0.last = .failed; $0.everUp = true; $0.lost = true },
        // Restarts (libnice emits GATHERING from inside the restart call).
        h("restart from new", [RS, G]) { $0.last = .gathering; $0.restartFrom = .new },
        h("restart from new (gathering)", [G, RS, G]) { $0.last = .gathering; $0.restartFrom = .new },
        h("restart from checking", [G, A, C, RS, G]) { $0.last = .gathering; $0.restartFrom = .checking },
        h("restart from connected (CONNECTED)", [G, A, C, CD, RS, G]) { $0.last = .gathering; $0.restartFrom = .connected },
        h("restart from connected (READY, no EOC)", [G, A, C, CD, R, RS, G]) { $0.last = .gathering; $0.restartFrom = .connected },
        h("restart from completed", [L, E, G, A, C, CD, R, RS, G]) {
            $0.last = .gathering; $0.restartFrom = .completed; $0.localDone = true
        },
        h("restart from disconnected (consent lost)", [G, A, C, CD, R, F, RS, G]) {
            $0.last = .gathering; $0.restartFrom = .disconnected
        },
        h("restart from disconnected (never up)", [G, A, C, F, RS, G]) { $0.last = .gathering; $0.restartFrom = .disconnected },
        h("restart from failed (consent lost + grace)", [G, A, C, CD, R, F, X, RS, G]) {
            $0.last = .gathering; $0.restartFrom = .failed
        },
        h("restart from failed (row 11)", [L, E, G, A, C, F, RS, G]) {
            $0.last = .gathering; $0.restartFrom = .failed; $0.localDone = true
        },
        h("restart from completed, then CONNECTING", [L, E, G, A, C, CD, R, RS, G, A, C]) {
            $0.last = .connecting; $0.restartFrom = .completed; $0.localDone = true
        },
        h("restart from failed, then CONNECTING", [G, A, C, CD, R, F, X, RS, G, A, C]) {
            $0.last = .connecting; $0.restartFrom = .failed
        },
        h("restart from completed, new generation up", [L, E, G, A, C, CD, R, RS, G, A, C, CD]) {
            $0.last = .connected; $0.restartFrom = .completed; $0.localDone = true; $0.everUp = true
        },
        h("restart from failed, new generation up then consent lost", [G, A, C, CD, R, F, X, RS, G, A, C, CD, R, F]) {
            $0.last = .failed; $0.restartFrom = .failed; $0.everUp = true; $0.lost = true
        },
        h("restart twice (completed, then connected)", [L, E, G, A, C, CD, R, RS, G, RS, G]) {
            $0.last = .gathering; $0.restartFrom = .connected; $0.localDone = true
        },
    ]
}

enum FlagTiming: String, Sendable, CaseIterable { case beforeFinal, afterFinal }

/// One row of the exhaustive table test.
struct TableCase: Sendable, CustomStringConvertible {
    var history: ComponentHistory
    var final: NiceState
    var localDone: Bool
    var remoteDone: Bool
    var timing: FlagTiming

    var description: String {
        "\(history.name) → \(niceName(final)), localDone=\(localDone) remoteDone=\(remoteDone) \(timing)"
    }

    /// Expected W3C component state, from `TableFacts.table` only.
    var expected: IceConnectionState {
        var f = history.facts
        func flags() {
            f.localDone = f.localDone || localDone
            f.remoteDone = f.remoteDone || remoteDone
            f.note(f.table(f.last))
        }
        if timing == .beforeFinal { flags() }
        f.transition(to: final)
        f.note(f.table(final))
        if timing == .afterFinal { flags() }
        return f.table(final)
    }

    var inputs: (flagsBefore: [SMInput], final: SMInput, flagsAfter: [SMInput]) {
        var flagInputs: [SMInput] = []
        if localDone { flagInputs.append(.localGatheringDone(stream: 1)) }
        if remoteDone { flagInputs.append(.remoteEndOfCandidates(stream: 1)) }
        return timing == .beforeFinal ? (flagInputs, nice(final), []) : ([], nice(final), flagInputs)
    }

    static let all: [TableCase] = {
        var cases: [TableCase] = []
        for history in ComponentHistories.all {
            for final in NiceState.allCases where final == history.facts.last
                || isLegalNiceTransition(from: history.facts.last, to: final)
            {
                for localDone in [false, true] where !(history.facts.localDone && !localDone) {
                    for remoteDone in [false, true] where !(history.facts.remoteDone && !remoteDone) {
                        for timing in FlagTiming.allCases {
                            cases.append(TableCase(history: history, final: final, localDone: localDone,
                                                   remoteDone: remoteDone, timing: timing))
                        }
                    }
                }
            }
        }
        return cases
    }()
}
