import Foundation
import Testing

@testable import NiceICE

/// Repro aid (not part of the issue-4 list): many short-lived NiceContexts, each with a connected
/// IceTransport pair that is closed and released. Run with NICEICE_CHURN=<iterations>, and
/// NICEICE_CHURN_NETNS=1 to put the contexts in a network namespace.
@Suite("Network: NiceContext churn (repro aid, NICEICE_CHURN=N)", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["NICEICE_CHURN"] != nil))
struct ContextChurnRepro {
    @Test("connect, close and release a pair with its own contexts, N times", .timeLimit(.minutes(30)))
    func churn() async throws {
        let n = Int(ProcessInfo.processInfo.environment["NICEICE_CHURN"] ?? "") ?? 20
        let useNetns = ProcessInfo.processInfo.environment["NICEICE_CHURN_NETNS"] != nil
        var namespace: String?
        let address = "127.0.0.1"
        if useNetns {
            namespace = "\(NetworkLab.prefix)-\(getpid())-churn"
            try Shell.run(["ip", "netns", "add", namespace!])
            try Shell.run(["ip", "-n", namespace!, "link", "set", "lo", "up"])
        }
        defer { if let namespace { _ = try? Shell.status(["ip", "netns", "del", namespace]) } }
        for i in 1...n {
            let pair = try NetPair(
                "churn \(i)/\(n)",
                a: ("a", namespace, .net(.controlling, bind: address)),
                b: ("b", namespace, .net(.controlled, bind: address)))
            try pair.start()
            let up = await pair.waitForUp(timeout: .seconds(10))
            #expect(up, "iteration \(i): \(pair.a.timeline) / \(pair.b.timeline)")
            _ = await pair.exchangeData(count: 3, timeout: .seconds(2))
            await pair.closeBoth()
            if i % 10 == 0 { print("churn: \(i)/\(n)") }
        }
    }
}
