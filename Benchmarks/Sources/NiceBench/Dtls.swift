// The DTLS figures (NiceWebRTC's DtlsTransport over the same NiceICE pairs): handshake time,
// throughput next to plain ICE on an identical pair, RSS per connection next to plain ICE.
// aiortc's handshake, the reference for the first, is Benchmarks/aiortc_handshake.py.
import Dispatch
import Foundation
@_spi(Benchmarks) import NiceICE
import NiceWebRTC
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func ms(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) * 1e3 + Double(c.attoseconds) / 1e15
}

/// A DTLS transport on each side of a `Pair`, negotiated as DtlsHarness does (JSEP): A (ICE
/// controlling) offers `actpass`, B answers and becomes the client, so A is the DTLS server —
/// aiortc's ORTC rule too (ICE controlling = DTLS server). The transports attach right after the
/// connections were created and get their parameters at once, so each handshake starts the moment
/// its side's ICE is connected.
final class DtlsLink: Sendable {
    let pair: Pair
    let a: DtlsTransport
    let b: DtlsTransport
    /// Each side's DTLS `connected`, `ContinuousClock.now` in its state handler (delivery queue).
    let connectedAt = Mutex<[ContinuousClock.Instant?]>([nil, nil])
    /// Each side's first ICE `connected` (or `completed`) as NiceICE's state machine produced it
    /// (`IceStateChange.producedAt`, SPI), when `connectLinks` was asked to record it.
    let iceConnectedAt = Mutex<[ContinuousClock.Instant?]>([nil, nil])

    init(pair: Pair, certificates: (Certificate, Certificate), queue: DispatchQueue, tally: Tally, handshakeTimeout: Duration) throws {
        self.pair = pair
        a = try DtlsTransport(
            iceTransport: pair.a, configuration: .init(certificate: certificates.0, handshakeTimeout: handshakeTimeout))
        b = try DtlsTransport(
            iceTransport: pair.b, configuration: .init(certificate: certificates.1, handshakeTimeout: handshakeTimeout))
        for (i, t) in [(0, a), (1, b)] {
            // Strong capture: close() drops the handlers (as in Pair).
            t.stateUpdateHandler = { [self] change in
                switch change.state {
                case .connected:
                    let now = ContinuousClock.now
                    connectedAt.withLock { $0[i] = now }
                    tally.bump { $0.connected += 1 }
                case .failed:
                    log("DTLS \(i == 0 ? "A" : "B") failed: \(change)")
                    tally.bump { $0.failed += 1 }
                default:
                    break
                }
            }
            t.start(queue: queue)
        }
        let answer = try b.setRemoteParameters(a.localParameters)
        try a.setRemoteParameters(answer)
    }

    /// The larger of the two sides' `handshakeDuration` (handshake start, i.e. that side's ICE
    /// connected with the remote parameters set, → DTLS connected), in ms.
    var handshakeMs: (max: Double, a: Double, b: Double) {
        let da = a.handshakeDuration.map(ms) ?? .nan
        let db = b.handshakeDuration.map(ms) ?? .nan
        return (max(da, db), da, db)
    }

    /// The first ICE `connected` (either side, when the state machine produced it) → the last DTLS
    /// `connected` handler, in ms: what an application waits from ICE connected to DTLS usable.
    var wallMs: Double {
        let ice = iceConnectedAt.withLock { $0.compactMap { $0 }.min() }
        let dtls = connectedAt.withLock { $0.compactMap { $0 } }
        guard let ice, dtls.count == 2, let last = dtls.max() else { return .nan }
        return ms(last - ice)
    }

    func close() {
        a.close()
        b.close()
    }
}

