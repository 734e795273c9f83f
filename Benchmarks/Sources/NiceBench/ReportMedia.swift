// The media rows of `NiceBench report` (12.–14.): SRTP per packet next to a DTLS record, forwarding
// to N receivers, RSS per connection with audio and video.
import Foundation

func mediaRows(
    _ sums: [String: Summary], num: (Double, String) -> String, spread: (Summary?) -> String,
    row: (String, String?, String?, String, String, ((Double, Double) -> Bool)?) -> Void, add: ([String]) -> Void
) {
    // 12. SRTP: the reference column holds the DTLS record (same size, same run).
    for (key, label) in [("gcm", "SRTP_AEAD_AES_128_GCM"), ("cm-sha1-80", "SRTP_AES128_CM_SHA1_80")] {
        guard sums["swift|srtp_cost-\(key)-both"] != nil else { continue }
        row("12. SRTP \(label), 1,200-B RTP: protect + unprotect, thread CPU per packet; reference column: DTLS application record of 1,200 B, same run",
            "swift|srtp_cost-dtls-both", "swift|srtp_cost-\(key)-both", "ns", "", nil)
        row("12. … protect alone; reference column: DTLS record protect", "swift|srtp_cost-dtls-protect", "swift|srtp_cost-\(key)-protect", "ns", "", nil)
        row("12. … unprotect alone; reference column: DTLS record unprotect", "swift|srtp_cost-dtls-unprotect", "swift|srtp_cost-\(key)-unprotect", "ns", "", nil)
        if let busy = sums["swift|srtp_cost-\(key)-both-busy"], let alone = sums["swift|srtp_cost-\(key)-both"] {
            add(["12. … protect + unprotect with \(busy.connections.map(String.init) ?? "more") other connections' SRTP sessions alive in the process (libsrtp on NSS); reference column: alone (ns)",
                 num(alone.median, "ns"), num(busy.median, "ns"), String(format: "%.2f×", busy.median / alone.median), "—", spread(busy), ""])
        }
    }
    // 13. Forwarding.
    let ns = Set(sums.keys.compactMap { k -> Int? in
        guard k.hasPrefix("swift|forward-N"), k.hasSuffix("-loss-mean") else { return nil }
        return Int(k.dropFirst("swift|forward-N".count).dropLast("-loss-mean".count))
    }).sorted()
    for n in ns {
        guard let mean = sums["swift|forward-N\(n)-loss-mean"] else { continue }
        let per = sums["swift|forward-N\(n)-loss"]
        let over = sums["swift|forward-N\(n)-over1"].map { num($0.median, "receivers") } ?? "?"
        add([
            "13. forwarding 1.5 Mbit/s VP8-like to N=\(n) receivers: loss per receiver, mean / worst (%)", "—",
            "\(num(mean.median, "%")) / \(num(per?.max ?? .nan, "%"))", "—", "—",
            "\(over) receivers ≥ 1 %" + (sums["swift|forward-N\(n)-lag"].map { String(format: "; forwarder %.0f ms behind at the end", $0.median) } ?? ""),
            "<1 % \(mean.median < 1 ? "ok" : "MISS")",
        ])
        let parts = ["process", "write", "context"].compactMap { sums["swift|forward-N\(n)-cpu-\($0)"] }
        if parts.count == 3 {
            let share = sums["swift|forward-N\(n)-cpu-share"].map { String(format: "%.0f %% of a core", $0.median) } ?? ""
            add([
                "13. … N=\(n): CPU per forwarded packet: process (sender, forwarder and receivers) / forwarder write path / context thread (every receive path) (µs)", "—",
                parts.map { num($0.median, "us/pkt") }.joined(separator: " / "), "—", "—", share, "",
            ])
        }
    }
    if let m = sums["swift|forward-max-n"] {
        // The goal is only judged when the run tried an N that large (the quick run does not).
        let verdict = m.median >= 200 ? "ok" : (ns.last ?? 0) >= 200 ? "MISS" : "(not tried: N ≤ \(ns.last ?? 0))"
        add(["13. … largest N with < 1 % mean loss, of N = \(ns.map(String.init).joined(separator: ", ")) (receivers)", "—", num(m.median, "receivers"), "—", "—", "—", "≥200 \(verdict)"])
    }
    // 14. RSS per connection with audio and video.
    if let m = sums["swift|media_rss"] {
        let conns = m.connections.map { "\($0) connections" } ?? "all connections"
        let reference = sums["swift|dc_rss"] != nil ? "swift|dc_rss" : "swift|dtls_rss"
        row("14. RSS per PeerConnection with one audio and one video transceiver, \(conns) in one process, idle; reference column: \(reference == "swift|dc_rss" ? "data channel (11.)" : "DTLS alone (8.)")",
            reference, "swift|media_rss", "KB", "", nil)
        if let s = sums["swift|media_rss-sending"] {
            let fill = sums["swift|media_rss-fill"].map { String(format: "%.0f", $0.median) } ?? "some"
            add(["14. … after each sender sent \(fill) video packets of 1,200 B and up to 50 audio packets (the NACK send history keeps up to 512 per stream) (KB)", "—", num(s.median, "KB"), "—", "—", "—", ""])
        }
        if let t = sums["swift|media_rss-time"] {
            add(["14. … time to all connected (ms)", "—", num(t.median, "ms"), "—", "—", "—", ""])
        }
    }
}
