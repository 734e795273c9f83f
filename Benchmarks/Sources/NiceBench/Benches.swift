// The five figures of issue 5, measured the way c-reference/nice_bench.c measures them.
import Dispatch
import Foundation
@_spi(Benchmarks) import NiceICE
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

let phaseTimeout = 30.0

// MARK: 1. Connect

/// Per run a fresh pair; gathering untimed; clock from `start()` (parameters + candidates) to both
/// sides `connected` / `completed`, timestamps taken in the state handler on the delivery queue.
func benchConnect(runs: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    var completed: [Double] = []
    var connected: [Double] = []
    for r in 1...runs {
        let tally = Tally()
        let (pairs, _, _, _) = connectPairs(1, context: { context }, queues: [queue], tally: tally, timeout: phaseTimeout)
        let t = pairs[0].connectTimes
        completed.append(ms(t.completed))
        connected.append(ms(t.connected))
        emitRun("connect", r, ms(t.completed), "ms")
        emitRun("connect-connected", r, ms(t.connected), "ms")
        await closePairs(pairs, timeout: phaseTimeout)
    }
    emitSummary("connect", completed, "ms")
    emitSummary("connect-connected", connected, "ms")
}

// MARK: 2. Throughput

/// Counts datagrams on the receiving side and lets the sender wait for it without spinning.
final class ReceiveCounter: Sendable {
    let count = Atomic<Int>(0)
    let last = Atomic<UInt64>(0)
    let bytes = Atomic<Int>(0)
    /// The count the sender waits for; 0 when nobody waits.
    private let target = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)

    func reset() {
        count.store(0, ordering: .sequentiallyConsistent)
        last.store(0, ordering: .sequentiallyConsistent)
        bytes.store(0, ordering: .relaxed)
    }

    @inline(__always)
    func hit(_ n: Int) {
        let c = count.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        last.store(nowNs(), ordering: .relaxed)
        bytes.wrappingAdd(n, ordering: .relaxed)
        let t = target.load(ordering: .sequentiallyConsistent)
        if t != 0, c >= t, target.compareExchange(expected: t, desired: 0, ordering: .sequentiallyConsistent).exchanged {
            wake.signal()
        }
    }

    /// Blocks until `count >= n` or `deadline`; false on timeout.
    func wait(atLeast n: Int, deadline: DispatchTime) -> Bool {
        if n <= 0 || count.load(ordering: .sequentiallyConsistent) >= n { return true }
        target.store(n, ordering: .sequentiallyConsistent)
        if count.load(ordering: .sequentiallyConsistent) >= n || wake.wait(timeout: deadline) == .timedOut {
            // Withdraw the request; if the receiver already took it, consume its signal.
            if target.compareExchange(expected: n, desired: 0, ordering: .sequentiallyConsistent).exchanged {
                return count.load(ordering: .sequentiallyConsistent) >= n
            }
            wake.wait()
        }
        return true
    }
}

struct SendResult: Sendable {
    var ok = 0
    var errors = 0
    var firstError: String?
    var start: UInt64 = 0
    /// The send thread's CPU time (CLOCK_THREAD_CPUTIME_ID), ns.
    var cpuNs: UInt64 = 0
}

func threadCPUNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sends `count` datagrams of `size` bytes through `send` (the public
/// `send(_: UnsafeRawBufferPointer)` of a `IceTransport` or a `DtlsTransport`) from a plain
/// thread, in batches of 32. With `window` > 0 the sender, after each batch, waits
/// until the receiver has seen all but `window` of the datagrams sent so far (the C reference
/// drains its context after each batch, so it never has more than one batch in flight; a window
/// of 32 keeps two batches, ~150 KB, under the 208 KB loopback socket buffer). `window` 0 sends
/// flat out (loss then shows what the receive path cannot absorb).
func sendFromThread(
    count: Int, size: Int, window: Int, counter: ReceiveCounter,
    send: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
) -> SendResult {
    let result = Mutex(SendResult())
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        for k in 0..<size { buffer[k] = UInt8(truncatingIfNeeded: k) }
        let payload = UnsafeRawBufferPointer(buffer)
        var r = SendResult()
        let cpu0 = threadCPUNs()
        r.start = nowNs()
        let sendDeadline = DispatchTime.now() + 120
        var i = 0
        while i < count {
            var k = 0
            while k < 32 && i < count {
                do {
                    try send(payload)
                    r.ok += 1
                } catch {
                    r.errors += 1
                    if r.firstError == nil { r.firstError = "\(error)" }
                }
                k += 1
                i += 1
            }
            if window > 0, !counter.wait(atLeast: i - window, deadline: DispatchTime.now() + 2) {
                // A lost datagram never arrives: stop waiting for it, keep sending.
                if DispatchTime.now() > sendDeadline { break }
            }
        }
        r.cpuNs = threadCPUNs() - cpu0
        result.withLock { $0 = r }
        done.signal()
    }
    thread.name = "bench-sender"
    thread.start()
    if done.wait(timeout: .now() + 180) == .timedOut { die(3, "send thread did not finish in 180 s") }
    return result.withLock { $0 }
}