/// `n` pairs as `connectPairs` makes them, each with a `DtlsLink`, all ICE completed and all 2n
/// transports DTLS-connected. Returns the links and the time from the return of `connectPairs`
/// (all ICE completed) to the last DTLS `connected`, in ns.
/// With `recordIce` (one pair only), each side's ICE `connected` instant goes to `iceConnectedAt`.
func connectLinks(
    _ n: Int, context: () -> NiceContext, queues: [DispatchQueue], certificates: () -> (Certificate, Certificate),
    timeout: Double, recordIce: Bool = false
) -> (links: [DtlsLink], afterIce: UInt64) {
    let tally = Tally()
    let dtlsTally = Tally()
    var links: [DtlsLink] = []
    links.reserveCapacity(n)
    let handshakeTimeout = Duration.milliseconds(Int64(timeout * 1000))
    let record = IceRecorder()
    var onState: (@Sendable (Int, IceStateChange, ContinuousClock.Instant) -> Void)?
    if recordIce {
        onState = { i, change, _ in
            if change.state == .connected || change.state == .completed { record.first(i, change.producedAt) }
        }
    }
    _ = connectPairs(n, context: context, queues: queues, tally: tally, timeout: timeout, onState: onState, attach: { i, pair, queue in
        do {
            links.append(
                try DtlsLink(pair: pair, certificates: certificates(), queue: queue, tally: dtlsTally, handshakeTimeout: handshakeTimeout))
        } catch {
            die(4, "DtlsTransport set-up failed at pair \(i): \(error)")
        }
    })
    let t0 = nowNs()
    Watchdog.shared.arm(timeout + 5, "\(2 * n) DTLS transports to connect")
    dtlsTally.wait("all DTLS transports connected", timeout: timeout) { $0.connected >= 2 * n }
    Watchdog.shared.disarm()
    if recordIce, let l = links.first {
        let at = record.at.withLock { $0 }
        l.iceConnectedAt.withLock { $0 = at }
    }
    return (links, nowNs() - t0)
}

/// The first ICE `connected`/`completed` per side (`IceStateChange.producedAt`).
final class IceRecorder: Sendable {
    let at = Mutex<[ContinuousClock.Instant?]>([nil, nil])
    func first(_ i: Int, _ t: ContinuousClock.Instant) {
        at.withLock { if $0[i] == nil { $0[i] = t } }
    }
}

func closeLinks(_ links: [DtlsLink], timeout: Double) async {
    Watchdog.shared.arm(timeout, "close of \(links.count) DTLS pairs")
    for l in links { l.close() }
    Watchdog.shared.disarm()
    await closePairs(links.map(\.pair), timeout: timeout)
}

func makeCertificate() -> Certificate {
    do {
        return try Certificate.generate()
    } catch {
        die(4, "Certificate.generate failed: \(error)")
    }
}

// MARK: 6. DTLS handshake

/// Per run a fresh pair with fresh certificates (generated untimed); ICE as in the connect figure.
/// The figure: the larger of the two sides' `DtlsTransport.handshakeDuration`.
func benchDtlsHandshake(runs: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    var values: [Double] = []
    var walls: [Double] = []
    for r in 1...runs {
        let certificates = (makeCertificate(), makeCertificate())
        let (links, _) = connectLinks(
            1, context: { context }, queues: [queue], certificates: { certificates }, timeout: phaseTimeout, recordIce: true)
        let l = links[0]
        let h = l.handshakeMs
        let wall = l.wallMs
        log("dtls_handshake run \(r): A (server) \(fmt(h.a)) ms, B (client) \(fmt(h.b)) ms, first ICE connected → last DTLS connected \(fmt(wall)) ms, \(l.a.cipherSuite ?? "?")")
        values.append(h.max)
        walls.append(wall)
        emitRun("dtls_handshake", r, h.max, "ms")
        emitRun("dtls_handshake-wall", r, wall, "ms")
        await closeLinks(links, timeout: phaseTimeout)
    }
    emitSummary("dtls_handshake", values, "ms")
    emitSummary("dtls_handshake-wall", walls, "ms")
}

// MARK: 7. DTLS throughput vs plain ICE

/// CPU time of this process's threads (utime + stime, clock ticks → ns), by group: the NiceContext
/// threads (`contextPrefix*`), GCD's pool workers (the delivery queue), the rest.
func threadCPU(contextPrefix: String = "bench-ctx") -> (context: UInt64, dispatch: UInt64, other: UInt64) {
    let tick = UInt64(1_000_000_000) / UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
    var r: (context: UInt64, dispatch: UInt64, other: UInt64) = (0, 0, 0)
    for t in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
        guard let stat = try? String(contentsOfFile: "/proc/self/task/\(t)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { continue }
        let name = String(stat[stat.index(after: open)..<close])
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 12, let u = UInt64(f[11]), let s = UInt64(f[12]) else { continue }
        let ns = (u + s) * tick
        if name.hasPrefix(contextPrefix) { r.context += ns } else if isDispatchWorker(name) { r.dispatch += ns } else { r.other += ns }
    }
    return r
}

