import Foundation
import NiceTestSupport
import Testing

@testable import NiceICE

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A real coturn on 127.0.0.1 with long-term credentials (alice:secret, realm niceice.test), its
/// config-less command line, pid file and log in a temporary directory named after the test
/// process (`niceice-coturn-<pid>-<uuid>`, so a later run can tell a dead run's coturn from a live
/// one's and sweep it). Started with posix_spawn (``Spawn``), stopped by pid in `stop()`.
final class ProbeCoturn {
    static let binary: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(dir)/turnserver"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    let port: UInt16
    let directory: URL
    private let pid: pid_t

    /// Kills the coturns of earlier test processes that died before stopping them (and removes
    /// their folders); once per test process, before the first coturn starts.
    private static let sweptLeftovers: Void = {
        Leftovers.removeFolders(pidFile: "turnserver.pid") { Leftovers.pid(in: $0, after: "niceice-coturn-") }
    }()

    /// Starts coturn on a port free for both UDP and TCP and waits until both listeners answer a
    /// STUN Binding request. Retries with another port if one was taken in between.
    init(authenticated: Bool = true, extraArguments: [String] = []) throws {
        Self.sweptLeftovers
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try Self.freePort()
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("niceice-coturn-\(getpid())-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let pid = try Spawn.start([Self.binary ?? "/usr/bin/turnserver",
                "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port=\(port)",
            ] + (authenticated ? ["--lt-cred-mech", "--user=alice:secret"] : ["--no-auth"]) + [
                "--realm=niceice.test", "--no-tls", "--no-dtls", "--allow-loopback-peers", "--no-cli",
                "--pidfile=\(directory.path)/turnserver.pid", "--log-file=\(directory.path)/turnserver.log",
                "--simple-log",
            ] + extraArguments)
            if Self.waitUntilAnswering(port: port, pid: pid) {
                self.port = port
                self.directory = directory
                self.pid = pid
                return
            }
            Spawn.stop(pid)
            lastError = CoturnError.notAnswering(port: port, log: Self.tail(directory))
            try? FileManager.default.removeItem(at: directory)
        }
        throw lastError ?? CoturnError.notAnswering(port: 0, log: "")
    }

    func stop() {
        Spawn.stop(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    var log: String { Self.tail(directory) }

    enum CoturnError: Error, CustomStringConvertible {
        case noFreePort
        case notAnswering(port: UInt16, log: String)
        var description: String {
            switch self {
            case .noFreePort: "no port free for both UDP and TCP on 127.0.0.1"
            case .notAnswering(let port, let log): "turnserver did not answer on 127.0.0.1:\(port); log:\n\(log)"
            }
        }
    }

    private static func tail(_ directory: URL) -> String {
        let text = (try? String(contentsOf: directory.appendingPathComponent("turnserver.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(60).joined(separator: "\n")
    }

    /// A port that is free on 127.0.0.1 for UDP (kernel-chosen) and for TCP (checked).
    static func freePort() throws -> UInt16 {
        for _ in 0..<20 {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer {
                close(udp)
                close(tcp)
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(udp, $0, length) == 0 && getsockname(udp, $0, &length) == 0
                }
            }
            guard bound else { continue }
            let tcpBound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, length) == 0 }
            }
            if tcpBound { return UInt16(bigEndian: address.sin_port) }
        }
        throw CoturnError.noFreePort
    }

    /// Waits (≤ 10 s) until a STUN Binding request gets a Binding success over UDP and over TCP.
    private static func waitUntilAnswering(port: UInt16, pid: pid_t) -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        var udpOK = false
        var tcpOK = false
        while ContinuousClock.now < deadline && Spawn.wait(pid, timeout: .zero) == nil {
            if !udpOK { udpOK = bindingAnswered(port: port, stream: false) }
            if udpOK && !tcpOK { tcpOK = bindingAnswered(port: port, stream: true) }
            if udpOK && tcpOK { return true }
            usleep(100_000)
        }
        return false
    }

    private static func bindingAnswered(port: UInt16, stream: Bool) -> Bool {
        let wait = ContinuousClock.now + .milliseconds(300)
        guard case .success(let socket) = LibNice.probeConnect(ip: "127.0.0.1", port: port, stream: stream, deadline: wait)
        else { return false }
        defer { LibNice.probeClose(socket) }
        let transaction = (0..<12).map { _ in UInt8.random(in: 0...255) }
        let request: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + transaction
        guard LibNice.probeSend(socket, request, deadline: wait) == nil,
            case .message(let reply) = LibNice.probeReceive(socket, deadline: wait)
        else { return false }
        return reply.count >= 20 && reply[0] == 0x01 && reply[1] == 0x01 && Array(reply[8..<20]) == transaction
    }
}