/// One run of the throughput figures: `count` datagrams through `send` (see `sendFromThread`), then
/// the tail; the rate is datagrams received over first send → last receive.
struct ThroughputRun {
    var rate: Double
    /// Payload bytes received per second, in MB (10^6 bytes).
    var mbps: Double
    var loss: Double
    /// CPU time of the send thread, ns.
    var senderCPUNs: UInt64
}

func throughputRun(
    _ bench: String, run r: Int, count: Int, size: Int, window: Int, counter: ReceiveCounter,
    send: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
) -> ThroughputRun {
    counter.reset()
    Watchdog.shared.arm(200, "\(bench) run \(r)")
    let s = sendFromThread(count: count, size: size, window: window, counter: counter, send: send)
    // Tail: wait for the rest, at most 10 s after the last send, and stop early once
    // nothing has arrived for 300 ms (the rest was lost).
    let tailEnd = nowNs() + 10_000_000_000
    var seen = -1
    while nowNs() < tailEnd {
        if counter.wait(atLeast: count, deadline: .now() + 0.3) { break }
        let c = counter.count.load(ordering: .sequentiallyConsistent)
        if c == seen { break }
        seen = c
    }
    Watchdog.shared.disarm()
    let received = counter.count.load(ordering: .sequentiallyConsistent)
    let bytes = counter.bytes.load(ordering: .relaxed)
    let last = counter.last.load(ordering: .sequentiallyConsistent)
    let seconds = Double(last &- s.start) / 1e9
    let ok = received > 0 && last > s.start
    let rate = ok ? Double(received) / seconds : 0
    let mbps = ok ? Double(bytes) / seconds / 1e6 : 0
    let loss = 100.0 * Double(count - received) / Double(count)
    log("\(bench) run \(r): sent_ok=\(s.ok) send_err=\(s.errors)\(s.firstError.map { " (\($0))" } ?? "") received=\(received)")
    // Let stragglers of a lossy run land before the next run resets the counter.
    usleep(50_000)
    return ThroughputRun(rate: rate, mbps: mbps, loss: loss, senderCPUNs: s.cpuNs)
}

func benchThroughput(count: Int, size: Int, runs: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    let tally = Tally()
    let (pairs, _, _, _) = connectPairs(1, context: { context }, queues: [queue], tally: tally, timeout: phaseTimeout)
    let pair = pairs[0]
    let counter = ReceiveCounter()

    func measure(_ bench: String, window: Int) {
        var rates: [Double] = []
        var losses: [Double] = []
        let sender = pair.a
        for r in 1...runs {
            let t = throughputRun(bench, run: r, count: count, size: size, window: window, counter: counter) {
                try sender.send($0)
            }
            rates.append(t.rate)
            losses.append(t.loss)
            emitRun(bench, r, t.rate, "dgram/s")
            emitRun(bench + "-loss", r, t.loss, "%")
        }
        emitSummary(bench, rates, "dgram/s")
        emitSummary(bench + "-loss", losses, "%")
    }

    // (0) contextReceiveHandler: on the context thread, bytes borrowed.
    pair.b.contextReceiveHandler = { bytes, _ in counter.hit(bytes.byteCount) }
    measure("throughput-context", window: 32)
    pair.b.contextReceiveHandler = nil

    // (a) receiveHandler, on the delivery queue.
    pair.b.receiveHandler = { d in counter.hit(d.bytes.count) }
    measure("throughput", window: 32)
    measure("throughput-freerun", window: 0)
    pair.b.receiveHandler = nil

    // (b) receivedDatagrams() AsyncStream, consumed by a task on the global executor.
    let stream = pair.b.receivedDatagrams()
    let consumer = Task.detached {
        for await d in stream { counter.hit(d.bytes.count) }
    }
    measure("throughput-stream", window: 32)
    await closePairs(pairs, timeout: phaseTimeout)
    Watchdog.shared.arm(phaseTimeout, "receive stream to finish after close")
    await consumer.value
    Watchdog.shared.disarm()
}

