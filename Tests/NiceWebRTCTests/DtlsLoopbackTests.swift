import Foundation
import NiceICE
import NiceWebRTC
import Testing

@Suite("DTLS over ICE on 127.0.0.1", .serialized)
struct DtlsLoopbackTests {
    /// Sends `count` datagrams each way and checks every byte arrived.
    static func exchange(_ pair: DtlsPair, count: Int = 1000) async throws {
        // In windows of 100 each way, waiting for each window to arrive: UDP on loopback loses
        // nothing but what overflows a socket buffer, which a loaded machine would otherwise do.
        for i in 0..<count {
            try pair.a.dtls.send(payload(i))
            try pair.b.dtls.send(payload(i + 1_000_000))
            if i % 100 == 99 {
                _ = await eventually(.seconds(5)) { pair.a.receivedCount > i && pair.b.receivedCount > i }
            }
        }
        let arrived = await eventually(.seconds(10)) { pair.a.receivedCount >= count && pair.b.receivedCount >= count }
        #expect(arrived, "a got \(pair.a.receivedCount), b got \(pair.b.receivedCount) of \(count)")
        let atB = Set(pair.b.received.current)
        let atA = Set(pair.a.received.current)
        let missingAtB = (0..<count).filter { !atB.contains(payload($0)) }.count
        let missingAtA = (0..<count).filter { !atA.contains(payload($0 + 1_000_000)) }.count
        #expect(missingAtB == 0 && missingAtA == 0, "byte-exact: \(missingAtB) missing at b, \(missingAtA) at a")
    }

    @Test("handshake and 1,000 datagrams each way, byte-checked, in both DTLS roles",
          .timeLimit(.minutes(1)), arguments: [(DtlsRole.auto, DtlsRole.auto), (.client, .server), (.server, .client)])
    func handshakeAndData(roles: (DtlsRole, DtlsRole)) async throws {
        let pair = try await DtlsPair.make(roles: roles)
        try await pair.waitConnected()
        // The roles: auto/auto is JSEP (a offered actpass and is ICE-controlling; b answers active).
        let expectedA: DtlsRole = roles.0 == .auto ? .server : roles.0
        #expect(pair.a.dtls.localParameters.role == expectedA)
        #expect(pair.b.dtls.localParameters.role == (expectedA == .server ? .client : .server))
        #expect(pair.a.dtls.cipherSuite?.contains("GCM") == true || pair.a.dtls.cipherSuite?.contains("CHACHA") == true,
                "AEAD cipher: \(pair.a.dtls.cipherSuite ?? "none")")
        #expect(pair.a.dtls.remoteCertificateFingerprint == pair.b.certificate.fingerprint)
        #expect(pair.b.dtls.remoteCertificateFingerprint == pair.a.certificate.fingerprint)
        try await Self.exchange(pair)
        // Both ends derive the same keying material (what DTLS-SRTP would use).
        let ka = try pair.a.dtls.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 60)
        let kb = try pair.b.dtls.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 60)
        #expect(ka == kb && ka.count == 60)
        #expect(pair.a.dtlsStates.current.map(\.state) == [.connecting, .connected])
        #expect(pair.a.connectionStates.current == [.connecting, .connected])
        await pair.close()
    }

    @Test("the payload never appears in clear on the wire (a recording relay between the peers)", .timeLimit(.minutes(1)))
    func wireIsEncrypted() async throws {
        let relay = try RecordingRelay()
        defer { relay.stop() }
        let pair = try await DtlsPair.make(relay: relay)
        try await pair.waitConnected()
        try await Self.exchange(pair)
        let marker = Array("PLAINTEXT-MARKER".utf8)
        let wire = relay.datagrams
        #expect(wire.count >= 2000, "the relay carried the traffic: \(wire.count) datagrams")
        let clear = wire.filter { $0.contains(subsequence: marker) }.count
        #expect(clear == 0, "\(clear) datagrams carried the plaintext marker")
        // Everything after the STUN checks is a DTLS record (RFC 7983: first byte 20-63).
        let nonStun = wire.filter { ($0.first ?? 0) > 3 }
        #expect(nonStun.allSatisfy { (20...63).contains($0[0]) })
        await pair.close()
    }

    @Test("control: without DTLS the recording relay sees the marker (the capture works)", .timeLimit(.minutes(1)))
    func captureWorks() async throws {
        let relay = try RecordingRelay()
        defer { relay.stop() }
        let a = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
        let b = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
        try await exchangeIce(a, b, relay: relay, endOfCandidates: false)
        try await a.waitUntilConnected(timeout: .seconds(10))
        try a.send(payload(1))
        let seen = await eventually { relay.datagrams.contains { $0.contains(subsequence: Array("PLAINTEXT-MARKER".utf8)) } }
        #expect(seen)
        a.close()
        b.close()
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard needle.count <= count, !needle.isEmpty else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
