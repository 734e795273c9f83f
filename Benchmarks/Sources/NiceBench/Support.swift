// Measurement plumbing shared by every bench: clock, /proc readers, JSON output (same format as
// c-reference/nice_bench.c), a watchdog that bounds every phase, and a waitable tally.
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds (the clock behind GLib's `g_get_monotonic_time`).
@inline(__always)
func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }

func log(_ message: String) {
    FileHandle.standardError.write(Data("[NiceBench] \(message)\n".utf8))
}

func die(_ code: Int32, _ message: String) -> Never {
    log("ERROR: \(message)")
    exit(code)
}

// MARK: /proc

func procStatusField(_ key: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        let value = line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        return Int(value.split(separator: " ").first ?? "") ?? -1
    }
    return -1
}

func rssKB() -> Int { procStatusField("VmRSS") }
func threadCount() -> Int { procStatusField("Threads") }

/// Names of this process's threads (`/proc/self/task/*/comm`).
func threadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.sorted().map { t in
        ((try? String(contentsOfFile: "/proc/self/task/\(t)/comm", encoding: .utf8)) ?? "?")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// GCD's pool workers (`com.apple.root.*-qos*`, cut to 15 characters by the kernel). libdispatch
/// starts and reaps them on its own schedule, so the churn figures count the other threads.
func isDispatchWorker(_ name: String) -> Bool { name.contains("qos") }

/// Threads other than GCD's pool workers.
func ownThreadCount() -> Int { threadNames().filter { !isDispatchWorker($0) }.count }
func fdCount() -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count ?? 0) - 1  // the listing's own fd
}

/// stderr: names of all threads and targets of all fds (for churn diffs), like the C program.
func logThreadsAndFds(_ when: String) {
    log("\(when): threads: \(threadNames().joined(separator: " "))")
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    let targets = fds.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.map { fd in
        "\(fd)=\((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? "?")"
    }
    log("\(when): fds: \(targets.joined(separator: " "))")
}

/// Raises the soft RLIMIT_NOFILE to the hard limit, as the C program does.
func raiseFdLimit() {
    var rl = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_cur < rl.rlim_max {
        rl.rlim_cur = rl.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) != 0 { log("WARNING: cannot raise RLIMIT_NOFILE") }
    }
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 {
        log("RLIMIT_NOFILE soft=\(rl.rlim_cur) hard=\(rl.rlim_max)")
    }
}

func fdLimit() -> Int {
    var rl = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return 1024 }
    return rl.rlim_cur == rlim_t.max ? Int.max : Int(clamping: rl.rlim_cur)
}

// MARK: JSON lines (format of c-reference/nice_bench.c, impl "swift")

/// One line on stdout, unbuffered (the JSON lines must survive an exit() from the watchdog).
func out(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fmt(_ v: Double) -> String { String(format: "%.3f", v) }

func emitRun(_ bench: String, _ run: Int, _ value: Double, _ unit: String) {
    out("{\"bench\":\"\(bench)\",\"impl\":\"swift\",\"run\":\(run),\"value\":\(fmt(value)),\"unit\":\"\(unit)\"}")
}

/// Linear interpolation between closest ranks (numpy's default), as in the C program.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard sorted.count > 1 else { return sorted.first ?? .nan }
    let pos = p * Double(sorted.count - 1)
    let lo = Int(pos)
    if lo >= sorted.count - 1 { return sorted[sorted.count - 1] }
    return sorted[lo] + (pos - Double(lo)) * (sorted[lo + 1] - sorted[lo])
}

/// The C summary line, plus `p99` (used by the event-latency figure).
func emitSummary(_ bench: String, _ values: [Double], _ unit: String, extra: String = "") {
    guard !values.isEmpty else { return }
    let s = values.sorted()
    out(
        "{\"bench\":\"\(bench)\",\"impl\":\"swift\",\"summary\":true,\"median\":\(fmt(percentile(s, 0.5))),"
            + "\"p10\":\(fmt(percentile(s, 0.1))),\"p90\":\(fmt(percentile(s, 0.9))),\"p99\":\(fmt(percentile(s, 0.99))),"
            + "\"min\":\(fmt(s[0])),\"max\":\(fmt(s[s.count - 1])),\"n\":\(s.count),\"unit\":\"\(unit)\"\(extra)}")
}

// MARK: Watchdog

/// Bounds every phase, including `await`s: `arm` sets a deadline, a plain thread checks it every
/// 50 ms and exits with status 3 (the C program's timeout status) if it passes.
final class Watchdog: Sendable {
    static let shared = Watchdog()
    private let deadline = Mutex<(at: UInt64, what: String)?>(nil)

    private init() {
        let thread = Thread { [self] in
            while true {
                usleep(50_000)
                if let d = deadline.withLock({ $0 }), nowNs() > d.at {
                    die(3, "timeout waiting for \(d.what)")
                }
            }
        }
        thread.name = "bench-watchdog"
        thread.start()
    }

    func arm(_ seconds: Double, _ what: String) {
        deadline.withLock { $0 = (nowNs() + UInt64(seconds * 1e9), what) }
    }

    func disarm() { deadline.withLock { $0 = nil } }
}

// MARK: Tally

/// Counters bumped by the handlers (on the delivery queue), awaited by the main thread.
final class Tally: Sendable {
    struct Counts: Sendable {
        var gathered = 0
        var connected = 0
        var completed = 0
        var failed = 0
        var lastCompleted: UInt64 = 0
    }

    let counts = Mutex(Counts())
    private let signal = DispatchSemaphore(value: 0)

    func bump(_ body: (inout Counts) -> Void) {
        counts.withLock { body(&$0) }
        signal.signal()
    }

    /// Waits (blocking) until `done` holds; exits 2 if a connection failed, 3 on timeout.
    func wait(_ what: String, timeout: Double, until done: (Counts) -> Bool) {
        let deadline = DispatchTime.now() + timeout
        while true {
            let c = counts.withLock { $0 }
            if c.failed > 0 { die(2, "a connection went to failed while waiting for \(what)") }
            if done(c) { return }
            if signal.wait(timeout: deadline) == .timedOut {
                let c = counts.withLock { $0 }
                if done(c) { return }
                die(3, "timeout (\(Int(timeout)) s) waiting for \(what): \(c)")
            }
        }
    }
}

// MARK: Logging

/// The handler for every logger (NiceICE's included): warnings and errors to stderr, never stdout
/// (stdout carries the JSON lines).
struct StderrLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        NiceBench.log("\(label) \(event.level): \(event.message)")
    }
}
