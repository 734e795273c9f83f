import Dispatch
import Foundation
import Synchronization
import NiceTestSupport
import Testing

@testable import NiceICE

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// A small, real network in Linux network namespaces, built and removed by the tests (root only):
//
//   lan1 (10.1.0.2, .3) ── nat1 (10.1.0.1 │ 100.64.N.10) ──┐
//                                                          ├─ inet: bridge br0 (100.64.0.0/16, the
//   lan2 (10.2.0.2, .3) ── nat2 (10.2.0.1 │ 100.64.N.20) ──┘  "internet" segment) with coturn on
//                                                             100.64.0.1 and a public agent address
//                                                             100.64.0.2; 10/8, 172.16/12 and
//                                                             192.168/16 routed into a silent sink
//
// `Internet` (one per suite, via the `.internet` trait) holds `inet` and coturn; each test builds
// a `NetworkScene` (lan/nat pairs, N = scene number) attached to br0 and removes it when done.
// The public addresses sit on a real interface (br0), not on `lo`: libnice 0.1.21 sets
// IP_UNICAST_IF on each UDP socket to the interface holding its address, so an agent bound to an
// address on `lo` sends everything into `lo`. topology.sh builds the same network by hand.

/// Runs helper commands (ip, iptables, sysctl), bounded in time, through posix_spawn
/// (``Spawn``): Foundation's `Process` aborts under AddressSanitizer.
enum Shell {
    typealias Failure = Spawn.Failure

    /// Runs `arguments` (the first one looked up in the usual sbin/bin folders), waiting at most
    /// `timeout`; throws on a non-zero exit or a timeout. Returns the combined output.
    @discardableResult
    static func run(_ arguments: [String], timeout: Duration = .seconds(10)) throws -> String {
        try Spawn.run(arguments, timeout: timeout)
    }

    /// Runs and returns the exit status and combined output; never throws for a non-zero exit.
    static func status(_ arguments: [String], timeout: Duration = .seconds(10)) throws -> (Int32, String) {
        try Spawn.status(arguments, timeout: timeout)
    }

    static func path(of tool: String) throws -> String { try Spawn.path(of: tool) }

    static func exists(_ tool: String) -> Bool { Spawn.exists(tool) }
}

/// Whether the network tests can run here, and why not.
enum NetworkLab {
    static let prefix = "niceice"

    /// nil when namespaces, iptables and coturn are usable; otherwise the reason they are not.
    static let unavailableReason: String? = {
        if geteuid() != 0 { return "network tests need root (network namespaces, iptables)" }
        for tool in ["ip", "iptables", "turnserver"] where !Shell.exists(tool) {
            return "network tests need \(tool) (apt-get install -y iproute2 iptables coturn)"
        }
        let probe = "\(prefix)-\(getpid())-probe"
        do {
            try Shell.run(["ip", "netns", "add", probe])
            defer { _ = try? Shell.status(["ip", "netns", "del", probe]) }
            try Shell.run(["ip", "netns", "exec", probe, "iptables", "-t", "nat", "-L", "-n"])
            try Shell.run(["ip", "-n", probe, "link", "add", "name", "p0", "type", "veth", "peer", "name", "p1"])
        } catch {
            return "network namespaces are not usable here: \(error)"
        }
        return nil
    }()

    /// For `.enabled(if:)`; says loudly, once, why the tests cannot run (and under
    /// NICE_REQUIRE_NETNS=1 `NetworkPrerequisites` fails the run for it).
    static let available: Bool = {
        if let reason = unavailableReason {
            NetworkRequirement.announceSkip("NiceICE network suite (NAT, TURN, loss, link cuts in namespaces)", reason: reason)
            return false
        }
        return true
    }()

    /// Removes namespaces (and processes in them: coturn) and coturn folders left by earlier test
    /// processes that died without cleaning up: only names `niceice-<pid>-…` whose process is gone
    /// (``Leftovers``), never another live run's.
    static func removeLeftovers() {
        Leftovers.removeNamespaces { Leftovers.pid(in: $0, after: "\(prefix)-") }
        Leftovers.removeFolders(pidFile: "turnserver.pid") {
            $0.hasSuffix("-coturn") ? Leftovers.pid(in: $0, after: "\(prefix)-") : nil
        }
    }
}

/// The suite-wide part: the `inet` namespace with coturn.
final class Internet: Sendable {
    static let turnAddress = "100.64.0.1"
    static let peerAddress = "100.64.0.2"
    static let turnPort = 3478
    static let user = "alice"
    static let password = "secret"
    static let realm = "niceice.test"

