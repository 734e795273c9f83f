// The data-channel figures (NiceWebRTC's SctpTransport + DataChannel over DtlsLink's pairs):
// ICE connected → channel open, messages/s and MB/s on one reliable ordered channel next to raw
// ICE datagrams on an identical pair in the same process (the ceiling), RSS per connection with
// one open channel. aiortc ↔ aiortc, the reference, is Interop/aiortc_dc_bench.py.
import Dispatch
import Foundation
@_spi(Benchmarks) import NiceICE
import NiceWebRTC
import Synchronization

/// An SCTP association on a DtlsLink, with one channel A creates right away (before anything is
/// connected, as an offerer does) and the instants it opened on each side.
final class DcLink: Sendable {
    let link: DtlsLink
    let a: SctpTransport
    let b: SctpTransport
    let channel: DataChannel
    let incoming = Mutex<DataChannel?>(nil)
    /// A's channel `open` (its handler) and B's `ondatachannel` (the channel arrives open).
    let openedAt = Mutex<[ContinuousClock.Instant?]>([nil, nil])

    init(link: DtlsLink, queue: DispatchQueue, tally: Tally) throws {
        self.link = link
        a = try SctpTransport(dtlsTransport: link.a, configuration: .init(queue: queue))
        b = try SctpTransport(dtlsTransport: link.b, configuration: .init(queue: queue))
        try a.setRemoteParameters(b.localParameters)
        try b.setRemoteParameters(a.localParameters)
        channel = try a.createDataChannel(label: "bench")
        channel.stateHandler = { [self] s in
            guard s == .open else { return }
            let now = ContinuousClock.now
            openedAt.withLock { $0[0] = now }
            tally.bump { $0.connected += 1 }
        }
        b.dataChannelHandler = { [self] c in
            let now = ContinuousClock.now
            openedAt.withLock { $0[1] = now }
            incoming.withLock { $0 = c }
            tally.bump { $0.connected += 1 }
        }
    }

    func close() {
        a.close()
        b.close()
    }
}

/// `n` DcLinks, ICE completed, DTLS connected, both ends of every channel open.
func connectDcLinks(
    _ n: Int, context: () -> NiceContext, contextB: (() -> NiceContext)? = nil, queues: [DispatchQueue], timeout: Double, recordIce: Bool = false,
    rewrite: ((IceCandidate, Int) -> IceCandidate?)? = nil
) -> [DcLink] {
    let tally = Tally()
    let dtlsTally = Tally()
    let dcTally = Tally()
    var links: [DcLink] = []
    links.reserveCapacity(n)
    let certificates = (makeCertificate(), makeCertificate())
    let record = IceRecorder()
    var onState: (@Sendable (Int, IceStateChange, ContinuousClock.Instant) -> Void)?
    if recordIce {
        onState = { i, change, _ in
            if change.state == .connected || change.state == .completed { record.first(i, change.producedAt) }
        }
    }
    _ = connectPairs(n, context: context, contextB: contextB, queues: queues, tally: tally, timeout: timeout, onState: onState, rewrite: rewrite, attach: { i, pair, queue in
        do {
            let link = try DtlsLink(pair: pair, certificates: certificates, queue: queue, tally: dtlsTally, handshakeTimeout: .seconds(30))
            links.append(try DcLink(link: link, queue: queue, tally: dcTally))
        } catch {
            die(4, "data-channel set-up failed at pair \(i): \(error)")
        }
    })
    Watchdog.shared.arm(timeout + 5, "\(n) data channels to open")
    dcTally.wait("all data channels open", timeout: timeout) { $0.connected >= 2 * n }
    Watchdog.shared.disarm()
    if recordIce, let l = links.first {
        let at = record.at.withLock { $0 }
        l.link.iceConnectedAt.withLock { $0 = at }
    }
    return links
}

func closeDcLinks(_ links: [DcLink], timeout: Double) async {
    for l in links { l.close() }
    await closePairs(links.map(\.link.pair), timeout: timeout)
}

