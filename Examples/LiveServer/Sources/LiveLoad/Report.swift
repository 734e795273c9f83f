// The summary: per-viewer figures over the window, their percentiles, the publisher's and the
// processes' figures; a human-readable block and one `summary key=value …` line for scripts.
import Foundation

/// The run's inputs to the summary.
struct Report {
    let viewers: [Viewer.Record]
    let window: Duration
    let sentVideoPackets: UInt64
    let sentAudioPackets: UInt64
    let sentFrames: Int
    let publisher: Publisher.Sent
    let server: (percent: Double, rssKB: Int)?
    let load: (percent: Double, rssKB: Int)?
    /// Kernel UDP receive-buffer overflows over the window (system-wide).
    let udpReceiveDrops: Int?

    /// A viewer's figures.
    struct Figures {
        let joined: Bool
        let ttffMs: Double?
        /// Video + audio packets lost over the window, %.
        let loss: Double
        let frameLoss: Double
        let longestGapMs: Double
        var ok: Bool { joined && ttffMs != nil && loss < 1 && longestGapMs <= 1000 }
    }

    func figures(_ r: Viewer.Record) -> Figures {
        let sent = Double(sentVideoPackets + sentAudioPackets)
        let got = Double(r.videoPackets + r.audioPackets)
        let loss = sent > 0 ? max(0, 1 - got / sent) * 100 : 100
        let frameLoss = sentFrames > 0 ? max(0, 1 - Double(r.windowFrames) / Double(sentFrames)) * 100 : 100
        return Figures(
            joined: r.failure == nil, ttffMs: r.firstFrame.map(ms), loss: loss, frameLoss: frameLoss,
            longestGapMs: ms(r.longestGap))
    }

    /// Prints the block and the summary line; returns how many viewers were fine.
    func print(perViewer: Bool) -> Int {
        let all = viewers.map(figures)
        let joined = all.filter(\.joined)
        if perViewer {
            for (i, (r, f)) in zip(viewers, all).enumerated() {
                let ttff = f.ttffMs.map { fmt($0, 0) + " ms" } ?? "-"
                let line = r.failure.map { "failed: \($0)" } ?? "first frame \(ttff), loss \(fmt(f.loss)) %, frame loss \(fmt(f.frameLoss)) %, longest gap \(fmt(f.longestGapMs, 0)) ms, incomplete frames \(r.incompleteFrames), NACKs \(r.nacksSent), PLIs \(r.plisSent)"
                Swift.print("viewer \(i): \(line)")
            }
        }
        let failures = Dictionary(grouping: viewers.compactMap(\.failure), by: { String($0.prefix(120)) })
        let ttff = joined.compactMap(\.ttffMs).sorted()
        let answer = viewers.compactMap { $0.answer.map(ms) }.sorted()
        let connected = viewers.compactMap { $0.connected.map(ms) }.sorted()
        let losses = joined.map(\.loss).sorted()
        let frameLosses = joined.map(\.frameLoss).sorted()
        let gaps = joined.map(\.longestGapMs).sorted()
        let over1 = joined.filter { $0.loss >= 1 }.count
        let freezes = joined.filter { $0.longestGapMs > 1000 }.count
        let ok = all.filter(\.ok).count
        Swift.print("viewers: \(joined.count)/\(viewers.count) joined" + (failures.isEmpty ? "" : "; failures: " + failures.map { "\($0.value.count)× \($0.key)" }.joined(separator: "; ")))
        Swift.print("time to first frame (WHEP POST → first keyframe): p50 \(fmt(pct(ttff, 50), 0)) ms, p95 \(fmt(pct(ttff, 95), 0)) ms, max \(fmt(ttff.last ?? .nan, 0)) ms (\(ttff.count) viewers got one)")
        Swift.print("POST → answer p50 \(fmt(pct(answer, 50), 0)) ms, p95 \(fmt(pct(answer, 95), 0)) ms; POST → connected p50 \(fmt(pct(connected, 50), 0)) ms, p95 \(fmt(pct(connected, 95), 0)) ms")
        Swift.print("window \(fmt(ms(window) / 1000, 1)) s: publisher sent \(sentFrames) frames, \(sentVideoPackets) video + \(sentAudioPackets) audio packets")
        Swift.print("packet loss per viewer: mean \(fmt(mean(losses))) %, p95 \(fmt(pct(losses, 95))) %, max \(fmt(losses.last ?? .nan)) %; \(over1) viewers ≥ 1 %; frame loss mean \(fmt(mean(frameLosses))) %, max \(fmt(frameLosses.last ?? .nan)) %")
        Swift.print("freezes (longest gap between frames) > 1 s: \(freezes) viewers; longest gap p50 \(fmt(pct(gaps, 50), 0)) ms, p95 \(fmt(pct(gaps, 95), 0)) ms, max \(fmt(gaps.last ?? .nan, 0)) ms")
        let nacks = viewers.reduce(0) { $0 + $1.nacksSent }, plis = viewers.reduce(0) { $0 + $1.plisSent }
        let incomplete = viewers.reduce(0) { $0 + $1.incompleteFrames }
        Swift.print("viewers sent \(nacks) NACKs, \(plis) PLIs; \(incomplete) incomplete frames")
        Swift.print("publisher: \(publisher.frames) frames, \(publisher.keyframes) keyframes, \(publisher.keyframeRequests) keyframe requests answered, \(publisher.audioPackets) audio packets, \(publisher.skippedFrames) frames skipped (stalls), \(publisher.writeErrors) write errors")
        if let server { Swift.print("server: CPU \(fmt(server.percent, 1)) % of one core over the window, RSS \(server.rssKB / 1024) MiB") }
        if let load { Swift.print("load generator: CPU \(fmt(load.percent, 1)) % of one core, RSS \(load.rssKB / 1024) MiB") }
        if let udpReceiveDrops { Swift.print("kernel UDP receive-buffer overflows over the window (system-wide): \(udpReceiveDrops)") }
        Swift.print("viewers OK (joined, a first frame, < 1 % loss, no freeze > 1 s): \(ok)/\(viewers.count)")
        var line = "summary viewers=\(viewers.count) joined=\(joined.count) ok=\(ok) ttff_p50_ms=\(fmt(pct(ttff, 50), 0)) ttff_p95_ms=\(fmt(pct(ttff, 95), 0))"
        line += " loss_mean_pct=\(fmt(mean(losses))) loss_max_pct=\(fmt(losses.last ?? .nan)) over1=\(over1) freezes=\(freezes) longest_gap_ms=\(fmt(gaps.last ?? .nan, 0))"
        line += " server_cpu_pct=\(server.map { fmt($0.percent, 1) } ?? "-") server_rss_mb=\(server.map { String($0.rssKB / 1024) } ?? "-") load_cpu_pct=\(load.map { fmt($0.percent, 1) } ?? "-") udp_rcvbuf_drops=\(udpReceiveDrops.map(String.init) ?? "-")"
        Swift.print(line)
        return ok
    }
}

func ms(_ d: Duration) -> Double { d / .milliseconds(1) }

/// Nearest-rank percentile of sorted values (NaN for none).
func pct(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

func fmt(_ v: Double, _ decimals: Int = 2) -> String { v.isNaN ? "-" : String(format: "%.\(decimals)f", v) }
