import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Removes what a test process that died (a sanitizer abort, a time limit, a kill) left behind:
/// network namespaces and coturn processes. Every such resource carries the pid of the test
/// process that created it (in the namespace's name, or in the name of the temporary folder that
/// holds coturn's pid file), and is removed only when that process is gone; another live run's
/// resources are never touched.
public enum Leftovers {
    /// Whether a process with this pid exists.
    public static func isAlive(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// Whether `owner` is a pid other than ours that no longer runs.
    static func isDead(_ owner: pid_t) -> Bool { owner != getpid() && !isAlive(owner) }

    /// Deletes each namespace in /var/run/netns for which `owner` returns the pid of a dead
    /// process, killing the processes still inside it first (coturn). Returns the names removed.
    @discardableResult
    public static func removeNamespaces(owner: (String) -> pid_t?) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns") else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = owner(name), isDead(pid) else { continue }
            if let pids = try? Spawn.run(["ip", "netns", "pids", name]) {
                for p in pids.split(separator: "\n").compactMap({ pid_t($0) }) where p != getpid() {
                    kill(p, SIGKILL)
                }
            }
            _ = try? Spawn.status(["ip", "netns", "del", name])
            removed.append(name)
        }
        if !removed.isEmpty { print("Leftovers: removed namespaces of dead test runs: \(removed.joined(separator: ", "))") }
        return removed
    }

    /// For each folder in the temporary directory for which `owner` returns the pid of a dead
    /// process: kills the process its `pidFile` names if that process's command line mentions the
    /// folder (a coturn started with its pid file there; so a reused pid is left alone), then
    /// removes the folder. Returns the folders removed.
    @discardableResult
    public static func removeFolders(pidFile: String, owner: (String) -> pid_t?) -> [String] {
        let tmp = temporaryDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmp) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = owner(name), isDead(pid) else { continue }
            let folder = "\(tmp)/\(name)"
            let text = Spawn.readFile("\(folder)/\(pidFile)").trimmingCharacters(in: .whitespacesAndNewlines)
            if let child = pid_t(text), child > 0 {
                let commandLine = Spawn.readFile("/proc/\(child)/cmdline").replacingOccurrences(of: "\0", with: " ")
                if commandLine.contains(folder) {
                    kill(child, SIGKILL)
                    print("Leftovers: killed pid \(child) of a dead test run (\(commandLine.prefix(80)))")
                }
            }
            try? FileManager.default.removeItem(atPath: folder)
            removed.append(name)
        }
        if !removed.isEmpty { print("Leftovers: removed folders of dead test runs: \(removed.joined(separator: ", "))") }
        return removed
    }

    /// The temporary directory, without a trailing slash.
    public static var temporaryDirectory: String {
        var tmp = NSTemporaryDirectory()
        while tmp.count > 1 && tmp.hasSuffix("/") { tmp.removeLast() }
        return tmp
    }

    /// The pid in `name` right after `prefix`, up to the next non-digit: `owner("abc-123-x", after: "abc-")` is 123.
    public static func pid(in name: String, after prefix: String) -> pid_t? {
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }
        return pid_t(digits)
    }
}

/// Whether the network suites must run: set (NICE_REQUIRE_NETNS=1) by scripts/test.sh when it runs
/// as root, as CI does. Then a suite that cannot run (no namespaces, no coturn) fails the run
/// instead of skipping.
public enum NetworkRequirement {
    public static var required: Bool {
        guard let value = ProcessInfo.processInfo.environment["NICE_REQUIRE_NETNS"] else { return false }
        return !value.isEmpty && value != "0"
    }

    /// Prints why `suite` cannot run, loudly; the caller records an issue when ``required``.
    public static func announceSkip(_ suite: String, reason: String) {
        let line = String(repeating: "!", count: 100)
        print("\(line)\n!! SKIPPED: \(suite): \(reason)\(required ? "\n!! NICE_REQUIRE_NETNS is set: this fails the run" : "")\n\(line)")
    }
}
