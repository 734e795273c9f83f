import Foundation
import NiceICE
import NiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces joined by a veth pair whose both ends drop a share of the incoming UDP
/// packets with an iptables `statistic` rule (no `tc netem`: these machines' kernels have no
/// sch_netem), built by the test and removed afterwards (root only):
///
///   nwd<pid>n<n>a (10.77.<n>.1/24) ── veth, iptables random drop ── nwd<pid>n<n>b (10.77.<n>.2/24)
///
/// `<pid>` is the test process's: a later run deletes the namespaces of a run that died (a
/// sanitizer abort, a time limit) and leaves those of a live one alone. Helper commands run
/// through posix_spawn (``Spawn``; Foundation's `Process` aborts under AddressSanitizer). Only
/// addresses inside these namespaces carry traffic (the network rule).
final class LossyLink: @unchecked Sendable {
    // @unchecked Sendable: immutable after init.
    let nsA: String
    let nsB: String
    let addressA: String
    let addressB: String
    let contextA: NiceContext
    let contextB: NiceContext

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Why the namespace tests cannot run here, or nil (checked once per process).
    static let unavailableReason: String? = {
        if getuid() != 0 { return "needs root (ip netns, iptables)" }
        for tool in ["ip", "iptables"] where !Spawn.exists(tool) {
            return "needs \(tool) (apt-get install -y iproute2 iptables)"
        }
        let probe = "nwd\(getpid())probe"
        do {
            try run(["ip", "netns", "add", probe])
            defer { _ = try? run(["ip", "netns", "del", probe]) }
            try run(["ip", "netns", "exec", probe, "iptables", "-L", "INPUT", "-n"])
        } catch {
            return "network namespaces are not usable here: \(error)"
        }
        return nil
    }()

    /// For `.enabled(if:)`: sweeps a dead run's namespaces once, and says loudly why the suites
    /// cannot run when they cannot (the prerequisites test fails the run then under
    /// NICE_REQUIRE_NETNS=1).
    static let available: Bool = {
        guard let reason = unavailableReason else {
            sweptLeftovers
            return true
        }
        NetworkRequirement.announceSkip("NiceWebRTC namespace suites (DTLS and data channels over a lossy link)", reason: reason)
        return false
    }()

    /// Deletes the `nwd<pid>…` namespaces of test processes that are gone; once per process.
    static let sweptLeftovers: Void = {
        Leftovers.removeNamespaces { Leftovers.pid(in: $0, after: "nwd") }
    }()

    private let vethA: String
    private let vethB: String
    private var lossRule: [String]?

    init(number: Int) throws {
        Self.sweptLeftovers
        let tag = "nwd\(getpid())n\(number)"
        nsA = tag + "a"
        nsB = tag + "b"
        addressA = "10.77.\(number).1"
        addressB = "10.77.\(number).2"
        // Created inside the two namespaces, so short fixed names cannot clash with another run's.
        vethA = "vlossy\(number)a"
        vethB = "vlossy\(number)b"
        do {
            try Self.run(["ip", "netns", "add", nsA])
            try Self.run(["ip", "netns", "add", nsB])
            try Self.run(["ip", "link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB, "netns", nsB])
            for (ns, dev, address) in [(nsA, vethA, addressA), (nsB, vethB, addressB)] {
                try Self.run(["ip", "-n", ns, "link", "set", "lo", "up"])
                try Self.run(["ip", "-n", ns, "addr", "add", address + "/24", "dev", dev])
                try Self.run(["ip", "-n", ns, "link", "set", dev, "up"])
            }
            contextA = try NiceContext(name: "dtls-lossy-a", networkNamespace: nsA)
            contextB = try NiceContext(name: "dtls-lossy-b", networkNamespace: nsB)
        } catch {
            _ = try? Self.run(["ip", "netns", "del", nsA])
            _ = try? Self.run(["ip", "netns", "del", nsB])
            throw error
        }
    }

    /// Sets the loss of incoming UDP at both ends (0 removes it) with iptables' random drop on
    /// input (a drop on output would make sendmsg fail with EPERM, which a lossy link never does).
    /// Not `tc netem`: these machines' kernels have no sch_netem module.
    func setLoss(_ percent: Int) throws {
        for (ns, dev) in [(nsA, vethA), (nsB, vethB)] {
            try Self.run(["ip", "netns", "exec", ns, "iptables", "-w", "5", "-F", "INPUT"])
            guard percent > 0 else { continue }
            try Self.run([
                "ip", "netns", "exec", ns, "iptables", "-w", "5", "-A", "INPUT", "-i", dev, "-p", "udp", "-m", "statistic",
                "--mode", "random", "--probability", "0.\(String(format: "%02d", percent))", "-j", "DROP",
            ])
        }
    }

    /// Shuts both contexts down and deletes both namespaces, retrying a delete that failed (a
    /// concurrent `ip netns add`/`del` of another suite can make one fail); says so if one stays.
    func remove() async {
        await contextA.shutdown()
        await contextB.shutdown()
        for ns in [nsA, nsB] {
            var last = ""
            for _ in 0..<5 {
                do {
                    try Self.run(["ip", "netns", "del", ns])
                } catch {
                    last = "\(error)"
                }
                if access("/var/run/netns/\(ns)", F_OK) != 0 { break }
                usleep(100_000)
            }
            if access("/var/run/netns/\(ns)", F_OK) == 0 { print("LossyLink: namespace \(ns) not removed: \(last)") }
        }
    }

    /// Runs a command through posix_spawn (bounded to 10 s); throws on failure.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        try Spawn.run(arguments, timeout: .seconds(10))
    }
}