/// Holds a TURN allocation open without releasing it (what a live libnice relay candidate does),
/// built with the same LibNice STUN calls as the probe.
private func holdAllocation(port: UInt16) -> TurnProbeSocket? {
    let end = ContinuousClock.now + .seconds(2)
    guard case .success(let socket) = LibNice.probeConnect(ip: "127.0.0.1", port: port, stream: false, deadline: end)
    else { return nil }
    let client = LibNice.stunTurnClient(username: "alice", password: "secret")
    for authenticated in [false, true] {
        guard let request = LibNice.stunAllocateRequest(client, authenticated: authenticated),
            LibNice.probeSend(socket, request, deadline: end) == nil
        else { break }
        while case .message(let bytes) = LibNice.probeReceive(socket, deadline: end) {
            guard let reply = LibNice.stunDecodeTurnReply(client, bytes) else { continue }
            if case .allocated = reply { return socket }
            break
        }
    }
    LibNice.probeClose(socket)
    return nil
}

@Suite(
    "TurnProbe against a real coturn", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: ProbeCoturn.binary != nil, "turnserver (Debian package coturn) is not installed; TurnProbe tests skipped"))
struct TurnProbeTests {
    /// The probe's budget: an hour, so each request may wait `timeout / 4` (15 min) for its
    /// answer. No test checks a duration against the clock: "acts on the answer (or the refusal),
    /// waits nothing out" is enforced by the suite's `.timeLimit` (2 min), which a probe that
    /// waited out a single request's window would exceed, however loaded the machine.
    let timeout = Duration.seconds(3600)

    /// Runs the (blocking) probe on a thread of its own, so a probe waiting for its timeout does
    /// not hold one of the few threads the other, parallel suites' async tests run on.
    private func probe(
        _ port: UInt16, _ transport: IceServerURL.Transport, password: String, ip: String = "127.0.0.1",
        tls: Bool = false, timeout: Duration? = nil
    ) async -> (TurnProbeResult, Duration) {
        let timeout = timeout ?? self.timeout
        return await withCheckedContinuation { k in
            Thread {
                let clock = ContinuousClock()
                var result = TurnProbeResult.noResponse
                let elapsed = clock.measure {
                    result = TurnProbe.run(
                        ip: ip, port: port, transport: transport, tls: tls, username: "alice", credential: password,
                        timeout: timeout)
                }
                k.resume(returning: (result, elapsed))
            }.start()
        }
    }