/// Two pairs on one context and one delivery queue, identical but for a DtlsTransport on the
/// second: `ice_throughput` sends with `IceTransport.send` and receives in the connection's
/// receiveHandler, `dtls_throughput` sends with `DtlsTransport.send` and receives in the
/// transport's receiveHandler. Both paced exactly as the `throughput` figure (window 32, see
/// `sendFromThread`), runs interleaved (odd runs plain first, even runs DTLS first) so that the
/// machine's other load hits both alike; the ratio is taken per run.
func benchDtlsThroughput(count: Int, size: Int, runs: Int) async {
    guard size <= DtlsTransport.maximumDatagramSize else { die(64, "size \(size) > DtlsTransport.maximumDatagramSize") }
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    let tally = Tally()
    let (icePairs, _, _, _) = connectPairs(1, context: { context }, queues: [queue], tally: tally, timeout: phaseTimeout)
    let certificates = (makeCertificate(), makeCertificate())
    let (links, _) = connectLinks(1, context: { context }, queues: [queue], certificates: { certificates }, timeout: phaseTimeout)
    let plain = icePairs[0]
    let dtls = links[0]
    log("dtls_throughput: \(dtls.a.cipherSuite ?? "?"), \(size) B plaintext = \(size + 37) B on the wire")
    let iceCounter = ReceiveCounter()
    let dtlsCounter = ReceiveCounter()
    plain.b.receiveHandler = { d in iceCounter.hit(d.bytes.count) }
    dtls.b.receiveHandler = { d in dtlsCounter.hit(d.bytes.count) }

    var results: [String: [ThroughputRun]] = ["ice_throughput": [], "dtls_throughput": []]
    var cpu: [String: [(send: Double, context: Double, dispatch: Double, total: Double)]] = [:]
    func one(_ bench: String, _ r: Int) {
        let counter = bench == "dtls_throughput" ? dtlsCounter : iceCounter
        let sender: @Sendable (UnsafeRawBufferPointer) throws -> Void
        if bench == "dtls_throughput" {
            let t = dtls.a
            sender = { try t.send($0) }
        } else {
            let pc = plain.a
            sender = { try pc.send($0) }
        }
        var ru0 = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &ru0)
        let c0 = threadCPU()
        let t = throughputRun(bench, run: r, count: count, size: size, window: 32, counter: counter, send: sender)
        let c1 = threadCPU()
        var ru1 = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &ru1)
        results[bench, default: []].append(t)
        emitRun(bench, r, t.rate, "dgram/s")
        emitRun(bench + "-mbps", r, t.mbps, "MB/s")
        emitRun(bench + "-loss", r, t.loss, "%")
        // Where the time goes, µs of CPU per datagram sent (the tail's idle wait costs nothing).
        func usOf(_ tv: timeval) -> Double { Double(tv.tv_sec) * 1e6 + Double(tv.tv_usec) }
        let total = (usOf(ru1.ru_utime) + usOf(ru1.ru_stime) - usOf(ru0.ru_utime) - usOf(ru0.ru_stime)) / Double(count)
        let ctx = Double(c1.context &- c0.context) / 1e3 / Double(count)
        let disp = Double(c1.dispatch &- c0.dispatch) / 1e3 / Double(count)
        let send = Double(t.senderCPUNs) / 1e3 / Double(count)
        cpu[bench, default: []].append((send, ctx, disp, total))
        log("\(bench) run \(r): \(fmt(t.rate / 1000)) k dgram/s, \(fmt(t.mbps)) MB/s; CPU µs/datagram: process \(fmt(total)), sender thread \(fmt(send)), context thread \(fmt(ctx)), GCD workers \(fmt(disp)) (ticks of \(1000 / max(1, sysconf(Int32(_SC_CLK_TCK)))) ms)")
    }
    for r in 1...runs {
        if r % 2 == 1 {
            one("ice_throughput", r)
            one("dtls_throughput", r)
        } else {
            one("dtls_throughput", r)
            one("ice_throughput", r)
        }
        let ratio = results["dtls_throughput"]![r - 1].rate / max(1e-9, results["ice_throughput"]![r - 1].rate)
        emitRun("dtls_throughput-ratio", r, ratio, "x")
    }
    for bench in ["ice_throughput", "dtls_throughput"] {
        let rs = results[bench]!
        emitSummary(bench, rs.map(\.rate), "dgram/s")
        emitSummary(bench + "-mbps", rs.map(\.mbps), "MB/s")
        emitSummary(bench + "-loss", rs.map(\.loss), "%")
        let c = cpu[bench]!
        emitSummary(bench + "-cpu-process", c.map(\.total), "us/dgram")
        emitSummary(bench + "-cpu-sender", c.map(\.send), "us/dgram")
        emitSummary(bench + "-cpu-context", c.map(\.context), "us/dgram")
        emitSummary(bench + "-cpu-dispatch", c.map(\.dispatch), "us/dgram")
    }
    let ratios = zip(results["dtls_throughput"]!, results["ice_throughput"]!).map { $0.rate / max(1e-9, $1.rate) }
    emitSummary("dtls_throughput-ratio", ratios, "x")
    let d = dtls.b.counters
    log("dtls_throughput: receiver counters \(d)")
    plain.b.receiveHandler = nil
    dtls.b.receiveHandler = nil
    await closeLinks(links, timeout: phaseTimeout)
    await closePairs(icePairs, timeout: phaseTimeout)
}

