import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

/// The DTLS context policy (issue 17 §7): security level 2 (no RSA-1024 peers), the signature
/// algorithm list, and the ClientHellos browsers send in 2026 (fragmented over two records,
/// offering DTLS 1.3 and a post-quantum key share), which our DTLS 1.2 server must answer with 1.2.
///
/// Most tests drive two `DtlsSession`s back to back in memory (no ICE, no timers, no threads), so
/// they can build peers the public API does not (RSA keys, weaker policies) and rewrite records.
@Suite("DTLS policy: security level, signature algorithms, browser ClientHellos")
struct DtlsPolicyTests {
    /// The handshake signatures the policy allows, as `DtlsSession.peerSignatureAlgorithm` names them.
    static let allowedSignatures: Set<String> = [
        "ECDSA+SHA256", "ECDSA+SHA384", "ECDSA+SHA512",
        "RSA-PSS+SHA256", "RSA-PSS+SHA384", "RSA-PSS+SHA512",
        "RSA+SHA256", "RSA+SHA384", "RSA+SHA512",
    ]

    enum Key: String, CaseIterable, Sendable {
        case p256, rsa2048
        func identity() throws -> CertificateIdentity {
            switch self {
            case .p256: try CertificateIdentity.generate(lifetime: .seconds(3600))
            case .rsa2048: try CertificateIdentity.generate(lifetime: .seconds(3600), key: .rsa(bits: 2048))
            }
        }
    }