    /// A socket bound to a kernel-chosen port on 127.0.0.1 (listening, for TCP), and that port.
    private func boundSocket(stream: Bool) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound && (!stream || listen(fd, 8) == 0))
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    @Test("right password → allocated, over UDP and TCP, without waiting out any request", arguments: [IceServerURL.Transport.udp, .tcp])
    func rightPassword(_ transport: IceServerURL.Transport) async throws {
        let server = try ProbeCoturn()
        defer { server.stop() }
        // Three answered requests (challenge, Allocate, Refresh); a missed answer would cost a
        // window (beyond the suite's time limit).
        let (result, _) = await probe(server.port, transport, password: "secret")
        #expect(result == .allocated, "log:\n\(server.log)")
    }

    @Test("wrong password → 401 Unauthorized, over UDP and TCP, without waiting out any request", arguments: [IceServerURL.Transport.udp, .tcp])
    func wrongPassword(_ transport: IceServerURL.Transport) async throws {
        let server = try ProbeCoturn()
        defer { server.stop() }
        let (result, _) = await probe(server.port, transport, password: "not-the-secret")
        #expect(result == .error(code: 401, reason: "Unauthorized"), "log:\n\(server.log)")
    }

    @Test("closed port → noResponse on the refusal, not after a timeout, over UDP and TCP", arguments: [IceServerURL.Transport.udp, .tcp])
    func closedPort(_ transport: IceServerURL.Transport) async throws {
        // A port that was just free for UDP and TCP (nothing listens; loopback refuses: a TCP RST,
        // or for UDP an ICMP port unreachable that the next receive reports).
        // Waiting for a timeout instead would take 15 min, past the suite's time limit.
        let port = try ProbeCoturn.freePort()
        let (result, _) = await probe(port, transport, password: "secret")
        #expect(result == .noResponse)
    }

    @Test("silent UDP server → noResponse once the first request's window is over, with retransmissions inside it")
    func silentServer() async throws {
        // A bound UDP socket that never answers: no ICMP, so the probe must time out by itself.
        let (fd, port) = try boundSocket(stream: false)
        defer { close(fd) }
        let timeout = Duration.seconds(8)  // a 2 s window: retransmissions at 0.5 s and 1.5 s
        let (result, elapsed) = await probe(port, .udp, password: "secret", timeout: timeout)
        #expect(result == .noResponse)
        // The unanswered Allocate is given up only once its window is over (exact: the probe
        // checks the clock before giving up), and the probe then stops instead of going on
        // to the next request or past its budget.
        // (Not going on shows in the datagrams below: a next request would carry another
        // transaction ID.)
        #expect(elapsed >= timeout / 4, "\(elapsed)")
        // Count what the probe sent: the first Allocate plus its retransmissions, all one transaction.
        var datagrams: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n > 0 else { break }
            datagrams.append(Array(buffer[0..<n]))
        }
        // At 0.5 s a retransmission is due (any wake-up before 2 s sends it); the one after 1.5 s
        // would be at 3.5 s, past the window, so never more than 3.
        #expect((2...3).contains(datagrams.count), "\(datagrams.count) datagrams")
        #expect(Set(datagrams.map { Array($0[8..<20]) }).count == 1, "retransmissions keep the transaction ID")
        #expect(datagrams.allSatisfy { $0[0] == 0x00 && $0[1] == 0x03 }, "Allocate requests")
    }

    @Test("the probe releases its allocation: a user quota of 1 admits the next probe")
    func releasesAllocation() async throws {
        let server = try ProbeCoturn(extraArguments: ["--user-quota=1", "--verbose"])
        defer { server.stop() }
        #expect(await probe(server.port, .udp, password: "secret").0 == .allocated, "log:\n\(server.log)")
        // coturn answers Refresh(lifetime 0) at once but frees the allocation (and the quota) on
        // its next timer tick, so the next allocation may see 486 for a moment. Without the
        // release the quota would stay taken for the whole 600 s lifetime.
        let second = await retryWhileQuotaTaken { await probe(server.port, .udp, password: "secret").0 }
        #expect(second == .allocated, "log:\n\(server.log)")
        // Control: an allocation held open makes the quota bite, and the probe reports that error
        // (an error response to an authenticated request, checked with MESSAGE-INTEGRITY).
        var held: TurnProbeSocket?
        _ = await retryWhileQuotaTaken {
            held = holdAllocation(port: server.port)
            return held == nil ? .error(code: 486, reason: "") : .allocated
        }
        let socket = try #require(held, "log:\n\(server.log)")
        defer { LibNice.probeClose(socket) }
        #expect(await probe(server.port, .udp, password: "secret").0 == .error(code: 486, reason: "Allocation Quota Reached"))
    }

    /// Runs `body` until it returns something other than 486, for at most 5 s.
    private func retryWhileQuotaTaken(_ body: () async -> TurnProbeResult) async -> TurnProbeResult {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let result = await body()
            guard case .error(486, _) = result, ContinuousClock.now < deadline else { return result }
            try? await Task.sleep(for: .milliseconds(200))  // only throws on cancellation; the deadline ends the loop
        }
    }

    @Test("IPv6 loopback: right password → allocated, wrong → 401", arguments: [IceServerURL.Transport.udp, .tcp])
    func ipv6(_ transport: IceServerURL.Transport) async throws {
        let server = try ProbeCoturn(extraArguments: ["--listening-ip=::1", "--relay-ip=::1"])
        defer { server.stop() }
        // The listener on ::1 shares the port; skip if this host cannot use ::1 after all.
        let (right, _) = await probe(server.port, transport, password: "secret", ip: "::1")
        try #require(right != .noResponse, "no answer on [::1]:\(server.port); log:\n\(server.log)")
        #expect(right == .allocated, "log:\n\(server.log)")
        #expect(await probe(server.port, transport, password: "wrong", ip: "::1").0 == .error(code: 401, reason: "Unauthorized"))
    }

    @Test("a server without authentication → allocated on the first request")
    func noAuthentication() async throws {
        let server = try ProbeCoturn(authenticated: false)
        defer { server.stop() }
        #expect(await probe(server.port, .udp, password: "whatever").0 == .allocated, "log:\n\(server.log)")
    }

    @Test("TLS is reported as unsupported without contacting the server")
    func tlsUnsupported() async throws {
        let (fd, port) = try boundSocket(stream: true)
        defer { close(fd) }
        let (result, _) = await probe(port, .tcp, password: "secret", tls: true)
        #expect(result == .noResponse)
        // Nothing connected to the listener (a loopback connect would be queued for accept by now)…
        var pending = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pending, 1, 0) == 0, "the probe connected to the server")
        // … and nothing was waited for (a wait would run past the suite's time limit).
        // Control: without TLS the probe does connect, and the listener shows it.
        _ = await probe(port, .tcp, password: "secret", timeout: .seconds(2))
        #expect(poll(&pending, 1, 0) == 1, "a plain TCP probe should have connected")
    }

    @Test("not a numeric address → noResponse without a lookup or a wait")
    func badAddress() async {
        // A lookup or a wait would run past the suite's time limit (the budget is an hour).
        let (result, _) = await probe(3478, .udp, password: "secret", ip: "turn.invalid")
        #expect(result == .noResponse)
    }
}