// MARK: 9. ICE connected → channel open

/// Per run a fresh pair: first ICE connected (as the state machine produced it) → the channel
/// open on each side; and the last DTLS connected → channel open on B (SCTP's handshake plus the
/// DCEP OPEN: the part above DTLS).
func benchDcOpen(runs: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let queue = DispatchQueue(label: "bench.delivery")
    var fromIce: [Double] = []
    var fromDtls: [Double] = []
    for r in 1...runs {
        let links = connectDcLinks(1, context: { context }, queues: [queue], timeout: phaseTimeout, recordIce: true)
        let l = links[0]
        let ice = l.link.iceConnectedAt.withLock { $0.compactMap { $0 }.min() }
        let dtls = l.link.connectedAt.withLock { $0.compactMap { $0 }.max() }
        let opened = l.openedAt.withLock { $0.compactMap { $0 } }
        if let ice, let dtls, opened.count == 2, let last = opened.max() {
            let a = ms(last - ice)
            let b = ms(last - dtls)
            fromIce.append(a)
            fromDtls.append(b)
            emitRun("dc_open", r, a, "ms")
            emitRun("dc_open-after-dtls", r, b, "ms")
            log("dc_open run \(r): first ICE connected → channel open on both sides \(fmt(a)) ms; last DTLS connected → open \(fmt(b)) ms")
        }
        await closeDcLinks(links, timeout: phaseTimeout)
    }
    emitSummary("dc_open", fromIce, "ms")
    emitSummary("dc_open-after-dtls", fromDtls, "ms")
}

// MARK: 10. Throughput on one reliable ordered channel, next to raw ICE

/// Receives and counts on B's channel (its handler, on the delivery queue).
final class MessageCounter: Sendable {
    struct State {
        var count = 0
        var bytes = 0
        var last: ContinuousClock.Instant?
    }
    let state = Mutex(State())
    func hit(_ n: Int) {
        let now = ContinuousClock.now
        state.withLock {
            $0.count += 1
            $0.bytes += n
            $0.last = now
        }
    }
    func reset() { state.withLock { $0 = State() } }
}

