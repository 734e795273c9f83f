#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts helper processes for the tests with `posix_spawn`, not Foundation's `Process`: under
/// AddressSanitizer `Process.run` aborts in swift-corelibs-foundation (a heap-buffer-overflow in
/// `findMaximumOpenFromProcSelfFD`). Output goes to a temporary file (no pipe whose far end a
/// concurrently spawned long-lived child could inherit and keep open), waits are bounded, and a
/// child that overstays is killed by its pid.
public enum Spawn {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var command: [String]
        public var status: Int32
        public var output: String
        public var description: String { "`\(command.joined(separator: " "))` exited \(status): \(output)" }

        public init(command: [String], status: Int32, output: String) {
            self.command = command
            self.status = status
            self.output = output
        }
    }

    /// The folders a tool name is looked up in (root's sbin folders first).
    static let searchPath = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    /// The absolute path of `tool` (returned as is when it starts with `/`).
    public static func path(of tool: String) throws(Failure) -> String {
        if tool.hasPrefix("/") { return tool }
        for dir in searchPath {
            let candidate = "\(dir)/\(tool)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw Failure(command: [tool], status: 127, output: "\(tool) is not installed")
    }

    public static func exists(_ tool: String) -> Bool { (try? path(of: tool)) != nil }

    /// Starts `arguments` (the first one looked up with ``path(of:)``) with standard input from
    /// /dev/null and standard output and error appended to `outputPath` (/dev/null when nil).
    /// Every other descriptor of the test process stays closed in the child. Returns its pid; the
    /// caller reaps it (``wait(_:timeout:)``).
    public static func start(_ arguments: [String], outputPath: String? = nil) throws(Failure) -> pid_t {
        precondition(!arguments.isEmpty)
        let executable = try path(of: arguments[0])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default signal dispositions and an empty mask in the child, whatever the test runner set.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments.dropFirst()).map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw Failure(command: arguments, status: 126, output: "posix_spawn: \(String(cString: strerror(rc)))")
        }
        return pid
    }

    /// glibc ≥ 2.34's `posix_spawn_file_actions_addclosefrom_np` (not in Swift's Glibc module
    /// view): closes every descriptor ≥ 3 in the child, so no test socket or file leaks into it.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Waits for `pid` (our child) at most `timeout`; returns its exit status (128 + signal when
    /// a signal ended it), or nil when it is still running.
    public static func wait(_ pid: pid_t, timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return decode(status) }
            if r < 0 && errno != EINTR { return -1 }  // not our child (any more)
            if ContinuousClock.now >= deadline { return nil }
            usleep(2_000)
        }
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`; reaps it.
    public static func stop(_ pid: pid_t, grace: Duration = .seconds(3)) {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        if wait(pid, timeout: grace) != nil { return }
        kill(pid, SIGKILL)
        _ = wait(pid, timeout: .seconds(5))
    }

    /// Runs `arguments`, waiting at most `timeout`; returns the exit status and the combined
    /// standard output and error. Never throws for a non-zero exit; throws when it cannot start
    /// or overstays (then it is killed).
    public static func status(_ arguments: [String], timeout: Duration = .seconds(10)) throws(Failure) -> (Int32, String) {
        var template = Array("/tmp/nice-spawn-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Failure(command: arguments, status: 126, output: "mkstemp failed") }
        close(fd)
        let outputPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(outputPath) }
        let pid = try start(arguments, outputPath: outputPath)
        guard let status = wait(pid, timeout: timeout) else {
            kill(pid, SIGKILL)
            _ = wait(pid, timeout: .seconds(5))
            throw Failure(command: arguments, status: -1, output: "timed out after \(timeout): \(readFile(outputPath))")
        }
        return (status, readFile(outputPath))
    }

    /// Runs `arguments` and returns its output; throws on a non-zero exit or a timeout.
    @discardableResult
    public static func run(_ arguments: [String], timeout: Duration = .seconds(10)) throws(Failure) -> String {
        let (status, output) = try status(arguments, timeout: timeout)
        guard status == 0 else { throw Failure(command: arguments, status: status, output: output) }
        return output
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// The whole file as UTF-8 text ("" when it cannot be read).
    public static func readFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