/// TURN through `IceTransport` on loopback (the namespaced NAT scenarios are in Network/).
@Suite(
    "TURN on loopback", .serialized, .timeLimit(.minutes(2)),
    .enabled(if: ProbeCoturn.binary != nil, "turnserver (Debian package coturn) is not installed; skipped"))
struct TurnLoopbackTests {
    @Test("Wrong TURN password: candidate error 401, no relay candidate, host connectivity unaffected")
    func wrongPassword() async throws {
        let server = try ProbeCoturn()
        defer { server.stop() }
        var c = Loopback.configuration(.controlling)
        c.iceServers = [IceServer(url: "turn:127.0.0.1:\(server.port)?transport=udp", username: "alice", credential: "wrong")]
        let pair = try Loopback(left: c)
        let errors = AsyncStream.makeStream(of: IceCandidateError.self)
        pair.left.pc.candidateErrorHandler = { errors.continuation.yield($0) }
        try pair.start()
        var it = errors.stream.makeAsyncIterator()
        let error = try #require(await it.next())
        #expect(error.errorCode == 401)
        #expect(error.url == "turn:127.0.0.1:\(server.port)?transport=udp")
        #expect(!error.description.contains("wrong"))
        #expect(await pair.left.waitForState(.completed))
        #expect(pair.left.localCandidates.allSatisfy { $0.type != .relay })
        let stats = await pair.left.pc.stats()
        #expect(stats.candidateErrors.map(\.errorCode) == [401])
        #expect(stats.selectedPairs.first?.local.type == .host)
        await pair.closeBoth()
    }

    @Test("Relay policy over UDP and TCP TURN: only relay candidates, and the pair connects through the relay",
          arguments: [IceServerURL.Transport.udp, .tcp])
    func relayPolicy(transport: IceServerURL.Transport) async throws {
        let server = try ProbeCoturn()
        defer { server.stop() }
        var c = Loopback.configuration(.controlling)
        c.iceServers = [IceServer(url: "turn:127.0.0.1:\(server.port)?transport=\(transport.rawValue)", username: "alice", credential: "secret")]
        c.iceTransportPolicy = .relay
        let pair = try Loopback(left: c)
        try pair.start()
        #expect(await pair.left.waitForState(.completed, timeout: .seconds(20)), "\(pair.left.timeline)\nlog:\n\(server.log)")
        #expect(!pair.left.localCandidates.isEmpty)
        #expect(pair.left.localCandidates.allSatisfy { $0.type == .relay }, "\(pair.left.localCandidates)")
        let stats = await pair.left.pc.stats()
        #expect(stats.selectedPairs.first?.local.type == .relay)
        try pair.left.pc.send([1, 2, 3])
        #expect(await pair.right.waitForDatagrams(1))
        await pair.closeBoth()
    }
}

/// The coturn suites (TurnProbe, TURN on loopback, close during allocation) skip without coturn,
/// saying so; in CI (scripts/test.sh as root sets NICE_REQUIRE_NETNS=1, and installs coturn) such
/// a skip fails the run through this test.
@Suite("coturn prerequisite")
struct CoturnPrerequisite {
    @Test("turnserver is installed (required under NICE_REQUIRE_NETNS=1)")
    func installed() {
        guard ProbeCoturn.binary == nil else { return }
        NetworkRequirement.announceSkip("coturn suites (TurnProbe, TURN on loopback, close during allocation)",
                                        reason: "turnserver (Debian package coturn) is not installed")
        if NetworkRequirement.required {
            Issue.record("NICE_REQUIRE_NETNS is set but turnserver (coturn) is not installed: the coturn suites did not run")
        }
    }
}