// MARK: 3. Event latency

/// Connect runs; for every state change delivered to `stateUpdateHandler`: `ContinuousClock.now`
/// on the handler's first line minus `IceStateChange.producedAt` (SPI), which NiceICE stamps when
/// its state machine produces the change, inside libnice's `component-state-changed` handler on
/// the GLib thread. So: signal (after NiceICE's trampoline and state machine, a few µs) → the
/// user's handler on its queue. Per connect: checking, connected, completed on both sides.
func benchEvent(runs: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    let total = Mutex<[Double]>([])
    let byState = Mutex<[String: [Double]]>([:])
    for _ in 1...runs {
        let tally = Tally()
        let (pairs, _, _, _) = connectPairs(
            1, context: { context }, queues: [queue], tally: tally, timeout: phaseTimeout,
            onState: { _, change, arrived in
                let us = Double((arrived - change.producedAt) / .nanoseconds(1)) / 1e3
                total.withLock { $0.append(us) }
                byState.withLock { $0[change.state.rawValue, default: []].append(us) }
            })
        await closePairs(pairs, timeout: phaseTimeout)
    }
    let samples = total.withLock { $0 }
    guard !samples.isEmpty else { die(5, "event: no state change delivered") }
    for (i, v) in samples.enumerated() { emitRun("event-latency", i + 1, v, "us") }
    emitSummary("event-latency", samples, "us")
    for (state, values) in byState.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
        emitSummary("event-latency-\(state)", values, "us")
    }
    // Floor: the bare `DispatchQueue.async` hop from a plain thread to an idle serial queue (what
    // EventHub.enqueue does), 1 ms apart so the queue's worker is parked as it is between events.
    let floor = Mutex<[Double]>([])
    let floorDone = DispatchSemaphore(value: 0)
    let probeQueue = DispatchQueue(label: "bench.floor")
    let floorThread = Thread {
        for _ in 0..<max(200, samples.count) {
            let t0 = nowNs()
            probeQueue.async { floor.withLock { $0.append(Double(nowNs() - t0) / 1e3) } }
            usleep(1000)
        }
        floorDone.signal()
    }
    floorThread.start()
    if floorDone.wait(timeout: .now() + 60) == .timedOut { die(3, "dispatch floor probe did not finish") }
    probeQueue.sync {}
    emitSummary("event-latency-dispatch-floor", floor.withLock { $0 }, "us")
    log("event: \(samples.count) samples over \(runs) connects: \(byState.withLock { $0.mapValues(\.count) })")
}

// MARK: 4. Scale

