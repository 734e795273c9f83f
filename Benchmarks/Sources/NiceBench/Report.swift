// `NiceBench report FILE...`: reads the JSON lines of both programs (as scripts/bench.sh collects
// them; the script prefixes scale figures with `N<pairs>/`) and prints the one side-by-side table.
import Foundation

struct Summary {
    var median: Double
    var p10: Double
    var p90: Double
    var p99: Double?
    var max: Double?
    var n: Int
    var unit: String
    /// `dtls_rss` / `ice_rss`: how many connections the figure is over.
    var connections: Int?
}

func runReport(files: [String]) -> Int32 {
    var sums: [String: Summary] = [:]
    /// "impl|bench" → why scripts/bench.sh skipped it (a `{"bench":…,"impl":…,"skipped":"…"}` line).
    var skipped: [String: String] = [:]
    for file in files {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            log("report: cannot read \(file)")
            return 1
        }
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            if let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let why = obj["skipped"] as? String, let bench = obj["bench"] as? String, let impl = obj["impl"] as? String
            {
                skipped["\(impl)|\(bench)"] = why
                continue
            }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                obj["summary"] as? Bool == true, let bench = obj["bench"] as? String, let impl = obj["impl"] as? String,
                let median = (obj["median"] as? NSNumber)?.doubleValue
            else { continue }
            sums["\(impl)|\(bench)"] = Summary(
                median: median, p10: (obj["p10"] as? NSNumber)?.doubleValue ?? median,
                p90: (obj["p90"] as? NSNumber)?.doubleValue ?? median, p99: (obj["p99"] as? NSNumber)?.doubleValue,
                max: (obj["max"] as? NSNumber)?.doubleValue,
                n: (obj["n"] as? NSNumber)?.intValue ?? 1, unit: obj["unit"] as? String ?? "",
                connections: (obj["connections"] as? NSNumber)?.intValue)
        }
    }

    func num(_ v: Double, _ unit: String) -> String {
        switch unit {
        case "dgram/s": return String(format: "%.1f k/s", v / 1000)
        case "%": return String(format: "%.2f %%", v)
        case "threads", "fds": return String(format: "%+.0f", v)
        case "x": return String(format: "%.2f×", v)
        case "us/dgram", "us/pkt": return String(format: "%.2f", v)
        case "receivers": return String(format: "%.0f", v)
        default: return String(format: "%.1f", v)
        }
    }
    func spread(_ s: Summary?) -> String {
        guard let s else { return "—" }
        if s.n <= 1 { return "n=1" }
        return "\(num(s.p10, s.unit))–\(num(s.p90, s.unit)) (n=\(s.n))"
    }

    var rows: [[String]] = []
    /// A figure with a C and a Swift value. `target`: (text, ok(ratio, swift)).
    func row(
        _ figure: String, c cKey: String?, swift sKey: String?, unitLabel: String,
        target: String = "", ok: ((Double, Double) -> Bool)? = nil
    ) {
        row(figure, reference: cKey.map { "c|\($0)" }, value: sKey.map { "swift|\($0)" }, unitLabel: unitLabel, target: target, ok: ok)
    }
    /// The same with full keys ("impl|bench"): the reference column may hold another implementation
    /// (aiortc) or another Swift figure (plain ICE next to DTLS); the ratio is value / reference.
    func row(
        _ figure: String, reference cKey: String?, value sKey: String?, unitLabel: String,
        target: String = "", ok: ((Double, Double) -> Bool)? = nil
    ) {
        let c = cKey.flatMap { sums[$0] }
        let s = sKey.flatMap { sums[$0] }
        if c == nil && s == nil { return }
        var ratio = "—"
        var verdict = ""
        if let c, let s, c.median != 0 {
            let r = s.median / c.median
            ratio = String(format: "%.2f×", r)
            if let ok { verdict = ok(r, s.median) ? "ok" : "MISS" }
        } else if let s, let ok {
            verdict = ok(.nan, s.median) ? "ok" : "MISS"
        }
        let missing = cKey.flatMap { skipped[$0].map { "skipped (\($0))" } } ?? "—"
        rows.append([
            figure + " (\(unitLabel))", c.map { num($0.median, $0.unit) } ?? missing, s.map { num($0.median, $0.unit) } ?? "—",
            ratio, spread(c), spread(s), target.isEmpty ? "" : "\(target) \(verdict)",
        ])
    }

    row("1. connect: start → both completed", c: "connect", swift: "connect", unitLabel: "ms",
        target: "≤1.05×", ok: { r, _ in r <= 1.05 })
    row("1. connect: start → both connected", c: "connect-connected", swift: "connect-connected", unitLabel: "ms")
    row("2. throughput, contextReceiveHandler (context thread, borrowed bytes)", c: "throughput", swift: "throughput-context",
        unitLabel: "dgram/s", target: "≥1.0×", ok: { r, _ in r >= 1.0 })
    row("2. … loss", c: "throughput-loss", swift: "throughput-context-loss", unitLabel: "%")
    row("2. throughput, receiveHandler", c: "throughput", swift: "throughput", unitLabel: "dgram/s",
        target: "≥0.9×", ok: { r, _ in r >= 0.9 })
    row("2. … loss", c: "throughput-loss", swift: "throughput-loss", unitLabel: "%")
    row("2. throughput, receivedDatagrams() stream", c: "throughput", swift: "throughput-stream", unitLabel: "dgram/s")
    row("2. … loss", c: "throughput-loss", swift: "throughput-stream-loss", unitLabel: "%")
    row("2. throughput, handler, sender not paced", c: "throughput", swift: "throughput-freerun", unitLabel: "dgram/s")
    row("2. … loss", c: "throughput-loss", swift: "throughput-freerun-loss", unitLabel: "%")
    if let u = sums["c|throughput-udp"] {
        let libnice = sums["c|throughput"].map { String(format: "C libnice = %.0f %% of UDP", 100 * $0.median / u.median) } ?? ""
        rows.append(["2. plain UDP sockets, same pattern (ceiling) (dgram/s)", num(u.median, u.unit), "—", "—", spread(u), "—", libnice])
    }
    if let e = sums["swift|event-latency"] {
        // Swift: ContinuousClock.now on the stateUpdateHandler's first line − IceStateChange.producedAt
        // (SPI), stamped by NiceICE's state machine inside the component-state-changed handler.
        let what = "3. event latency: change produced in component-state-changed (GLib thread) → stateUpdateHandler on its queue"
        let p99 = e.p99 ?? .nan
        rows.append(["\(what), p50 (µs)", "0 (in signal)", num(e.median, "us"), "—", "—",
                     "\(num(e.p10, "us"))–\(num(e.p90, "us")) (n=\(e.n))", "≤30 \(e.median <= 30 ? "ok" : "MISS")"])
        rows.append(["\(what), p99 (µs)", "0 (in signal)", num(p99, "us"), "—", "—", "max \(num(e.max ?? .nan, "us"))", "≤300 \(p99 <= 300 ? "ok" : "MISS")"])
        for state in ["checking", "connected", "completed"] {
            if let p = sums["swift|event-latency-\(state)"] {
                rows.append(["3. … `\(state)` only, p50 / p99 (µs)", "—", "\(num(p.median, "us")) / \(num(p.p99 ?? .nan, "us"))", "—", "—", "n=\(p.n)", ""])
            }
        }
        if let p = sums["swift|event-latency-dispatch-floor"] {
            rows.append(["3. … floor: bare DispatchQueue.async, plain thread → idle queue, p50 / p99 (µs)", "—", "\(num(p.median, "us")) / \(num(p.p99 ?? .nan, "us"))", "—", "—", "n=\(p.n)", ""])
        }
    }
    let ns = Set(sums.keys.compactMap { k -> Int? in
        guard let slash = k.firstIndex(of: "/"), k.contains("|N") else { return nil }
        return Int(k[k.index(after: k.firstIndex(of: "N")!)..<slash])
    }).sorted()
    for n in ns {
        row("4. scale N=\(n), 1 context: time to all connected", c: "N\(n)/scale-time", swift: "N\(n)/scale-time",
            unitLabel: "ms", target: "≤1.5×", ok: { r, _ in r <= 1.5 })
        row("4. scale N=\(n), 1 context: RSS per pair", c: "N\(n)/scale-memory", swift: "N\(n)/scale-memory",
            unitLabel: "KB", target: "≤1.25×", ok: { r, _ in r <= 1.25 })
        row("4. scale N=\(n), pool (1 context/core): time", c: "N\(n)/scale-time", swift: "N\(n)/scale-pool-time",
            unitLabel: "ms", target: "≤1.5×", ok: { r, _ in r <= 1.5 })
        row("4. scale N=\(n), pool (1 context/core): RSS per pair", c: "N\(n)/scale-memory", swift: "N\(n)/scale-pool-memory",
            unitLabel: "KB", target: "≤1.25×", ok: { r, _ in r <= 1.25 })
        for (key, label) in [("scale", "1 context"), ("scale-pool", "pool")] {
            if let c = sums["swift|N\(n)/\(key)-create"], let g = sums["swift|N\(n)/\(key)-setup"] {
                rows.append(["4. … N=\(n), \(label), untimed set-up: \(2 * n) inits return / all gathered (ms)", "—",
                             "\(num(c.median, "ms")) / \(num(g.median, "ms"))", "—", "—", "n=1", ""])
            }
        }
    }
    row("5. churn: RSS growth (cycle 10 → end)", c: "churn-memory", swift: "churn-memory", unitLabel: "KB",
        target: "≤2048 KB", ok: { _, s in s <= 2048 })
    row("5. churn: threads left (Swift: without GCD pool workers)", c: "churn-threads", swift: "churn-threads", unitLabel: "threads",
        target: "0", ok: { _, s in s <= 0 })
    row("5. churn: fds left", c: "churn-fds", swift: "churn-fds", unitLabel: "fds", target: "0", ok: { _, s in s <= 0 })
    row("5. churn: threads left, cycle 10 → end", c: "churn-threads-steady", swift: "churn-threads-steady", unitLabel: "threads",
        target: "0", ok: { _, s in s <= 0 })
    row("5. churn: fds left, cycle 10 → end", c: "churn-fds-steady", swift: "churn-fds-steady", unitLabel: "fds",
        target: "0", ok: { _, s in s <= 0 })

    // 6.–8. DTLS (NiceWebRTC). The reference column holds aiortc ↔ aiortc for the handshake and the
    // plain ICE figure of the same run for throughput and memory, so "Swift/C" reads DTLS/plain there.
    let hsValue = sums["swift|dtls_handshake"] != nil || skipped["aiortc|aiortc_dtls_handshake"] != nil
    if hsValue {
        row("6. DTLS handshake: ICE connected → DTLS connected, larger of both sides, p50; reference column: aiortc 1.16.0 ↔ aiortc, `await dtls.start()`",
            reference: "aiortc|aiortc_dtls_handshake", value: "swift|dtls_handshake", unitLabel: "ms",
            target: "≤10 ms", ok: { _, s in s <= 10 })
        let a = sums["aiortc|aiortc_dtls_handshake"]
        if let h = sums["swift|dtls_handshake"] {
            let ratio = a.map { String(format: "%.2f×", h.p90 / $0.p90) } ?? "—"
            rows.append(["6. … p90 (ms)", a.map { num($0.p90, "ms") } ?? "—", num(h.p90, "ms"), ratio, "max \(a.map { num($0.max ?? .nan, "ms") } ?? "—")", "max \(num(h.max ?? .nan, "ms"))", ""])
        }
        row("6. … first ICE connected (as the state machine produced it) → last DTLS `connected` handler", c: nil, swift: "dtls_handshake-wall", unitLabel: "ms")
    }
    row("7. throughput 1,200 B one way, paced as 2.: plain ICE, pc.send → receiveHandler", reference: nil,
        value: "swift|ice_throughput", unitLabel: "dgram/s")
    row("7. … DTLS, dtls.send → receiveHandler; reference column: plain ICE (row above), same run",
        reference: "swift|ice_throughput", value: "swift|dtls_throughput", unitLabel: "dgram/s",
        target: "≥0.8×", ok: { r, _ in r >= 0.8 })
    row("7. … received payload, DTLS; reference column: plain ICE", reference: "swift|ice_throughput-mbps",
        value: "swift|dtls_throughput-mbps", unitLabel: "MB/s")
    row("7. … loss, DTLS; reference column: plain ICE", reference: "swift|ice_throughput-loss",
        value: "swift|dtls_throughput-loss", unitLabel: "%")
    row("7. … DTLS/plain, per run (runs interleaved)", reference: nil, value: "swift|dtls_throughput-ratio",
        unitLabel: "×", target: "≥0.8", ok: { _, s in s >= 0.8 })
    let cpuParts = ["process", "sender", "context", "dispatch"]
    let cpuIce = cpuParts.compactMap { sums["swift|ice_throughput-cpu-\($0)"] }
    let cpuDtls = cpuParts.compactMap { sums["swift|dtls_throughput-cpu-\($0)"] }
    if cpuIce.count == 4, cpuDtls.count == 4 {
        let show = { (x: [Summary]) in x.map { num($0.median, "us/dgram") }.joined(separator: " / ") }
        let extra = zip(cpuDtls, cpuIce).map { String(format: "%+.2f", $0.median - $1.median) }.joined(separator: " / ")
        rows.append(["7. … CPU per datagram: process / sender thread / context thread / GCD workers; reference column: plain ICE (µs)",
                     show(cpuIce), show(cpuDtls), "—", "—", "DTLS adds \(extra)", ""])
    }
    if let d = sums["swift|dtls_rss"] {
        let conns = d.connections.map { "\($0) connections (\($0 / 2) pairs)" } ?? "all connections"
        row("8. RSS per connection, \(conns) connected in one process, pool; reference column: plain ICE",
            reference: "swift|ice_rss", value: "swift|dtls_rss", unitLabel: "KB")
        if let i = sums["swift|ice_rss"] {
            rows.append(["8. … DTLS adds per connection (KB)", "—", String(format: "%+.1f", d.median - i.median), "—", "—", "—", ""])
        }
        if let c = sums["swift|dtls_rss-certificate"] {
            rows.append(["8. … a Certificate of its own (the figure above shares one per side) (KB)", "—", num(c.median, "KB"), "—", "—", "—", ""])
        }
        row("8. … time to all connected (creation → all ICE completed and DTLS connected); reference column: plain ICE",
            reference: "swift|ice_rss-time", value: "swift|dtls_rss-time", unitLabel: "ms")
    }

    // 9.–11. Data channels (SctpTransport): the reference column holds aiortc 1.16.0 ↔ aiortc
    // (Interop/aiortc_dc_bench.py, same machine, same run of the script), and raw ICE for the ceiling.
    row("9. data channel: first ICE connected → channel open on both sides; reference column: aiortc, ICE completed → offerer's channel open",
        reference: "aiortc|dc_open", value: "swift|dc_open", unitLabel: "ms")
    row("9. … last DTLS connected → channel open on both sides (SCTP handshake + DCEP OPEN)", reference: nil,
        value: "swift|dc_open-after-dtls", unitLabel: "ms")
    for size in [1024, 65_536] {
        row("10. one reliable ordered channel, \(size / 1024) KiB messages, write → messageHandler; reference column: aiortc ↔ aiortc",
            reference: "aiortc|dc_throughput-\(size)", value: "swift|dc_throughput-\(size)", unitLabel: "msg/s",
            target: "≥10×", ok: { r, _ in r >= 10 })
        row("10. … \(size / 1024) KiB, payload bytes; reference column: aiortc ↔ aiortc",
            reference: "aiortc|dc_throughput-\(size)-mbps", value: "swift|dc_throughput-\(size)-mbps", unitLabel: "MB/s",
            target: "≥10×", ok: { r, _ in r >= 10 })
        row("10. … \(size / 1024) KiB, payload bytes; reference column: raw ICE 1,200-B datagrams, same process and run (the ceiling)",
            reference: "swift|dc_ice_ceiling-mbps", value: "swift|dc_throughput-\(size)-mbps", unitLabel: "MB/s",
            target: "≥0.3×", ok: { r, _ in r >= 0.3 })
    }
    if let d = sums["swift|dc_rss"] {
        let conns = d.connections.map { "\($0) connections" } ?? "all connections"
        row("11. RSS per connection with one open channel, \(conns) in one process; reference column: DTLS alone (8.)",
            reference: "swift|dtls_rss", value: "swift|dc_rss", unitLabel: "KB", target: "≤1,024 KB", ok: { _, s in s <= 1024 })
    }

    // 12. Through a delaying relay (DelayRelay): Pion's published figures (pion/sctp#218, no loss)
    // are constants, not measured here, so they go in the target column.
    let pion = [20: 200.0, 50: 85.0, 100: 45.0]
    for loss in ["0", "1"] {
        for rtt in [2, 5, 10, 20, 50, 100] {
            guard sums["swift|dc_rtt-\(rtt)ms-\(loss)pct"] != nil else { continue }
            let goal = loss == "0" ? pion[rtt] : nil
            row("12. one reliable ordered channel, 64 KiB messages, \(rtt) ms RTT, \(loss) % loss (userspace delaying relay)",
                reference: nil, value: "swift|dc_rtt-\(rtt)ms-\(loss)pct", unitLabel: "Mbit/s",
                target: goal.map { "≥ Pion \(Int($0))" } ?? "", ok: { _, s in s >= (goal ?? 0) })
        }
    }

    mediaRows(
        sums, num: num, spread: spread,
        row: { row($0, reference: $1, value: $2, unitLabel: $3, target: $4, ok: $5) }, add: { rows.append($0) })

    let header = ["figure", "C median", "Swift median", "Swift/C", "C spread p10–p90", "Swift spread p10–p90", "target"]
    print("| " + header.joined(separator: " | ") + " |")
    print("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
    for r in rows { print("| " + r.joined(separator: " | ") + " |") }
    return 0
}
