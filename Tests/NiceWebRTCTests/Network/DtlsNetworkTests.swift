import Foundation
import NiceICE
import NiceWebRTC
import Testing

/// The link loses packets through iptables `statistic` rules in its namespaces (``LossyLink``; no
/// `tc netem`). Skips, saying why, without root or namespaces; `LossyLinkNetworkPrerequisites`
/// fails the run for that under NICE_REQUIRE_NETNS=1.
@Suite("Network: DTLS over a lossy link in namespaces", .serialized,
       .enabled(if: LossyLink.available, "needs root, network namespaces and iptables (the reason is printed above)"))
struct DtlsNetworkTests {
    @Test("20 % loss each way: the handshake completes every time (8 handshakes)", .timeLimit(.minutes(3)))
    func handshakeUnderLoss() async throws {
        let link = try LossyLink(number: 1)
        var durations: [Duration] = []
        for run in 0..<8 {
            let certA = try Certificate.generate(), certB = try Certificate.generate()
            // ICE connects on a clean link (ICE under loss is NiceICE's own test); then the link
            // loses 20 % each way and only then do the DTLS parameters meet: the handshake runs,
            // and its duration is measured, entirely under loss.
            try link.setLoss(0)
            var configA = IceTransport.Configuration(role: .controlling, localAddresses: [link.addressA], disconnectedGracePeriod: .seconds(30))
            configA.stunMaxRetransmissions = 7
            var configB = configA
            configB.role = .controlled
            configB.localAddresses = [link.addressB]
            let a = try IceTransport(configuration: configA, context: link.contextA)
            let b = try IceTransport(configuration: configB, context: link.contextB)
            let da = try DtlsTransport(iceTransport: a, configuration: .init(certificate: certA, handshakeTimeout: .seconds(10)))
            let db = try DtlsTransport(iceTransport: b, configuration: .init(certificate: certB, handshakeTimeout: .seconds(10)))
            try await exchangeIce(a, b)
            try await a.waitUntilConnected(timeout: .seconds(30))
            try await b.waitUntilConnected(timeout: .seconds(30))
            try link.setLoss(20)
            try da.setRemoteParameters(try db.setRemoteParameters(da.localParameters))
            // The transports' own 10 s handshake timeout fails them if retransmission does not get
            // through; the wait is only a bound for that verdict (the suite's time limit is the
            // test's), and the check is the outcome, not how long it took.
            do {
                try await da.waitUntilConnected(timeout: .seconds(60))
                try await db.waitUntilConnected(timeout: .seconds(60))
            } catch {
                Issue.record("run \(run): \(error); a \(da.lastStateChange), b \(db.lastStateChange)")
            }
            #expect(da.state == .connected && db.state == .connected, "run \(run): a \(da.lastStateChange), b \(db.lastStateChange)")
            #expect(da.handshakeDuration != nil && db.handshakeDuration != nil, "run \(run): both sides finished a handshake")
            durations.append(max(da.handshakeDuration ?? .zero, db.handshakeDuration ?? .zero))
            // Datagrams flow (about 80 % of them: DTLS does not retransmit data).
            let got = Box(0)
            db.receiveHandler = { _ in got.withLock { $0 += 1 } }
            db.start(queue: DispatchQueue(label: "lossy.b"))
            for i in 0..<100 { try da.send(payload(i)) }
            #expect(await eventually(.seconds(5)) { got.current >= 50 }, "run \(run): \(got.current) of 100 arrived")
            da.close()
            db.close()
            await a.closeAndWait()
            await b.closeAndWait()
        }
        print("DTLS handshakes under 20 % loss: \(durations.map { "\($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) ms" })")
        await link.remove()
    }
}