    let runPrefix: String
    let inet: String
    let coturn: Coturn
    private let scenes = Atomic<Int>(0)

    init() throws {
        NetworkLab.removeLeftovers()
        runPrefix = "\(NetworkLab.prefix)-\(getpid())-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
        inet = "\(runPrefix)-inet"
        do {
            try Self.buildInet(inet)
            coturn = try Coturn(namespace: inet, runPrefix: runPrefix)
        } catch {
            Self.removeNamespaces(prefix: runPrefix)
            throw error
        }
    }

    /// Kills coturn and deletes every namespace of this run, and coturn's folder unless
    /// NICEICE_NETWORK_KEEP_LOGS is set.
    func tearDown() {
        coturn.stop()
        Self.removeNamespaces(prefix: runPrefix)
        if ProcessInfo.processInfo.environment["NICEICE_NETWORK_KEEP_LOGS"] == nil {
            try? FileManager.default.removeItem(atPath: coturn.directory)
        }
    }

    func nextSceneNumber() -> Int { scenes.wrappingAdd(1, ordering: .relaxed).newValue }

    static func removeNamespaces(prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns") else { return }
        for name in names where name.hasPrefix("\(prefix)-") {
            _ = try? Shell.status(["ip", "netns", "del", name])
        }
    }

    private static func buildInet(_ ns: String) throws {
        try Shell.run(["ip", "netns", "add", ns])
        let ip = ["ip", "-n", ns]
        try Shell.run(ip + ["link", "set", "lo", "up"])
        try Shell.run(ip + ["link", "add", "name", "br0", "type", "bridge"])
        try Shell.run(ip + ["link", "set", "br0", "up"])
        try Shell.run(ip + ["addr", "add", "\(turnAddress)/16", "dev", "br0"])
        try Shell.run(ip + ["addr", "add", "\(peerAddress)/16", "dev", "br0"])
        try Shell.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try Shell.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0"])
        try Shell.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.br0.send_redirects=0"])
        // The private ranges lead into a silent dead end: a veth pair whose far end discards the
        // frames (they are addressed to a MAC nobody has). Not `blackhole`: that route makes the
        // local sender's sendto fail with EINVAL, and coturn 4.6.1 then drops the allocation.
        try Shell.run(ip + ["link", "add", "name", "sink0", "type", "veth", "peer", "name", "sink1"])
        try Shell.run(ip + ["link", "set", "sink0", "up"])
        try Shell.run(ip + ["link", "set", "sink1", "up"])
        try Shell.run(ip + ["addr", "add", "192.0.2.1/30", "dev", "sink0"])
        try Shell.run(ip + ["neigh", "replace", "192.0.2.2", "lladdr", "02:00:00:00:00:99", "dev", "sink0", "nud", "permanent"])
        for range in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] {
            try Shell.run(ip + ["route", "add", range, "via", "192.0.2.2", "dev", "sink0"])
        }
    }
}

/// coturn in a namespace, with its own config, pid file, user database and log in a temp folder.
final class Coturn: Sendable {
    let directory: String
    let logPath: String
    let pid: Int32
    private let stopped = Atomic<Bool>(false)

    init(namespace: String, runPrefix: String) throws {
        directory = NSTemporaryDirectory() + "\(runPrefix)-coturn"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logPath = "\(directory)/turn.log"
        let config = """
            listening-ip=\(Internet.turnAddress)
            relay-ip=\(Internet.turnAddress)
            listening-port=\(Internet.turnPort)
            min-port=49152
            max-port=65535
            lt-cred-mech
            user=\(Internet.user):\(Internet.password)
            realm=\(Internet.realm)
            no-tls
            no-dtls
            no-cli
            no-stdout-log
            simple-log
            verbose
            log-file=\(logPath)
            pidfile=\(directory)/turnserver.pid
            userdb=\(directory)/turndb

            """
        try config.write(toFile: "\(directory)/turnserver.conf", atomically: true, encoding: .utf8)
        // `ip netns exec` execs turnserver in place, so this pid is coturn's own.
        pid = try Spawn.start(["ip", "netns", "exec", namespace, try Shell.path(of: "turnserver"), "-c", "\(directory)/turnserver.conf"])
        // Ready when it listens on UDP and TCP 100.64.0.1:3478 (read from its own /proc view).
        let needle = "01004064:0D96" // 100.64.0.1:3478, as /proc/net/{udp,tcp} print it
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let udp = (try? String(contentsOfFile: "/proc/\(pid)/net/udp", encoding: .utf8)) ?? ""
            let tcp = (try? String(contentsOfFile: "/proc/\(pid)/net/tcp", encoding: .utf8)) ?? ""
            if udp.contains(needle) && tcp.contains(needle) { return }
            if kill(pid, 0) != 0 { break }
            usleep(50_000)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)"
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        throw Shell.Failure(command: ["turnserver"], status: -1, output: "coturn did not start listening within 10 s; log:\n\(log.suffix(2000))")
    }

    /// SIGTERM, then SIGKILL after 3 s; reaps it (it is our child).
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(3)
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    /// The last lines of coturn's log, for failure messages.
    func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// How a NAT router maps.