    @Test("P-256 and RSA-2048 certificates connect in every pairing; each side's handshake signature is one of the policy's",
          .timeLimit(.minutes(1)), arguments: Key.allCases, Key.allCases)
    func allowedKeysConnect(client: Key, server: Key) throws {
        let link = try SessionLink(client: client.identity(), server: server.identity())
        link.run()
        #expect(link.clientOutcomes == [.connected] && link.serverOutcomes == [.connected],
                "client: \(link.clientOutcomes), server: \(link.serverOutcomes)")
        // The client judged the server's ServerKeyExchange signature; the server the client's CertificateVerify.
        let byServer = try #require(link.client.peerSignatureAlgorithm)
        let byClient = try #require(link.server.peerSignatureAlgorithm)
        #expect(Self.allowedSignatures.contains(byServer) && Self.allowedSignatures.contains(byClient), "\(byServer), \(byClient)")
        #expect(byServer == (server == .p256 ? "ECDSA+SHA256" : "RSA-PSS+SHA256"))
        #expect(byClient == (client == .p256 ? "ECDSA+SHA256" : "RSA-PSS+SHA256"))
        let cipher = link.client.cipherName ?? "none"
        #expect(cipher.hasPrefix("ECDHE-") && (cipher.contains("GCM") || cipher.contains("CHACHA20")), "\(cipher)")
    }

    @Test("an RSA-1024 peer certificate is refused with the reason, whichever side presents it",
          .timeLimit(.minutes(1)), arguments: [true, false])
    func rsa1024Refused(weakIsClient: Bool) throws {
        // The weak peer needs a context below level 2 to load its own certificate at all.
        let weak = try CertificateIdentity.generate(
            lifetime: .seconds(3600), key: .rsa(bits: 1024), policy: .init(securityLevel: 0))
        let strong = try CertificateIdentity.generate(lifetime: .seconds(3600))
        let link = try weakIsClient ? SessionLink(client: weak, server: strong) : SessionLink(client: strong, server: weak)
        link.run()
        let (strongOutcomes, weakOutcomes) =
            weakIsClient ? (link.serverOutcomes, link.clientOutcomes) : (link.clientOutcomes, link.serverOutcomes)
        guard case .failed(.protocolError(let why)) = strongOutcomes.last else {
            Issue.record("the strong side refuses with a reason: \(strongOutcomes)")
            return
        }
        #expect(why.contains("too weak") && why.contains("1024 bits") && why.contains("80-bit"), "\(why)")
        guard case .failed(.peerAlert(let alert)) = weakOutcomes.last else {
            Issue.record("the weak side hears the alert: \(weakOutcomes)")
            return
        }
        #expect(alert.lowercased().contains("certificate"), "\(alert)")
        #expect(!strongOutcomes.contains(.connected) && !weakOutcomes.contains(.connected))

        // Control: the same peer against a level-1 context (OpenSSL 3.0's default, our policy
        // before) connects, so the level is what refuses it.
        let lax = try CertificateIdentity.generate(lifetime: .seconds(3600), key: .p256, policy: .init(securityLevel: 1))
        let control = try weakIsClient ? SessionLink(client: weak, server: lax) : SessionLink(client: lax, server: weak)
        control.run()
        #expect(control.clientOutcomes == [.connected] && control.serverOutcomes == [.connected])
    }

    @Test("over ICE: a peer with an RSA-1024 certificate fails the handshake with the reason; RSA-2048 connects",
          .timeLimit(.minutes(1)), arguments: [UInt32(1024), 2048])
    func rsaPeerOverIce(bits: UInt32) async throws {
        let weak = try CertificateIdentity.generate(
            lifetime: .seconds(3600), key: .rsa(bits: bits), policy: .init(securityLevel: 0))
        // a: P-256, ICE controlling, offers actpass (becomes the server); b: the RSA peer, the client.
        let a = try DtlsPeer("a", ice: .controlling)
        let b = try DtlsPeer("b", ice: .controlled, certificate: Certificate(identity: weak))
        let answer = try b.dtls.setRemoteParameters(a.dtls.localParameters)
        try a.dtls.setRemoteParameters(answer)
        try await exchangeIce(a.pc, b.pc)
        if bits >= 2048 {
            try await a.dtls.waitUntilConnected(timeout: .seconds(15))
            try await b.dtls.waitUntilConnected(timeout: .seconds(15))
            try a.dtls.send([1, 2, 3])
            #expect(await eventually { b.received.current.contains([1, 2, 3]) })
        } else {
            #expect(await eventually(.seconds(10)) { a.dtls.state == .failed && b.dtls.state == .failed },
                    "a: \(a.dtls.lastStateChange), b: \(b.dtls.lastStateChange)")
            if case .protocolError(let why) = a.dtls.lastStateChange.reason {
                #expect(why.contains("too weak") && why.contains("1024 bits"), "\(why)")
            } else {
                Issue.record("a says why: \(a.dtls.lastStateChange)")
            }
            #expect(a.dtls.lastStateChange.description.contains("too weak"), "\(a.dtls.lastStateChange)")
            if case .peerAlert(let alert) = b.dtls.lastStateChange.reason {
                #expect(alert.lowercased().contains("certificate"), "\(alert)")
            } else {
                Issue.record("b hears the alert: \(b.dtls.lastStateChange)")
            }
            #expect(a.receivedCount == 0 && b.receivedCount == 0)
        }
        a.dtls.close()
        b.dtls.close()
        await a.pc.closeAndWait()
        await b.pc.closeAndWait()
    }

    @Test("our own certificate: RSA-1024 cannot be loaded, RSA-2048 can", .timeLimit(.minutes(1)))
    func rsa1024NotLoadable() throws {
        #expect { try CertificateIdentity.generate(lifetime: .seconds(3600), key: .rsa(bits: 1024)) } throws: {
            ($0 as? DtlsError)?.code == .cryptoFailure
        }
        let weak = try CertificateIdentity.generate(
            lifetime: .seconds(3600), key: .rsa(bits: 1024), policy: .init(securityLevel: 0))
        #expect { try Certificate(pem: weak.pem(includingPrivateKey: true)) } throws: {
            let e = $0 as? DtlsError
            return e?.code == .invalidCertificate && e?.reason.contains("too weak") == true
        }
        let rsa2048 = try CertificateIdentity.generate(lifetime: .seconds(3600), key: .rsa(bits: 2048))
        let loaded = try Certificate(pem: rsa2048.pem(includingPrivateKey: true))
        #expect(loaded.fingerprint == rsa2048.fingerprint(.sha256))
    }

    /// SHA-224 passes security level 2 (112 bits) but is not in the list, so this refusal is the
    /// list's; SHA-1 would be refused by the level alone too.
    @Test("a peer that offers only signatures outside the list (SHA-224, SHA-1) is refused",
          .timeLimit(.minutes(1)), arguments: ["ECDSA+SHA224:RSA+SHA224", "ECDSA+SHA1:RSA+SHA1"], [true, false])
    func signaturesOutsideListRefused(algorithms: String, peerIsClient: Bool) throws {
        let old = try CertificateIdentity.generate(
            lifetime: .seconds(3600), key: .p256, policy: .init(securityLevel: 0, signatureAlgorithms: algorithms))
        let ours = try CertificateIdentity.generate(lifetime: .seconds(3600))
        let link = try peerIsClient ? SessionLink(client: old, server: ours) : SessionLink(client: ours, server: old)
        link.run()
        let ourOutcomes = peerIsClient ? link.serverOutcomes : link.clientOutcomes
        #expect(!link.clientOutcomes.contains(.connected) && !link.serverOutcomes.contains(.connected),
                "client: \(link.clientOutcomes), server: \(link.serverOutcomes)")
        // Whichever side notices first, ours ends failed (its own error or the other's alert), at once.
        guard case .failed(let why) = ourOutcomes.last else {
            Issue.record("our side fails: \(ourOutcomes)")
            return
        }
        #expect(why != .handshakeTimeout)
    }

    // MARK: Browser ClientHellos (we are the server)

    @Test("our ClientHello split into two handshake fragments in two records is reassembled and the handshake completes",
          .timeLimit(.minutes(1)), arguments: [false, true])
    func fragmentedClientHelloCompletes(reversed: Bool) throws {
        let link = try SessionLink(client: Key.p256.identity(), server: Key.p256.identity())
        link.clientOutcomes.append(link.client.start())
        let hello = try ClientHelloWire(datagrams: link.toServer.take())
        // Record numbers 0 and 40: the client's later epoch-0 records (1, 2, …) stay fresh for the
        // server's replay window.
        var datagrams = hello.fragmented(body: hello.body, at: hello.body.count / 2, recordNumbers: (0, 40))
        if reversed { datagrams.reverse() }
        link.toServer.items = datagrams
        link.run()
        #expect(link.clientOutcomes.filter { $0 != .none } == [.connected] && link.serverOutcomes == [.connected],
                "client: \(link.clientOutcomes), server: \(link.serverOutcomes)")
    }

    @Test("a Firefox-146/Chrome-148-style ClientHello (two fragments, DTLS 1.3 offered, 1,216-byte X25519MLKEM768 share, permuted extensions) gets a DTLS 1.2 ServerHello",
          .timeLimit(.minutes(1)), arguments: [false, true])
    func postQuantumClientHelloGetsDtls12(reversed: Bool) throws {
        let link = try SessionLink(client: Key.p256.identity(), server: Key.p256.identity())
        _ = link.client.start()
        let hello = try ClientHelloWire(datagrams: link.toServer.take())
        let body = try hello.browserStyleBody()
        #expect(13 + 12 + body.count > 1_200, "too big for one 1,200-byte datagram, as the browsers' are: \(body.count)")
        // Split where Chrome's 1,200-byte datagrams would: both records ≤ 1,200 B on the wire.
        var datagrams = hello.fragmented(body: body, at: 1_200 - 13 - 12, recordNumbers: (0, 1))
        #expect(datagrams.allSatisfy { $0.count <= 1_200 })
        if reversed { datagrams.reverse() }
        var outcomes: [DtlsSession.Outcome] = []
        for d in datagrams { outcomes += d.withUnsafeBytes { link.server.receive($0) { _ in } } }
        #expect(outcomes.isEmpty, "the server neither failed nor finished: \(outcomes)")
        #expect(link.server.phase == .handshaking)

        // The server's flight: a DTLS 1.2 ServerHello without supported_versions or key_share, and
        // an ECDHE exchange on a classical group.
        let messages = try ServerFlight(datagrams: link.toClient.take())
        let serverHello = try #require(messages.first { $0.type == 2 }, "a ServerHello: \(messages.map(\.type))")
        var r = Reader(serverHello.fragment)
        #expect(try r.u16() == 0xFEFD, "server_version DTLS 1.2")
        _ = try r.bytes(32)
        _ = try r.bytes(Int(r.u8()))  // session id
        let suite = try r.u16()
        #expect([0xC02B, 0xC02C, 0xCCA9].contains(suite), "an ECDHE-ECDSA AEAD suite: \(String(suite, radix: 16))")
        _ = try r.u8()  // compression
        var extensionTypes: [UInt16] = []
        if !r.atEnd {
            var exts = try Reader(r.bytes(Int(r.u16())))
            while !exts.atEnd {
                extensionTypes.append(try exts.u16())
                _ = try exts.bytes(Int(exts.u16()))
            }
        }
        #expect(!extensionTypes.contains(43) && !extensionTypes.contains(51), "no supported_versions / key_share: \(extensionTypes)")
        let keyExchange = try #require(messages.first { $0.type == 12 }, "a ServerKeyExchange: \(messages.map(\.type))")
        var k = Reader(keyExchange.fragment)
        #expect(try k.u8() == 3, "named_curve")
        let group = try k.u16()
        #expect(group == 0x001D, "X25519 (our first choice), not X25519MLKEM768: \(String(group, radix: 16))")
        #expect(messages.contains { $0.type == 14 }, "ServerHelloDone: the whole flight went out")
    }
}

