import NiceICE
import NiceWebRTC
import Testing

@Suite("DTLS role: one rule, the answer's a=setup and the transport agree")
struct DtlsRoleTests {
    @Test("every (local, remote) pair: the role the transport takes is DtlsRole.answering's, whatever the ICE role",
          .timeLimit(.minutes(1)), arguments: [IceTransport.Role.controlling, .controlled])
    func oneRule(iceRole: IceTransport.Role) throws {
        let cases: [(local: DtlsRole, remote: DtlsRole, taken: DtlsRole?)] = [
            (.auto, .auto, .client),  // answering an actpass offer: active, also when ICE-controlling (ICE-lite offer)
            (.auto, .client, .server), (.auto, .server, .client),
            (.client, .auto, .client), (.server, .auto, .server),
            (.client, .server, .client), (.server, .client, .server),
            (.client, .client, nil), (.server, .server, nil),
        ]
        let remoteCert = try Certificate.generate()
        for c in cases {
            let pc = try IceTransport(configuration: .init(role: iceRole, localAddresses: ["127.0.0.1"]))
            let dtls = try DtlsTransport(iceTransport: pc, configuration: .init(certificate: try Certificate.generate(), role: c.local))
            let remote = DtlsParameters(role: c.remote, fingerprints: [remoteCert.fingerprint])
            if let taken = c.taken {
                let answer = try dtls.setRemoteParameters(remote)
                #expect(answer.role == taken, "\(c.local) vs \(c.remote), ICE \(iceRole)")
                if c.local == .auto { #expect(answer.role == DtlsRole.answering(c.remote), "the answer writes what the transport takes") }
            } else {
                #expect(throws: DtlsError.self, "\(c.local) vs \(c.remote)") { try dtls.setRemoteParameters(remote) }
            }
            dtls.close()
        }
    }

    @Test("an ICE-lite-style answer (answerer ICE-controlling) following the README connects: one client, one server",
          .timeLimit(.minutes(1)))
    func answererControlling() async throws {
        let a = try DtlsPeer("a", ice: .controlled)   // the offerer, as an ICE-lite offerer is
        let b = try DtlsPeer("b", ice: .controlling)  // the answerer takes control
        let written = DtlsParameters(role: DtlsRole.answering(a.dtls.localParameters.role), fingerprints: b.dtls.localParameters.fingerprints)
        _ = try b.dtls.setRemoteParameters(a.dtls.localParameters)
        try a.dtls.setRemoteParameters(written)  // what the answer's a=setup said
        try await exchangeIce(a.pc, b.pc)
        try await a.dtls.waitUntilConnected(timeout: .seconds(15))
        try await b.dtls.waitUntilConnected(timeout: .seconds(15))
        a.dtls.close()
        b.dtls.close()
        await a.pc.closeAndWait()
        await b.pc.closeAndWait()
    }
}