enum NatKind: String, Sendable {
    /// Linux MASQUERADE keeping the source port: endpoint-independent mapping,
    /// address-and-port-dependent filtering (a "port-restricted cone").
    case endpointIndependent
    /// MASQUERADE --random-fully: a new random port for each destination (address-and-port-
    /// dependent mapping, "symmetric").
    case symmetric
}

/// One test's LANs and NAT routers, attached to the suite's `inet`.
final class NetworkScene: Sendable {
    let internet: Internet
    let number: Int
    let prefix: String
    let nats: [NatKind]
    private let removed = Atomic<Bool>(false)

    /// Namespace of LAN `i` (1 or 2).
    func lan(_ i: Int) -> String { "\(prefix)-lan\(i)" }
    func nat(_ i: Int) -> String { "\(prefix)-nat\(i)" }
    var inet: String { internet.inet }

    /// Address of agent `host` (2 or 3) in LAN `i`.
    func agentAddress(_ i: Int, host: Int = 2) -> String { "10.\(i).0.\(host)" }
    /// The public (WAN) address of NAT router `i`.
    func natPublicAddress(_ i: Int) -> String { "100.64.\(number).\(10 * i)" }
    /// The 1:1 public address of LAN `i`'s first agent, once `addOneToOneNat(_:)` ran.
    func oneToOneAddress(_ i: Int) -> String { "100.64.\(number).\(10 * i + 1)" }