// MARK: - Two sessions in memory

/// Datagrams queued for one side.
final class DatagramQueue {
    var items: [[UInt8]] = []
    func take() -> [[UInt8]] {
        defer { items = [] }
        return items
    }
}

/// A client and a server `DtlsSession`, each expecting the other's sha-256 fingerprint, wired back
/// to back: what one sends is queued for the other and `run` delivers until both are quiet.
final class SessionLink {
    let client: DtlsSession
    let server: DtlsSession
    let toServer = DatagramQueue()
    let toClient = DatagramQueue()
    var clientOutcomes: [DtlsSession.Outcome] = []
    var serverOutcomes: [DtlsSession.Outcome] = []

    init(client c: CertificateIdentity, server s: CertificateIdentity) throws {
        let cf = try #require(c.fingerprint(.sha256))
        let sf = try #require(s.fingerprint(.sha256))
        client = try DtlsSession(identity: c, role: .client, expected: [sf])
        server = try DtlsSession(identity: s, role: .server, expected: [cf])
        let toServer = self.toServer, toClient = self.toClient
        client.output = { toServer.items.append(Array($0)) }
        server.output = { toClient.items.append(Array($0)) }
    }

    /// Starts the client unless it already sent something, then delivers until nothing moves.
    func run() {
        if toServer.items.isEmpty && clientOutcomes.isEmpty { clientOutcomes.append(client.start()) }
        clientOutcomes.removeAll { $0 == .none }
        for _ in 0..<64 where !(toServer.items.isEmpty && toClient.items.isEmpty) {
            for d in toServer.take() { serverOutcomes += d.withUnsafeBytes { server.receive($0) { _ in } } }
            for d in toClient.take() { clientOutcomes += d.withUnsafeBytes { client.receive($0) { _ in } } }
        }
    }
}

