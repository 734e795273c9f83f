import Foundation
import NiceICE
import NiceWebRTC
import Testing

@Suite("Network: DTLS over a lossy link in namespaces", .serialized, .enabled(if: LossyLink.unavailableReason == nil))
struct DtlsNetworkTests {
    @Test("20 % loss each way: the handshake completes within 10 s, every time (8 handshakes)", .timeLimit(.minutes(3)))
    func handshakeUnderLoss() async throws {
        let link = try LossyLink(number: 1)
        var durations: [Duration] = []
        for run in 0..<8 {
            let certA = try Certificate.generate(), certB = try Certificate.generate()
            // ICE connects on a clean link (ICE under loss is NiceICE's own test); then the link
            // loses 20 % each way and only then do the DTLS parameters meet: the handshake runs,
            // and its duration is measured, entirely under loss.
            try link.setLoss(0)
            var configA = PeerConnection.Configuration(role: .controlling, localAddresses: [link.addressA], disconnectedGracePeriod: .seconds(30))
            configA.stunMaxRetransmissions = 7
            var configB = configA
            configB.role = .controlled
            configB.localAddresses = [link.addressB]
            let a = try PeerConnection(configuration: configA, context: link.contextA)
            let b = try PeerConnection(configuration: configB, context: link.contextB)
            let da = try DtlsTransport(iceConnection: a, configuration: .init(certificate: certA, handshakeTimeout: .seconds(10)))
            let db = try DtlsTransport(iceConnection: b, configuration: .init(certificate: certB, handshakeTimeout: .seconds(10)))
            try await exchangeIce(a, b)
            try await a.waitUntilConnected(timeout: .seconds(30))
            try await b.waitUntilConnected(timeout: .seconds(30))
            try link.setLoss(20)
            try da.setRemoteParameters(try db.setRemoteParameters(da.localParameters))
            do {
                try await da.waitUntilConnected(timeout: .seconds(12))
                try await db.waitUntilConnected(timeout: .seconds(12))
            } catch {
                Issue.record("run \(run): \(error); a \(da.lastStateChange), b \(db.lastStateChange)")
            }
            let d = max(da.handshakeDuration ?? .seconds(99), db.handshakeDuration ?? .seconds(99))
            durations.append(d)
            #expect(d < .seconds(10), "run \(run): handshake took \(d)")
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
