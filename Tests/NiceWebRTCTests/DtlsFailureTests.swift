import Foundation
import NiceICE
import NiceWebRTC
import Testing

@Suite("DTLS failures: wrong fingerprints, timeouts, bad calls", .serialized)
struct DtlsFailureTests {
    @Test("a wrong fingerprint fails both sides with the reason, and no datagram passes",
          .timeLimit(.minutes(1)), arguments: [true, false])
    func mismatchedFingerprint(tamperA: Bool) async throws {
        // tamperA: a signals a wrong fingerprint, so b rejects a's certificate (and vice versa).
        let pair = try await DtlsPair.make(tamperA: tamperA, tamperB: !tamperA, handshakeTimeout: .seconds(10))
        let rejecting = tamperA ? pair.b : pair.a
        let rejected = tamperA ? pair.a : pair.b
        let bothFailed = await eventually(.seconds(30)) {
            pair.a.dtls.state == .failed && pair.b.dtls.state == .failed
        }
        #expect(bothFailed, "a: \(pair.a.dtls.lastStateChange), b: \(pair.b.dtls.lastStateChange)")
        // Both sides learn from the alert, not by the handshake timeout: the reasons below say so
        // (a timeout would be .handshakeTimeout on both), no clock needed.
        if case .fingerprintMismatch(let presented) = rejecting.dtls.lastStateChange.reason {
            #expect(presented == rejected.certificate.fingerprint.description)
        } else {
            Issue.record("the rejecting side says why: \(rejecting.dtls.lastStateChange)")
        }
        if case .peerAlert(let alert) = rejected.dtls.lastStateChange.reason {
            #expect(alert.lowercased().contains("certificate"), "\(alert)")
        } else {
            Issue.record("the rejected side hears the alert: \(rejected.dtls.lastStateChange)")
        }
        // The states reached the user's queue too, and the aggregate follows the table.
        #expect(await eventually { rejecting.lastDtls?.state == .failed && rejected.lastDtls?.state == .failed })
        #expect(pair.a.dtls.connectionState == .failed && pair.b.dtls.connectionState == .failed)
        #expect(pair.a.pc.iceConnectionState != .failed, "ICE itself is fine")
        // Nothing passes: sends are refused, nothing was delivered.
        #expect { try pair.a.dtls.send([1, 2, 3]) } throws: { ($0 as? DtlsError)?.code == .closed }
        #expect { try pair.a.dtls.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 16) } throws: {
            ($0 as? DtlsError)?.code == .notConnected
        }
        await pair.a.settle()  // anything delivered before would have reached the handlers by now
        await pair.b.settle()
        #expect(pair.a.receivedCount == 0 && pair.b.receivedCount == 0)
        #expect(pair.a.dtls.counters.datagramsReceived == 0 && pair.b.dtls.counters.datagramsReceived == 0)
        await pair.close()
    }

    @Test("a silent peer: the handshake fails by the configured timeout", .timeLimit(.minutes(1)))
    func handshakeTimeout() async throws {
        // b has a DTLS transport but never learns a's parameters, so it never answers a's
        // ClientHello beyond buffering it: a times out.
        let a = try DtlsPeer("a", ice: .controlling, dtls: .client, handshakeTimeout: .seconds(2))
        let b = try DtlsPeer("b", ice: .controlled, dtls: .server, handshakeTimeout: .seconds(2))
        try a.dtls.setRemoteParameters(b.dtls.localParameters)
        try await exchangeIce(a.pc, b.pc, endOfCandidates: false)
        try await a.pc.waitUntilConnected(timeout: .seconds(10))
        #expect(await eventually(.seconds(6)) { a.dtls.state == .failed })
        #expect(a.dtls.lastStateChange.reason == .handshakeTimeout, "\(a.dtls.lastStateChange)")
        #expect(b.dtls.state == .new, "b never started: \(b.dtls.lastStateChange)")
        a.dtls.close()
        b.dtls.close()
    }

    @Test("bad calls are typed errors and change nothing", .timeLimit(.minutes(1)))
    func badCalls() async throws {
        let pair = try await DtlsPair.make()
        // Before the handshake: not connected.
        #expect { try pair.a.dtls.send([1]) } throws: { ($0 as? DtlsError)?.code == .notConnected }
        try await pair.waitConnected()
        // Too large, and at the limit.
        #expect { try pair.a.dtls.send([UInt8](repeating: 1, count: DtlsTransport.maximumDatagramSize + 1)) } throws: {
            ($0 as? DtlsError)?.code == .datagramTooLarge
        }
        try pair.a.dtls.send([UInt8](repeating: 7, count: DtlsTransport.maximumDatagramSize))
        #expect(await eventually { pair.b.received.current.contains { $0.count == DtlsTransport.maximumDatagramSize } })
        // No remote fingerprint; a different certificate mid-session; a role clash; a second transport.
        #expect { try pair.a.dtls.setRemoteParameters(DtlsParameters(role: .client, fingerprints: [])) } throws: {
            ($0 as? DtlsError)?.field == "fingerprints"
        }
        #expect { try pair.a.dtls.setRemoteParameters(DtlsParameters(role: .client, fingerprints: [try wrongFingerprint()])) } throws: {
            ($0 as? DtlsError)?.code == .invalidState
        }
        try pair.a.dtls.setRemoteParameters(try #require(pair.a.dtls.remoteParameters))  // the same again: fine
        let cert = try Certificate.generate()
        #expect { try DtlsTransport(iceTransport: pair.a.pc, configuration: .init(certificate: cert)) } throws: {
            ($0 as? DtlsError)?.code == .invalidState
        }
        #expect { try pair.a.dtls.exportKeyingMaterial(label: "", length: 16) } throws: { ($0 as? DtlsError)?.field == "label" }
        #expect { try pair.a.dtls.exportKeyingMaterial(label: "x", length: 0) } throws: { ($0 as? DtlsError)?.field == "length" }
        // The session is untouched.
        try pair.a.dtls.send(payload(1))
        #expect(await eventually { pair.b.received.current.contains(payload(1)) })
        #expect(pair.a.dtls.state == .connected && pair.b.dtls.state == .connected)
        await pair.close()
    }

    @Test("role clash: both sides insist on the same role", .timeLimit(.minutes(1)))
    func roleClash() throws {
        let cert = try Certificate.generate()
        let pc = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
        let dtls = try DtlsTransport(iceTransport: pc, configuration: .init(certificate: cert, role: .client))
        #expect { try dtls.setRemoteParameters(DtlsParameters(role: .client, fingerprints: [cert.fingerprint])) } throws: {
            ($0 as? DtlsError)?.field == "role"
        }
        #expect(dtls.remoteParameters == nil)
        dtls.close()
        #expect(pc.iceConnectionState == .closed)
    }
}