// MARK: - DTLS 1.2 wire format, just enough for ClientHellos

struct Reader {
    let data: [UInt8]
    var offset = 0
    init(_ data: [UInt8]) { self.data = data }
    var atEnd: Bool { offset == data.count }
    mutating func bytes(_ n: Int) throws -> [UInt8] {
        try #require(n >= 0 && offset + n <= data.count, "truncated at \(offset) (+\(n) of \(data.count))")
        defer { offset += n }
        return Array(data[offset..<offset + n])
    }
    mutating func u8() throws -> UInt8 { try bytes(1)[0] }
    mutating func u16() throws -> UInt16 { try bytes(2).reduce(0) { $0 << 8 | UInt16($1) } }
    mutating func u24() throws -> Int { try bytes(3).reduce(0) { $0 << 8 | Int($1) } }
}

func be(_ value: Int, _ count: Int) -> [UInt8] {
    (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// One handshake fragment (RFC 6347 §4.2.2) as read from a record.
struct HandshakeFragment {
    var type: UInt8
    var length: Int
    var messageSeq: UInt16
    var offset: Int
    var fragment: [UInt8]
}

/// The handshake fragments of epoch-0 handshake records in `datagrams`.
func handshakeFragments(_ datagrams: [[UInt8]]) throws -> [HandshakeFragment] {
    var out: [HandshakeFragment] = []
    for d in datagrams {
        var r = Reader(d)
        while !r.atEnd {
            let type = try r.u8()
            _ = try r.u16()  // version
            let epoch = try r.u16()
            _ = try r.bytes(6)  // sequence number
            let body = try r.bytes(Int(r.u16()))
            guard type == 22, epoch == 0 else { continue }
            var h = Reader(body)
            while !h.atEnd {
                let t = try h.u8(), length = try h.u24(), seq = try h.u16(), offset = try h.u24()
                out.append(HandshakeFragment(type: t, length: length, messageSeq: seq, offset: offset, fragment: try h.bytes(h.u24())))
            }
        }
    }
    return out
}

/// Our client's ClientHello, read from its first flight, and what a test makes of it.
struct ClientHelloWire {
    let body: [UInt8]
    let messageSeq: UInt16

    init(datagrams: [[UInt8]]) throws {
        let fragments = try handshakeFragments(datagrams)
        try #require(fragments.count == 1, "one unfragmented ClientHello: \(fragments.count)")
        let f = fragments[0]
        try #require(f.type == 1 && f.offset == 0 && f.fragment.count == f.length)
        body = f.fragment
        messageSeq = f.messageSeq
    }

    /// `body` as two handshake fragments (same message_seq; fragment_offset/length), each in its
    /// own epoch-0 record and datagram.
    func fragmented(body: [UInt8], at split: Int, recordNumbers: (Int, Int)) -> [[UInt8]] {
        let parts = [(0, Array(body[..<split]), recordNumbers.0), (split, Array(body[split...]), recordNumbers.1)]
        return parts.map { offset, fragment, recordNumber in
            let handshake = [1] + be(body.count, 3) + be(Int(messageSeq), 2) + be(offset, 3) + be(fragment.count, 3) + fragment
            return [22, 0xFE, 0xFD] + be(0, 2) + be(recordNumber, 6) + be(handshake.count, 2) + handshake
        }
    }

    /// The ClientHello as Firefox 146+ (and Chrome 148 with its PQ flag) shape it for DTLS:
    /// legacy_version DTLS 1.2; supported_versions DTLS 1.3 (0xFEFC) and 1.2 (0xFEFD);
    /// supported_groups X25519MLKEM768 (0x11EC) first; key_share with a 1,216-byte X25519MLKEM768
    /// share and a 32-byte X25519 one; psk_key_exchange_modes; extensions in another order than
    /// OpenSSL's (Chrome permutes them). The rest (suites, signature algorithms, use_srtp, EMS) is
    /// our client's.
    func browserStyleBody() throws -> [UInt8] {
        var r = Reader(body)
        var head = try r.bytes(2 + 32)  // legacy_version, random
        let sessionID = try r.u8()
        head += [sessionID] + (try r.bytes(Int(sessionID)))
        let cookie = try r.u8()
        head += [cookie] + (try r.bytes(Int(cookie)))
        let suites = try r.u16()
        head += be(Int(suites), 2) + (try r.bytes(Int(suites)))
        let compression = try r.u8()
        head += [compression] + (try r.bytes(Int(compression)))
        var exts = try Reader(r.bytes(Int(r.u16())))
        var extensions: [(UInt16, [UInt8])] = []
        while !exts.atEnd {
            let type = try exts.u16()
            extensions.append((type, try exts.bytes(Int(exts.u16()))))
        }
        extensions.removeAll { [10, 43, 45, 51].contains($0.0) }
        let groups: [UInt16] = [0x11EC, 0x001D, 0x0017, 0x0018]
        let groupBytes = groups.flatMap { be(Int($0), 2) }
        extensions.append((10, be(groupBytes.count, 2) + groupBytes))
        extensions.append((43, [4, 0xFE, 0xFC, 0xFE, 0xFD]))
        extensions.append((45, [1, 1]))  // psk_dhe_ke
        let mlkem = (0..<1_216).map { _ in UInt8.random(in: 0...255) }
        let x25519 = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let shares = be(0x11EC, 2) + be(mlkem.count, 2) + mlkem + be(0x001D, 2) + be(x25519.count, 2) + x25519
        extensions.append((51, be(shares.count, 2) + shares))
        extensions.reverse()  // not OpenSSL's order
        let extensionBytes = extensions.flatMap { be(Int($0.0), 2) + be($0.1.count, 2) + $0.1 }
        return head + be(extensionBytes.count, 2) + extensionBytes
    }
}

/// The server's first flight, its handshake messages by their first fragment.
struct ServerFlight: Sequence {
    let messages: [HandshakeFragment]
    init(datagrams: [[UInt8]]) throws {
        messages = try handshakeFragments(datagrams).filter { $0.offset == 0 }
    }
    func makeIterator() -> IndexingIterator<[HandshakeFragment]> { messages.makeIterator() }
}