func benchScale(pairs n: Int, contexts nContexts: Int, pool: Bool) async {
    let fds0 = fdCount()
    let need = fds0 + 4 * n + 32
    if need > fdLimit() {
        die(5, "\(n) pairs need about \(need) fds (4 per pair) but RLIMIT_NOFILE is \(fdLimit()); max pairs here is about \((fdLimit() - fds0 - 32) / 4)")
    }
    // One context, or a NiceContextGroup (pair i on the group's next context, round-robin);
    // one delivery queue per context.
    let single = pool ? nil : NiceContext(name: "bench-ctx")
    let group = pool ? NiceContextGroup(count: nContexts, name: "bench-ctx") : nil
    let next: () -> NiceContext = { group?.next() ?? single! }
    let queues = (0..<nContexts).map { DispatchQueue(label: "bench.delivery\($0)") }
    let bench = pool ? "scale-pool" : "scale"
    let timeout = phaseTimeout + 0.02 * Double(n)
    let rss0 = rssKB()
    let tally = Tally()
    let tCreate = nowNs()
    let (pairs, elapsed, created, gathered) = connectPairs(n, context: next, queues: queues, tally: tally, timeout: timeout)
    let rss1 = rssKB()
    log("\(bench): \(n) pairs on \(nContexts) context(s): 2n inits returned in \(fmt(ms(created))) ms, all gathered at \(fmt(ms(gathered))) ms, all completed at \(fmt(ms(nowNs() - tCreate))) ms; fds=\(fdCount()) threads=\(threadCount()) rss before=\(rss0) KB after=\(rss1) KB")
    let t = ms(elapsed)
    let kb = Double(rss1 - rss0) / Double(n)
    emitRun("\(bench)-time", 1, t, "ms")
    emitRun("\(bench)-memory", 1, kb, "KB/pair")
    emitSummary("\(bench)-time", [t], "ms")
    emitSummary("\(bench)-memory", [kb], "KB/pair")
    emitSummary("\(bench)-create", [ms(created)], "ms")
    emitSummary("\(bench)-setup", [ms(gathered)], "ms")
    await closePairs(pairs, timeout: timeout)
    _ = (single, group)
}

// MARK: 5. Churn

/// Threads are counted without GCD's pool workers (`isDispatchWorker`): libdispatch starts and
/// reaps those on its own schedule, so in a short window they move either way (the full count,
/// with them, is in the log).
func benchChurn(cycles: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    let thr0 = ownThreadCount()
    let fds0 = fdCount()
    var rss10 = -1
    var thr10 = -1
    var fds10 = -1
    logThreadsAndFds("churn before")
    for c in 1...cycles {
        let tally = Tally()
        let (pairs, _, _, _) = connectPairs(1, context: { context }, queues: [queue], tally: tally, timeout: phaseTimeout)
        await closePairs(pairs, timeout: phaseTimeout)
        if c == 10 || (cycles < 10 && c == 1) {
            // `await close()` can return a few µs before libnice's last agent reference (held by
            // the close GTask until its callback returns) goes and closes the agent's socket and
            // eventfd: count fds right away (logged) and again after 200 ms (the baseline).
            let fdsAtReturn = fdCount()
            logThreadsAndFds("churn right after cycle \(c)'s close returned")
            usleep(200_000)
            rss10 = rssKB()
            thr10 = ownThreadCount()
            fds10 = fdCount()
            log("churn: after cycle \(c) (+200 ms): rss=\(rss10) KB threads=\(thr10) (all: \(threadCount())) fds=\(fds10) (right after close returned: \(fdsAtReturn))")
        }
        if c % 100 == 0 { log("churn: \(c)/\(cycles) cycles, rss=\(rssKB()) KB") }
    }
    let rssEnd = rssKB()
    // Let GCD park and end its idle workers (a few seconds), for the log's full count.
    let allAtEnd = threadCount()
    let settle = nowNs() + 10_000_000_000
    while threadCount() > ownThreadCount() + 1 && nowNs() < settle { usleep(100_000) }
    logThreadsAndFds("churn after")
    let thrEnd = ownThreadCount()
    let fdsEnd = fdCount()
    log("churn: rss@10=\(rss10) KB end=\(rssEnd) KB threads (without GCD workers) \(thr0)->\(thrEnd), all threads at end \(allAtEnd) (after settling \(threadCount())) fds \(fds0)->\(fdsEnd)")
    let dRss = Double(rssEnd - rss10)
    let dThr = Double(thrEnd - thr0)
    let dFds = Double(fdsEnd - fds0)
    emitRun("churn-memory", 1, dRss, "KB")
    emitRun("churn-threads", 1, dThr, "threads")
    emitRun("churn-fds", 1, dFds, "fds")
    emitSummary("churn-memory", [dRss], "KB")
    emitSummary("churn-threads", [dThr], "threads")
    emitSummary("churn-fds", [dFds], "fds")
    // The same from cycle 10 on: excludes GLib's one-time process-wide set-up (its `gmain` worker
    // thread and that thread's eventfd appear in the first cycle, in C as well).
    emitSummary("churn-threads-steady", [Double(thrEnd - thr10)], "threads")
    emitSummary("churn-fds-steady", [Double(fdsEnd - fds10)], "fds")
    _ = context
}
