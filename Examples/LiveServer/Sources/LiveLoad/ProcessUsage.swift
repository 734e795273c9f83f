// CPU time and resident memory of a process, from /proc (Linux), for the server's CPU share over
// the measurement window.
import Foundation

/// A process's CPU time (user + system) and RSS at one moment.
struct ProcessUsage: Sendable {
    let cpuSeconds: Double
    let rssKB: Int
    let at: ContinuousClock.Instant

    /// `pid`'s usage (`self` for this process), nil when /proc does not have it.
    static func read(pid: String) -> ProcessUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var rss = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        {
            rss = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return ProcessUsage(cpuSeconds: (user + system) / max(ticks, 1), rssKB: rss, at: .now)
    }

    /// The share of one core used between `earlier` and `self`, in %.
    func cpuPercent(since earlier: ProcessUsage) -> Double {
        let wall = (at - earlier.at) / .seconds(1)
        return wall > 0 ? (cpuSeconds - earlier.cpuSeconds) / wall * 100 : 0
    }
}

/// The kernel's UDP receive-buffer overflows so far (/proc/net/snmp `Udp: RcvbufErrors`,
/// system-wide: every process's sockets), nil when unreadable. Drops there mean a receiver —
/// the server or a viewer here — did not read its socket in time.
func udpReceiveBufferErrors() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return nil }
    let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp: ") }
    guard lines.count >= 2 else { return nil }
    let names = lines[0].split(separator: " "), values = lines[1].split(separator: " ")
    guard let i = names.firstIndex(of: "RcvbufErrors"), i < values.count else { return nil }
    return Int(values[i])
}
