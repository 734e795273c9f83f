import Foundation
import NiceICE

#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces joined by a veth pair whose both ends drop a share of the outgoing UDP
/// packets (netem, or iptables' statistic match where the kernel lacks netem), built by the test and removed afterwards (root only):
///
///   <name>-a (10.77.<n>.1/24) ── veth, netem loss ── <name>-b (10.77.<n>.2/24)
///
/// Only addresses inside these namespaces carry traffic (the network rule).
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

    /// Why the namespace tests cannot run here, or nil.
    static var unavailableReason: String? {
        if getuid() != 0 { return "needs root (ip netns)" }
        if (try? run(["ip", "netns", "list"])) == nil { return "ip netns is not available" }
        return nil
    }

    private let vethA: String
    private let vethB: String
    private var lossRule: [String]?

    init(number: Int) throws {
        let tag = "nwd\(getpid() % 100_000)n\(number)"
        nsA = tag + "a"
        nsB = tag + "b"
        addressA = "10.77.\(number).1"
        addressB = "10.77.\(number).2"
        vethA = "v\(tag)a"
        vethB = "v\(tag)b"
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

    /// Sets the loss of incoming UDP at both ends (0 removes it): netem where the kernel has it
    /// (sch_netem), otherwise iptables' random drop on input (a drop on output would make sendmsg
    /// fail with EPERM, which a lossy link never does); this machine's kernel has no netem module.
    func setLoss(_ percent: Int) throws {
        for (ns, dev) in [(nsA, vethA), (nsB, vethB)] {
            _ = try? Self.run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"])
            _ = try? Self.run(["ip", "netns", "exec", ns, "iptables", "-F", "INPUT"])
            guard percent > 0 else { continue }
            if (try? Self.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "netem", "loss", "\(percent)%"])) == nil {
                try Self.run([
                    "ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-i", dev, "-p", "udp", "-m", "statistic",
                    "--mode", "random", "--probability", "0.\(String(format: "%02d", percent))", "-j", "DROP",
                ])
            }
        }
    }

    func remove() async {
        await contextA.shutdown()
        await contextB.shutdown()
        _ = try? Self.run(["ip", "netns", "del", nsA])
        _ = try? Self.run(["ip", "netns", "del", nsB])
    }

    /// Runs a command (bounded to 10 s); throws on failure.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        let tool = ["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"].map { $0 + arguments[0] }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else { throw Unavailable(description: "\(arguments[0]) not found") }
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            throw Unavailable(description: "\(arguments.joined(separator: " ")) timed out")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return output
    }
}