// MARK: 8. RSS per connection

/// `connections` / 2 pairs in one process on a NiceContextGroup (one context per core, as the
/// scale figure's pool), all connected (ICE completed, and with `dtls` all transports DTLS
/// connected): (VmRSS after − VmRSS before) / connections. The DTLS connections share two
/// certificates (one per side); what a certificate of its own would add is `dtls_rss-certificate`.
func benchDtlsRss(connections: Int, dtls: Bool) async {
    let n = max(1, connections / 2)
    let fds0 = fdCount()
    let need = fds0 + 4 * n + 32
    if need > fdLimit() {
        die(5, "\(n) pairs need about \(need) fds (4 per pair) but RLIMIT_NOFILE is \(fdLimit()); max pairs here is about \((fdLimit() - fds0 - 32) / 4)")
    }
    let bench = dtls ? "dtls_rss" : "ice_rss"
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let group = NiceContextGroup(count: cores, name: "bench-ctx")
    let queues = (0..<cores).map { DispatchQueue(label: "bench.delivery\($0)") }
    let timeout = phaseTimeout + 0.05 * Double(n)
    var spare: [Certificate] = []
    var certificates: (Certificate, Certificate)?
    if dtls {
        // OpenSSL's one-time set-up and two certificates before the baseline; then the cost of a
        // certificate (key, X509, SSL_CTX) from 50 more, kept alive to the end so that their
        // memory is not reused by the connections.
        certificates = (makeCertificate(), makeCertificate())
        let r0 = rssKB()
        spare = (0..<50).map { _ in makeCertificate() }
        emitSummary("dtls_rss-certificate", [Double(rssKB() - r0) / Double(spare.count)], "KB")
    }
    let rss0 = rssKB()
    let t0 = nowNs()
    var links: [DtlsLink] = []
    var pairs: [Pair] = []
    var afterIce: UInt64 = 0
    if let certificates {
        (links, afterIce) = connectLinks(n, context: group.next, queues: queues, certificates: { certificates }, timeout: timeout)
    } else {
        let tally = Tally()
        pairs = connectPairs(n, context: group.next, queues: queues, tally: tally, timeout: timeout).pairs
    }
    let elapsed = nowNs() - t0
    let rss1 = rssKB()
    let kb = Double(rss1 - rss0) / Double(2 * n)
    log("\(bench): \(2 * n) connections on \(cores) contexts, all connected \(fmt(ms(elapsed))) ms after creation (DTLS: \(fmt(ms(afterIce))) ms after the last ICE completed); fds=\(fdCount()) threads=\(threadCount()) rss before=\(rss0) KB after=\(rss1) KB → \(fmt(kb)) KB/connection")
    emitRun(bench, 1, kb, "KB")
    emitSummary(bench, [kb], "KB", extra: ",\"connections\":\(2 * n)")
    emitSummary(bench + "-time", [ms(elapsed)], "ms")
    if dtls {
        await closeLinks(links, timeout: timeout)
    } else {
        await closePairs(pairs, timeout: timeout)
    }
    _ = (group, spare)
}