/// For each size: `count` messages A → B with `write` (back-pressure: it waits while the channel's
/// queue is full) from one task; the figure runs from the first write to the last message in B's
/// handler. The ceiling, in the same process and run interleaved: raw ICE datagrams of 1,200 B on
/// an identical plain pair (the `throughput` figure's sender). A and B run on contexts (threads)
/// of their own, as two processes would: SCTP's data and SACKs both cross each side's thread.
func benchDcThroughput(count: Int, sizes: [Int], runs: Int) async {
    let context = NiceContext(name: "bench-ctx")
    let contextB = NiceContext(name: "bench-ctxB")
    let queue = DispatchQueue(label: "bench.delivery")
    let tally = Tally()
    let (icePairs, _, _, _) = connectPairs(1, context: { context }, contextB: { contextB }, queues: [queue], tally: tally, timeout: phaseTimeout)
    let plain = icePairs[0]
    let iceCounter = ReceiveCounter()
    plain.b.receiveHandler = { d in iceCounter.hit(d.bytes.count) }
    let links = connectDcLinks(1, context: { context }, contextB: { contextB }, queues: [queue], timeout: phaseTimeout)
    let l = links[0]
    guard let receiver = l.incoming.withLock({ $0 }) else { die(4, "no incoming channel") }
    let counter = MessageCounter()
    receiver.messageHandler = { m in counter.hit(m.count) }
    var ceiling: [Double] = []
    var rates: [Int: [Double]] = [:]
    var mbps: [Int: [Double]] = [:]
    for r in 1...runs {
        let pc = plain.a
        let t = throughputRun("dc_ice_ceiling", run: r, count: max(count, 20_000), size: 1200, window: 32, counter: iceCounter) { try pc.send($0) }
        ceiling.append(t.mbps)
        emitRun("dc_ice_ceiling-mbps", r, t.mbps, "MB/s")
        for size in sizes {
            counter.reset()
            let n = size >= 65_536 ? max(1, count / 16) : count
            let message = DataChannelMessage.binary([UInt8](repeating: 0x5A, count: size))
            let channel = l.channel
            Watchdog.shared.arm(200, "dc_throughput \(size) B run \(r)")
            let start = ContinuousClock.now
            for _ in 0..<n {
                do {
                    try await channel.write(message)
                } catch {
                    die(4, "write failed: \(error)")
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while counter.state.withLock({ $0.count }) < n && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
            }
            Watchdog.shared.disarm()
            let s = counter.state.withLock { $0 }
            guard s.count == n, let last = s.last else { die(4, "dc_throughput \(size) B: \(s.count) of \(n) arrived") }
            let seconds = ms(last - start) / 1000
            let rate = Double(n) / seconds
            let mb = Double(s.bytes) / seconds / 1e6
            rates[size, default: []].append(rate)
            mbps[size, default: []].append(mb)
            emitRun("dc_throughput-\(size)", r, rate, "msg/s")
            emitRun("dc_throughput-\(size)-mbps", r, mb, "MB/s")
            log("dc_throughput run \(r): \(size) B: \(fmt(rate)) msg/s, \(fmt(mb)) MB/s (raw ICE ceiling this run \(fmt(t.mbps)) MB/s)")
        }
    }
    emitSummary("dc_ice_ceiling-mbps", ceiling, "MB/s")
    for size in sizes {
        emitSummary("dc_throughput-\(size)", rates[size] ?? [], "msg/s")
        emitSummary("dc_throughput-\(size)-mbps", mbps[size] ?? [], "MB/s")
    }
    log("dc_throughput: counters A \(l.a.counters), B \(l.b.counters)")
    plain.b.receiveHandler = nil
    receiver.messageHandler = nil
    await closeDcLinks(links, timeout: phaseTimeout)
    await closePairs(icePairs, timeout: phaseTimeout)
}

// MARK: 11. RSS per connection with one open channel

/// `connections` / 2 pairs on a NiceContextGroup, each with DTLS, SCTP and one open channel:
/// (VmRSS after − VmRSS before) / connections (two shared certificates, as `dtls_rss`).
func benchDcRss(connections: Int) async {
    let n = max(1, connections / 2)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let group = NiceContextGroup(count: cores, name: "bench-ctx")
    let queues = (0..<cores).map { DispatchQueue(label: "bench.delivery\($0)") }
    let timeout = phaseTimeout + 0.05 * Double(n)
    // usrsctp's one-time set-up (its threads, its tables) before the baseline: one link, kept.
    let warm = connectDcLinks(1, context: group.next, queues: queues, timeout: timeout)
    let rss0 = rssKB()
    let t0 = nowNs()
    let links = connectDcLinks(n, context: group.next, queues: queues, timeout: timeout)
    let elapsed = nowNs() - t0
    let rss1 = rssKB()
    let kb = Double(rss1 - rss0) / Double(2 * n)
    log("dc_rss: \(2 * n) connections with an open channel each, all open \(fmt(ms(elapsed))) ms after creation; threads=\(threadCount()) rss before=\(rss0) KB after=\(rss1) KB → \(fmt(kb)) KB/connection")
    emitRun("dc_rss", 1, kb, "KB")
    emitSummary("dc_rss", [kb], "KB", extra: ",\"connections\":\(2 * n)")
    await closeDcLinks(links + warm, timeout: timeout)
}

// MARK: 12. Throughput at a real round-trip time

/// For each RTT and loss: a fresh data-channel link whose ICE path runs through a `DelayRelay`
/// (each datagram held RTT/2, a share dropped), A and B on contexts of their own; one reliable
/// ordered channel, 64 KiB messages written back to back (`write` waits for room) from one task.
/// The figure: payload received by B over `seconds`, after a 2-s warm-up (slow start), in Mbit/s
/// (10^6 bit/s), the unit of pion/sctp#218's published curve.
func benchDcRtt(seconds: Int, rtts: [Int], losses: [Double]) async {
    let context = NiceContext(name: "bench-ctx")
    let contextB = NiceContext(name: "bench-ctxB")
    let queue = DispatchQueue(label: "bench.delivery")
    let size = 65_536
    for loss in losses {
        for rtt in rtts {
            let relay = DelayRelay(rtt: .milliseconds(rtt), lossPercent: loss)
            let links = connectDcLinks(1, context: { context }, contextB: { contextB }, queues: [queue], timeout: phaseTimeout, rewrite: relay.rewrite)
            let l = links[0]
            guard let receiver = l.incoming.withLock({ $0 }) else { die(4, "no incoming channel") }
            let counter = MessageCounter()
            receiver.messageHandler = { m in counter.hit(m.count) }
            let stop = Atomic<Bool>(false)
            let channel = l.channel
            let message = DataChannelMessage.binary([UInt8](repeating: 0x5A, count: size))
            Watchdog.shared.arm(Double(seconds) + 60, "dc_rtt \(rtt) ms, \(loss) % loss")
            let writer = Task.detached {
                while !stop.load(ordering: .relaxed) {
                    do { try await channel.write(message) } catch { return }
                }
            }
            try? await Task.sleep(for: .seconds(2))
            let b0 = counter.state.withLock { $0.bytes }
            let t0 = ContinuousClock.now
            // Once a second, the sender's path (congestion and receiver windows) for the log.
            var samples: [String] = []
            for _ in 0..<seconds {
                try? await Task.sleep(for: .seconds(1))
                if let p = l.a.pathStatus {
                    samples.append("cwnd \(p.congestionWindow / 1024) KiB rwnd \(p.receiverWindow / 1024) KiB srtt \(p.smoothedRoundTripTime) unack \(p.unacknowledgedChunks)")
                }
            }
            let b1 = counter.state.withLock { $0.bytes }
            var udpDrops: [String] = []
            let table = (try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8)) ?? ""
            for line in table.split(separator: "\n").dropFirst() {
                let f: [Substring] = line.split(separator: " ")
                guard f.count > 12, let drops = f.last, drops != "0" else { continue }
                let local: [Substring] = f[1].split(separator: ":")
                let port = local.count == 2 ? UInt16(local[1], radix: 16) ?? 0 : 0
                udpDrops.append("port \(port) drops \(drops)")
            }
            log("udp drops: \(udpDrops) relay ports A-facing \(relay.portFacingA) B-facing \(relay.portFacingB)")
            let elapsed = ms(ContinuousClock.now - t0) / 1000
            stop.store(true, ordering: .relaxed)
            let mbit = Double(b1 - b0) * 8 / elapsed / 1e6
            let tag = "dc_rtt-\(rtt)ms-\(loss == 0 ? "0" : String(format: "%g", loss))pct"
            emitRun(tag, 1, mbit, "Mbit/s")
            emitSummary(tag, [mbit], "Mbit/s")
            log("dc_rtt \(rtt) ms RTT, \(loss) % loss: \(fmt(mbit)) Mbit/s over \(fmt(elapsed)) s; relay forwarded \(relay.forwarded.load(ordering: .relaxed)), dropped \(relay.dropped.load(ordering: .relaxed)); sender path per second: \(samples.joined(separator: "; ")); ICE A \(l.link.pair.a.counters) B \(l.link.pair.b.counters); DTLS A \(l.link.a.counters) B \(l.link.b.counters)")
            receiver.messageHandler = nil
            await closeDcLinks(links, timeout: phaseTimeout)
            await writer.value
            Watchdog.shared.disarm()
            relay.stop()
        }
    }
}
