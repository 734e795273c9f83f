import Foundation
import Logging
import NiceICE
import NiceWebRTC
import Testing

@Suite("DTLS lifecycle: restart, close, certificates", .serialized)
struct DtlsLifecycleTests {
    @Test("an ICE restart keeps the DTLS session: no new handshake, data before and after", .timeLimit(.minutes(1)))
    func restartKeepsSession() async throws {
        let pair = try await DtlsPair.make()
        try await pair.waitConnected()
        let keysBefore = try pair.a.dtls.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 32)
        try pair.a.dtls.send(payload(1))
        #expect(await eventually { pair.b.receivedCount == 1 })
        let iceStates = Box<[IceConnectionState]>([])
        let stream = pair.a.pc.stateChanges()
        let watcher = Task { for await c in stream { iceStates.withLock { $0.append(c.state) } } }
        _ = try pair.a.pc.restartIce()
        _ = try pair.b.pc.restartIce()
        // New credentials and this round's candidates, both ways (RFC 8445 §9).
        try await exchangeIce(pair.a.pc, pair.b.pc)
        // The restart went through ICE (connected again after the new checks).
        let restarted = await eventually(.seconds(10)) {
            iceStates.current.dropFirst().contains(.connected) && pair.a.pc.iceConnectionState == .completed
        }
        #expect(restarted, "ICE states during the restart: \(iceStates.current), now \(pair.a.pc.iceConnectionState)")
        watcher.cancel()
        for i in 2..<102 { try pair.a.dtls.send(payload(i)) }
        #expect(await eventually { pair.b.receivedCount == 101 })
        #expect(pair.a.dtlsStates.current.map(\.state) == [.connecting, .connected], "no new handshake")
        #expect(pair.b.dtlsStates.current.map(\.state) == [.connecting, .connected])
        #expect(try pair.a.dtls.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 32) == keysBefore, "same session keys")
        await pair.close()
    }

    @Test("close() sends close_notify: the peer's transport is closed (closedByPeer), its connection stays connected per W3C",
          .timeLimit(.minutes(1)))
    func closeNotify() async throws {
        let pair = try await DtlsPair.make()
        try await pair.waitConnected()
        let aStates = pair.a.dtlsStates.current.count
        let stream = pair.a.dtls.stateChanges()
        pair.a.dtls.close()
        // Locally: closed at once, no event, the stream yields closed and finishes, ICE closed too.
        #expect(pair.a.dtls.state == .closed && pair.a.dtls.connectionState == .closed)
        #expect(pair.a.pc.iceConnectionState == .closed)
        var seen: [DtlsTransportState] = []
        for await c in stream { seen.append(c.state) }
        #expect(seen == [.connected, .closed], "the stream yielded the state it began with, then closed, and finished: \(seen)")
        await pair.a.settle()  // any handler event close() had set off would have run by now
        #expect(pair.a.dtlsStates.current.count == aStates, "no handler event for close()")
        #expect { try pair.a.dtls.send([1]) } throws: { ($0 as? DtlsError)?.code == .closed }
        // The peer heard close_notify.
        #expect(await eventually { pair.b.dtls.state == .closed })
        #expect(pair.b.dtls.lastStateChange.reason == .closedByPeer)
        #expect(await eventually { pair.b.lastDtls?.state == .closed }, "delivered as an event")
        #expect(pair.b.dtls.connectionState == .connected, "W3C: a closed DTLS transport leaves ICE's verdict")
        await pair.close()
    }

    @Test("closing the ICE connection closes the transport (no event), and a released transport closes its connection",
          .timeLimit(.minutes(1)))
    func closeFromBelowAndRelease() async throws {
        let pair = try await DtlsPair.make()
        try await pair.waitConnected()
        pair.a.pc.close()
        #expect(pair.a.dtls.state == .closed && pair.a.dtls.connectionState == .closed)
        #expect { try pair.a.dtls.send([1]) } throws: { ($0 as? DtlsError)?.code == .closed }
        // Release: a transport nobody holds closes its connection.
        let cert = try Certificate.generate()
        let pc = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
        weak var weakDtls: DtlsTransport?
        do {
            let dtls = try DtlsTransport(iceTransport: pc, configuration: .init(certificate: cert))
            weakDtls = dtls
            #expect(dtls.state == .new)
        }
        #expect(weakDtls == nil)
        #expect(pc.iceConnectionState == .closed)
        await pair.close()
    }

    @Test("certificates: generated P-256, PEM round trip keeps the identity, the key never shows", .timeLimit(.minutes(1)))
    func certificates() throws {
        let c = try Certificate.generate(lifetime: .seconds(3600))
        #expect(c.fingerprint.algorithm == .sha256 && c.fingerprints.map(\.algorithm) == [.sha256, .sha384, .sha512])
        #expect(c.expires > Date().addingTimeInterval(3500) && c.expires < Date().addingTimeInterval(3700))
        let pem = c.pemWithPrivateKey()
        #expect(pem.contains("BEGIN PRIVATE KEY") && pem.contains("BEGIN CERTIFICATE"))
        #expect(!c.pemCertificate.contains("PRIVATE"))
        let back = try Certificate(pem: pem)
        #expect(back.fingerprint == c.fingerprint)
        #expect(abs(back.expires.timeIntervalSince(c.expires)) < 2)
        // Key reversed order also loads.
        let parts = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----")
        #expect(try Certificate(pem: "-----BEGIN CERTIFICATE-----" + parts[1] + parts[0]).fingerprint == c.fingerprint)
        // The description shows the fingerprint, never the key.
        let keyBody = pem.components(separatedBy: "\n").dropFirst().first ?? "x"
        #expect(c.description.contains(c.fingerprint.hexValue))
        #expect(!c.description.contains("PRIVATE") && !c.description.contains(keyBody) && !"\(c)".contains(keyBody))
        // Two certificates differ.
        #expect(try Certificate.generate().fingerprint != c.fingerprint)
    }

    @Test("bad PEM and bad lifetimes are typed errors", .timeLimit(.minutes(1)))
    func badCertificates() throws {
        let a = try Certificate.generate(), b = try Certificate.generate()
        func code(_ body: () throws -> Certificate) -> (DtlsError.Code, String?)? {
            do { _ = try body() } catch let e as DtlsError { return (e.code, e.field) } catch { return nil }
            return nil
        }
        #expect(code { try Certificate(pem: "") }?.0 == .invalidCertificate)
        #expect(code { try Certificate(pem: "garbage\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }?.1 == "pem")
        #expect(code { try Certificate(pem: a.pemCertificate) }?.0 == .invalidCertificate, "no key")
        let keyOfB = b.pemWithPrivateKey().components(separatedBy: "-----BEGIN CERTIFICATE-----")[0]
        #expect(code { try Certificate(pem: keyOfB + a.pemCertificate) }?.0 == .invalidCertificate, "key of another certificate")
        #expect(code { try Certificate(pem: String(repeating: "A", count: 70_000)) }?.0 == .invalidCertificate)
        #expect(code { try Certificate.generate(lifetime: .zero) }?.1 == "lifetime")
        #expect(code { try Certificate.generate(lifetime: .seconds(20 * 365 * 86_400)) }?.1 == "lifetime")
    }

    @Test("logs never contain the private key or the keying material", .timeLimit(.minutes(1)))
    func nothingSecretInLogs() async throws {
        let lines = Box<[String]>([])
        let logger = Logger(label: "capture") { _ in CaptureHandler(lines: lines) }
        let cert = try Certificate.generate()
        let a = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]), logger: logger)
        let b = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]), logger: logger)
        let da = try DtlsTransport(iceTransport: a, configuration: .init(certificate: cert), logger: logger)
        let db = try DtlsTransport(iceTransport: b, configuration: .init(certificate: cert), logger: logger)
        try da.setRemoteParameters(try db.setRemoteParameters(da.localParameters))
        try await exchangeIce(a, b, endOfCandidates: false)
        try await da.waitUntilConnected(timeout: .seconds(10))
        let keys = try da.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 60)
        da.close()
        db.close()
        let all = lines.current.joined(separator: "\n")
        #expect(all.contains("DTLS connected"), "the capture works")
        let pemLines = cert.pemWithPrivateKey().components(separatedBy: "\n").filter { $0.count > 20 && !$0.hasPrefix("-----") }
        #expect(!pemLines.contains { all.contains($0) })
        let hex = keys.map { String(format: "%02x", $0) }.joined()
        #expect(!all.lowercased().contains(String(hex.prefix(16))))
    }
}

/// A swift-log handler that keeps every message (test only).
struct CaptureHandler: LogHandler {
    let lines: Box<[String]>
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.withLock { $0.append("\(event.level) \(self.metadata) \(event.metadata ?? [:]) \(event.message)") }
    }
}