    /// Builds `lan1`/`nat1` (and `lan2`/`nat2` when two kinds are given).
    init(_ internet: Internet, nats: [NatKind]) throws {
        self.internet = internet
        number = internet.nextSceneNumber()
        precondition(number < 250, "scene numbers map to 100.64.n.x")
        prefix = "\(internet.runPrefix)-s\(number)"
        self.nats = nats
        do {
            for (index, kind) in nats.enumerated() { try buildSide(index + 1, kind) }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    /// Deletes this scene's namespaces and inet's links to them. Idempotent.
    func tearDown() {
        guard !removed.exchange(true, ordering: .relaxed) else { return }
        for i in nats.indices.map({ $0 + 1 }) {
            _ = try? Shell.status(["ip", "netns", "del", lan(i)])
            _ = try? Shell.status(["ip", "netns", "del", nat(i)])
        }
    }

    private func buildSide(_ i: Int, _ kind: NatKind) throws {
        let lan = lan(i), nat = nat(i), inetLink = "s\(number)n\(i)"
        try Shell.run(["ip", "netns", "add", lan])
        try Shell.run(["ip", "netns", "add", nat])
        let l = ["ip", "-n", lan], n = ["ip", "-n", nat], t = ["ip", "-n", inet]
        try Shell.run(l + ["link", "set", "lo", "up"])
        try Shell.run(n + ["link", "set", "lo", "up"])
        try Shell.run(n + ["link", "add", "name", "lan0", "type", "veth", "peer", "name", "eth0", "netns", lan])
        try Shell.run(n + ["link", "add", "name", "wan0", "type", "veth", "peer", "name", inetLink, "netns", inet])
        try Shell.run(l + ["addr", "add", "\(agentAddress(i, host: 2))/24", "dev", "eth0"])
        try Shell.run(l + ["addr", "add", "\(agentAddress(i, host: 3))/24", "dev", "eth0"])
        try Shell.run(l + ["link", "set", "eth0", "up"])
        try Shell.run(l + ["route", "add", "default", "via", "10.\(i).0.1"])
        try Shell.run(n + ["addr", "add", "10.\(i).0.1/24", "dev", "lan0"])
        try Shell.run(n + ["addr", "add", "\(natPublicAddress(i))/16", "dev", "wan0"])
        try Shell.run(n + ["link", "set", "lan0", "up"])
        try Shell.run(n + ["link", "set", "wan0", "up"])
        try Shell.run(n + ["route", "add", "default", "via", Internet.turnAddress])
        try Shell.run(["ip", "netns", "exec", nat, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try Shell.run(t + ["link", "set", inetLink, "master", "br0"])
        try Shell.run(t + ["link", "set", inetLink, "up"])
        // Unsolicited packets to the router itself are dropped before conntrack confirms them.
        // Without this, a peer's check that arrives before our own outgoing packet creates an
        // entry whose reply tuple clashes with the mapping we then need, MASQUERADE picks another
        // port, and an endpoint-independent NAT behaves like a symmetric one.
        try iptables(nat, ["-A", "INPUT", "-i", "wan0", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP"])
        var masquerade = ["-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"]
        if kind == .symmetric { masquerade.append("--random-fully") }
        try iptables(nat, masquerade)
    }

    func iptables(_ ns: String, _ rule: [String]) throws {
        try Shell.run(["ip", "netns", "exec", ns, "iptables", "-w", "5"] + rule)
    }

    /// Static 1:1 NAT for LAN `i`'s first agent: `oneToOneAddress(i)` ⇄ `agentAddress(i)`
    /// (DNAT in, SNAT out, before the MASQUERADE rule).
    func addOneToOneNat(_ i: Int) throws {
        let pub = oneToOneAddress(i), priv = agentAddress(i)
        try Shell.run(["ip", "-n", nat(i), "addr", "add", "\(pub)/32", "dev", "wan0"])
        try iptables(nat(i), ["-t", "nat", "-A", "PREROUTING", "-i", "wan0", "-d", pub, "-j", "DNAT", "--to-destination", priv])
        try iptables(nat(i), ["-t", "nat", "-I", "POSTROUTING", "1", "-s", priv, "-o", "wan0", "-j", "SNAT", "--to-source", pub])
    }

    /// Drops every packet through NAT router `i`'s LAN-side veth, both ways.
    func cutLink(_ i: Int) throws {
        try iptables(nat(i), ["-I", "FORWARD", "1", "-i", "lan0", "-j", "DROP"])
        try iptables(nat(i), ["-I", "FORWARD", "1", "-o", "lan0", "-j", "DROP"])
        try iptables(nat(i), ["-I", "INPUT", "1", "-i", "lan0", "-j", "DROP"])
    }

    func restoreLink(_ i: Int) throws {
        try iptables(nat(i), ["-D", "FORWARD", "-i", "lan0", "-j", "DROP"])
        try iptables(nat(i), ["-D", "FORWARD", "-o", "lan0", "-j", "DROP"])
        try iptables(nat(i), ["-D", "INPUT", "-i", "lan0", "-j", "DROP"])
    }

    /// Random loss on everything NAT router `i` forwards (so each direction of LAN `i`'s traffic
    /// loses `probability` of its packets), with an iptables statistic rule (no `tc netem` here).
    func addLoss(_ i: Int, probability: Double) throws {
        try iptables(nat(i), ["-I", "FORWARD", "1", "-m", "statistic", "--mode", "random",
                              "--probability", String(format: "%.2f", probability), "-j", "DROP"])
    }

    /// NAT router `i`'s rules with counters and its conntrack table, for failure messages.
    func dump(_ i: Int) -> String {
        let rules = (try? Shell.run(["ip", "netns", "exec", nat(i), "iptables-save", "-c"])) ?? ""
        let conntrack = (try? Shell.run(["ip", "netns", "exec", nat(i), "cat", "/proc/net/nf_conntrack"])) ?? "(no /proc/net/nf_conntrack)"
        return "--- \(nat(i)) rules\n\(rules)--- \(nat(i)) conntrack\n\(conntrack)"
    }

    /// Packets and bytes the loss rule of NAT router `i` dropped, as `iptables -v` shows.
    func droppedByLoss(_ i: Int) -> String {
        let out = (try? Shell.run(["ip", "netns", "exec", nat(i), "iptables", "-w", "5", "-L", "FORWARD", "-v", "-n", "-x"])) ?? ""
        return out.split(separator: "\n").first { $0.contains("statistic") }.map { String($0) } ?? "(no loss rule)"
    }
}

/// Suite trait: builds the `inet` namespace and coturn once for the suite, removes them after it.
struct InternetScope: SuiteTrait, TestScoping {
    @TaskLocal static var current: Internet?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard NetworkLab.unavailableReason == nil else {
            try await function()
            return
        }
        let internet = try Internet()
        print("NetworkLab: inet \(internet.inet), coturn pid \(internet.coturn.pid), log \(internet.coturn.logPath)")
        do {
            try await Self.$current.withValue(internet) { try await function() }
        } catch {
            internet.tearDown()
            throw error
        }
        internet.tearDown()
    }
}

extension Trait where Self == InternetScope {
    /// The suite's `inet` namespace with coturn; tests read it with `InternetScope.current`.
    static var internet: InternetScope { InternetScope() }
}
