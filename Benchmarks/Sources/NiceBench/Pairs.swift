// A pair of NiceICE connections in one process, set up exactly as the C reference does its two
// agents: A controlling, B controlled, 127.0.0.1 only, trickle; local candidates are collected
// untimed until both sides report end-of-candidates, then `start()` exchanges parameters and
// candidates (the clock of the connect figure starts there).
import Dispatch
@_spi(Benchmarks) import NiceICE
import Synchronization

final class Pair: Sendable {
    struct Side: Sendable {
        var candidates: [IceCandidate] = []
        var gathered = false
        var connectedAt: UInt64 = 0
        var completedAt: UInt64 = 0
    }

    let a: IceTransport
    let b: IceTransport
    let sides = Mutex([Side(), Side()])
    let tally: Tally
    /// Set by `start()` (main thread).
    let startedAt = Atomic<UInt64>(0)

    /// Creates both agents (they start gathering at once) and installs the handlers; events go to
    /// `queue`. `onState` (event latency) runs first in the state handler when given, with the
    /// `ContinuousClock` instant read on the handler's first line.
    init(
        context: NiceContext, contextB: NiceContext? = nil, queue: DispatchQueue, tally: Tally,
        onState: (@Sendable (Int, IceStateChange, ContinuousClock.Instant) -> Void)? = nil
    ) throws {
        self.tally = tally
        a = try IceTransport(
            configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]), context: context)
        b = try IceTransport(
            configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]), context: contextB ?? context)
        for (i, pc) in [(0, a), (1, b)] {
            // Strong captures: close() drops the handlers, which breaks the Pair → connection →
            // handler → Pair cycle.
            pc.candidateHandler = { [self] candidate in
                if let candidate {
                    sides.withLock { $0[i].candidates.append(candidate) }
                } else {
                    sides.withLock { $0[i].gathered = true }
                    tally.bump { $0.gathered += 1 }
                }
            }
            pc.stateUpdateHandler = { [self] change in
                if let onState { onState(i, change, ContinuousClock.now) }
                let t = nowNs()
                switch change.state {
                case .connected:
                    let first = sides.withLock { s -> Bool in
                        guard s[i].connectedAt == 0 else { return false }
                        s[i].connectedAt = t
                        return true
                    }
                    if first { tally.bump { $0.connected += 1 } }
                case .completed:
                    let first = sides.withLock { s -> Bool in
                        if s[i].connectedAt == 0 { s[i].connectedAt = t }
                        guard s[i].completedAt == 0 else { return false }
                        s[i].completedAt = t
                        return true
                    }
                    if first {
                        tally.bump {
                            $0.completed += 1
                            $0.lastCompleted = max($0.lastCompleted, t)
                        }
                    }
                case .failed, .disconnected:
                    log("connection \(i == 0 ? "A" : "B") went \(change)")
                    tally.bump { $0.failed += 1 }
                default:
                    break
                }
            }
            pc.start(queue: queue)
        }
    }

    /// Start of checks: parameters on both sides, then each side's candidates and
    /// end-of-candidates to the other (the order of the C reference's `pair_start`).
    /// `rewrite` (a relay between the two) maps side `i`'s candidate to what the other side is
    /// given, or nil to withhold it.
    func start(rewrite: ((IceCandidate, Int) -> IceCandidate?)? = nil) throws {
        startedAt.store(nowNs(), ordering: .relaxed)
        try a.setRemoteParameters(b.localParameters)
        try b.setRemoteParameters(a.localParameters)
        let s = sides.withLock { $0 }
        for (me, other) in [(0, b), (1, a)] {
            for c in s[me].candidates {
                if let rewrite {
                    if let r = rewrite(c, me) { try other.addIceCandidate(r) }
                } else {
                    try other.addIceCandidate(c)
                }
            }
            try other.addIceCandidate(nil)
        }
    }

    /// Both sides connected / completed, in ns after `start()`.
    var connectTimes: (connected: UInt64, completed: UInt64) {
        let t0 = startedAt.load(ordering: .relaxed)
        let s = sides.withLock { $0 }
        return (max(s[0].connectedAt, s[1].connectedAt) - t0, max(s[0].completedAt, s[1].completedAt) - t0)
    }

    func closeNow() {
        a.close()
        b.close()
    }

    /// `await closeAndWait()` on both: returns once libnice has closed both agents' sockets.
    func closeAndWait() async {
        await a.closeAndWait()
        await b.closeAndWait()
    }
}

/// Creates `n` pairs (pair `i` on `context()`'s next answer and `queues[i % queues.count]`),
/// gathers (untimed), starts checks, waits for all 2n `completed`. Returns the pairs, the time
/// from the first start to the last `completed` handler, and the untimed set-up (creation of the
/// 2n connections; creation → all end-of-candidates) in ns. `attach` runs right after pair `i` was
/// created (with its queue), before gathering ends: the DTLS figures put their transports on there.
func connectPairs(
    _ n: Int, context: () -> NiceContext, contextB: (() -> NiceContext)? = nil, queues: [DispatchQueue], tally: Tally, timeout: Double,
    onState: (@Sendable (Int, IceStateChange, ContinuousClock.Instant) -> Void)? = nil,
    rewrite: ((IceCandidate, Int) -> IceCandidate?)? = nil,
    attach: (Int, Pair, DispatchQueue) -> Void = { _, _, _ in }
) -> (pairs: [Pair], elapsed: UInt64, create: UInt64, gather: UInt64) {
    Watchdog.shared.arm(timeout + 5, "creating \(n) pairs")
    var pairs: [Pair] = []
    pairs.reserveCapacity(n)
    let tCreate = nowNs()
    for i in 0..<n {
        let queue = queues[i % queues.count]
        do {
            pairs.append(try Pair(context: context(), contextB: contextB?(), queue: queue, tally: tally, onState: onState))
        } catch {
            die(4, "IceTransport creation failed at pair \(i): \(error)")
        }
        attach(i, pairs[i], queue)
    }
    let created = nowNs() - tCreate
    tally.wait("end-of-candidates", timeout: timeout) { $0.gathered >= 2 * n }
    let gathered = nowNs() - tCreate
    Watchdog.shared.arm(timeout + 5, "start of checks")
    let t0 = nowNs()
    do {
        for p in pairs { try p.start(rewrite: rewrite) }
    } catch {
        die(4, "start of checks failed: \(error)")
    }
    if n > 1 { log("start of checks: \(n) pairs submitted from the main thread in \(fmt(ms(nowNs() - t0))) ms") }
    tally.wait("all connections completed", timeout: timeout) { $0.completed >= 2 * n }
    Watchdog.shared.disarm()
    let last = tally.counts.withLock { $0.lastCompleted }
    return (pairs, last - t0, created, gathered)
}

/// Closes every pair and waits until libnice has closed all their sockets.
func closePairs(_ pairs: [Pair], timeout: Double) async {
    Watchdog.shared.arm(timeout, "close of \(pairs.count) pairs")
    for p in pairs { p.closeNow() }
    for p in pairs { await p.closeAndWait() }
    Watchdog.shared.disarm()
}
