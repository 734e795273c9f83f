import Foundation
import NiceICE
import NiceWebRTC
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("DTLS at scale", .serialized)
struct DtlsScaleTests {
    /// Raises the soft limit on open files to the hard limit (1,000 connections need about 2,100).
    static func raiseFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }

    @Test("1,000 DTLS connections (500 pairs) in one process: all connect, carry a datagram each way, close cleanly",
          .timeLimit(.minutes(3)))
    func thousandConnections() async throws {
        try await MemoryHeavy.shared.run { try await Self.thousandConnectionsBody() }
    }

    static func thousandConnectionsBody() async throws {
        let pairs = 500
        try #require(raiseFileLimit() >= 4 * pairs + 200, "needs about 2,200 open files")
        let contexts = (0..<2).map { NiceContext(name: "dtls-scale-\($0)") }
        let certA = try Certificate.generate(), certB = try Certificate.generate()
        struct Pair: Sendable {
            let a: DtlsTransport
            let b: DtlsTransport
        }
        var all: [Pair] = []
        for i in 0..<pairs {
            let context = contexts[i % contexts.count]
            let pa = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]), context: context)
            let pb = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]), context: context)
            let a = try DtlsTransport(iceTransport: pa, configuration: .init(certificate: certA))
            let b = try DtlsTransport(iceTransport: pb, configuration: .init(certificate: certB))
            try a.setRemoteParameters(try b.setRemoteParameters(a.localParameters))
            all.append(Pair(a: a, b: b))
        }
        // Signal in parallel, 50 pairs at a time.
        let started = ContinuousClock.now
        for chunk in stride(from: 0, to: pairs, by: 50) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in all[chunk..<min(chunk + 50, pairs)] {
                    group.addTask { try await exchangeIce(p.a.iceTransport, p.b.iceTransport) }
                }
                try await group.waitForAll()
            }
        }
        let connected = await eventually(.seconds(60)) { all.allSatisfy { $0.a.state == .connected && $0.b.state == .connected } }
        let notConnected = all.filter { $0.a.state != .connected || $0.b.state != .connected }
        #expect(connected, "\(notConnected.count) pairs not connected, e.g. \(notConnected.first.map { "\($0.a.lastStateChange) / \($0.b.lastStateChange)" } ?? "")")
        let elapsed = ContinuousClock.now - started
        // One datagram each way on every connection.
        for (i, p) in all.enumerated() {
            try p.a.send(payload(i))
            try p.b.send(payload(i + 100_000))
        }
        let delivered = await eventually(.seconds(20)) {
            all.allSatisfy { $0.a.counters.datagramsReceived >= 1 && $0.b.counters.datagramsReceived >= 1 }
        }
        #expect(delivered)
        print("1,000 DTLS connections connected in \(elapsed)")
        for p in all {
            p.a.close()
            p.b.close()
        }
        #expect(all.allSatisfy { $0.a.state == .closed && $0.b.state == .closed && $0.a.iceTransport.iceConnectionState == .closed })
        for c in contexts { await c.shutdown() }
    }
}
