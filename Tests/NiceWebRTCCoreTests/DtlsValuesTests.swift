import Foundation
import NiceICECore
import NiceWebRTCCore
import Testing

/// The browser offers stored with the fuzzer's seeds (captured from Chrome and Firefox).
func sampleSDP(_ name: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("Fuzz/seed/sdp-\(name).sdp"), encoding: .utf8)
}

@Suite("DTLS values: fingerprints, roles, SDP")
struct DtlsValuesTests {
    static let chromeFingerprint =
        "sha-256 A6:1B:26:5A:7C:DD:F2:8E:2C:2B:61:0E:5C:4A:2A:C5:2E:6C:9E:3E:41:3B:AC:7A:63:84:21:6A:26:6D:8A:6B"

    @Test("a fingerprint parses in any case and prints in RFC 8122 form", .timeLimit(.minutes(1)))
    func fingerprintRoundTrip() throws {
        let f = try DtlsFingerprint(parsing: Self.chromeFingerprint.lowercased().replacingOccurrences(of: "sha-256", with: "SHA-256"))
        #expect(f.algorithm == .sha256)
        #expect(f.digest.count == 32 && f.digest[0] == 0xA6)
        #expect(f.description == Self.chromeFingerprint)
        #expect(try DtlsFingerprint(parsing: f.description) == f)
    }

    @Test("malformed fingerprints are refused with the field and what was wrong",
          .timeLimit(.minutes(1)),
          arguments: [
              ("", "expected"), ("sha-256", "expected"), ("md5 AB:CD", "hash function"), ("sha-1 " + String(repeating: "AB:", count: 19) + "AB", "hash function"),
              ("sha-256 AB:CD", "32 bytes"), ("sha-256 " + String(repeating: "AB:", count: 31) + "G1", "hex pair"),
              ("sha-256 " + String(repeating: "AB:", count: 32), "hex pair"), ("sha-256 ABC:" + String(repeating: "AB:", count: 30) + "AB", "hex pair"),
              ("sha-256 " + String(repeating: "A", count: 600), "longer"),
          ])
    func fingerprintErrors(text: String, why: String) {
        #expect {
            _ = try DtlsFingerprint(parsing: text)
        } throws: { error in
            guard let e = error as? DtlsError else { return false }
            return e.code == .invalidParameters && e.field == "fingerprint" && e.reason.contains(why)
        }
    }

    @Test("a=setup values and the answerer's choice (RFC 8842)", .timeLimit(.minutes(1)))
    func roles() throws {
        #expect(try DtlsRole(setup: "actpass") == .auto)
        #expect(try DtlsRole(setup: "ACTIVE") == .client)
        #expect(try DtlsRole(setup: "passive") == .server)
        #expect(throws: DtlsError.self) { try DtlsRole(setup: "holdconn") }
        #expect(throws: DtlsError.self) { try DtlsRole(setup: "sideways") }
        #expect(DtlsRole.answering(.auto) == .client)
        #expect(DtlsRole.answering(.client) == .server)
        #expect(DtlsRole.answering(.server) == .client)
        for r in DtlsRole.allCases { #expect(try DtlsRole(setup: r.setupValue) == r) }
    }

    @Test("Chrome's offer: per-section fingerprint and actpass", .timeLimit(.minutes(1)))
    func chromeOffer() throws {
        let d = try DtlsDescription(parsing: try sampleSDP("chromeOffer"))
        #expect(!d.media.isEmpty)
        for m in d.media {
            #expect(m.role == .auto)
            #expect(m.fingerprints.count == 1 && m.fingerprints[0].algorithm == .sha256)
        }
        let p = try d.parameters(forMid: d.media.last?.mid)
        #expect(p.role == .auto)
    }

    @Test("Firefox's offer: session-level fingerprint inherited by every section", .timeLimit(.minutes(1)))
    func firefoxOffer() throws {
        let d = try DtlsDescription(parsing: try sampleSDP("firefoxOffer"))
        #expect(d.media.count >= 1)
        #expect(d.media.allSatisfy { $0.fingerprints.first?.description == Self.chromeFingerprint && $0.role == .auto })
    }

    @Test("writing and reading the lines round-trips", .timeLimit(.minutes(1)))
    func writeRead() throws {
        let f = try DtlsFingerprint(parsing: Self.chromeFingerprint)
        let lines = DtlsDescription.attributeLines(DtlsParameters(role: .client, fingerprints: [f]))
        #expect(lines == "a=setup:active\r\na=fingerprint:\(Self.chromeFingerprint)\r\n")
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n" + lines
        let back = try DtlsDescription(parsing: sdp).parameters(forMid: "0")
        #expect(back == DtlsParameters(role: .client, fingerprints: [f]))
    }

    @Test("bad SDP lines say which line and attribute; missing values are typed errors", .timeLimit(.minutes(1)))
    func sdpErrors() throws {
        let head = "v=0\r\ns=-\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
        func sdpError(_ body: () throws -> Void) -> SdpError? {
            do { try body() } catch let error as SdpError { return error } catch { return nil }
            return nil
        }
        // A value DtlsRole / DtlsFingerprint refuse keeps their reason, with the attribute and line.
        let setup = sdpError { _ = try DtlsDescription(parsing: head + "a=setup:weird\r\n") }
        #expect(setup?.code == .invalidValue && setup?.field == "a=setup" && setup?.line == 5)
        #expect(setup?.reason == "'weird' is not actpass, active or passive")
        let fingerprint = sdpError { _ = try DtlsDescription(parsing: head + "a=fingerprint:sha-256 XY\r\n") }
        #expect(fingerprint?.code == .invalidValue && fingerprint?.field == "a=fingerprint" && fingerprint?.line == 5)
        #expect(throws: DtlsError.self) { try DtlsFingerprint(parsing: "sha-256 XY") }
        let twice = sdpError { _ = try DtlsDescription(parsing: head + "a=setup:active\r\na=setup:passive\r\n") }
        #expect(twice?.code == .malformed && twice?.field == "a=setup" && twice?.line == 6 && twice?.reason.contains("twice") == true)
        let noFingerprint = try DtlsDescription(parsing: head + "a=setup:active\r\n")
        let missing = sdpError { _ = try noFingerprint.parameters(forMid: "0") }
        #expect(missing?.code == .missing && missing?.field == "a=fingerprint" && missing?.line == nil)
        #expect(sdpError { _ = try noFingerprint.parameters(forMid: "7") }.map { $0.code == .missing && $0.field == "a=mid" } == true)
        let many = head + String(repeating: "a=fingerprint:\(Self.chromeFingerprint)\r\n", count: 9)
        let tooMany = sdpError { _ = try DtlsDescription(parsing: many) }
        #expect(tooMany?.code == .unsupported && tooMany?.line == 13 && tooMany?.reason.contains("more than") == true)
        let long = sdpError { _ = try DtlsDescription(parsing: String(repeating: "a", count: IceDescription.maximumLength + 1)) }
        #expect(long?.code == .malformed && long?.field == "sdp" && long?.line == nil)
    }

    @Test("RFC 7983 demultiplexing by the first byte", .timeLimit(.minutes(1)))
    func demux() {
        func cls(_ b: UInt8?) -> DatagramClass {
            let bytes: [UInt8] = b.map { [$0, 0, 0] } ?? []
            return bytes.withUnsafeBytes { DatagramClass(firstByteOf: $0) }
        }
        #expect(cls(nil) == .unknown)
        #expect(cls(0) == .stun && cls(3) == .stun)
        #expect(cls(16) == .zrtp && cls(19) == .zrtp)
        #expect(cls(20) == .dtls && cls(22) == .dtls && cls(23) == .dtls && cls(63) == .dtls)
        #expect(cls(64) == .turnChannel && cls(79) == .turnChannel)
        #expect(cls(128) == .rtp && cls(191) == .rtp)
        #expect(cls(4) == .unknown && cls(80) == .unknown && cls(192) == .unknown && cls(255) == .unknown)
    }
}

@Suite("PeerConnectionState: the webrtc-pc table")
struct PeerConnectionStateTests {
    @Test("every ICE × DTLS combination maps as the table's rules, in their order", .timeLimit(.minutes(1)))
    func table() {
        // Spelled out independently of the implementation's if-chain.
        let expected: [IceConnectionState: [DtlsTransportState: PeerConnectionState]] = [
            .new: [.new: .new, .connecting: .connecting, .connected: .connecting, .closed: .new, .failed: .failed],
            .checking: [.new: .connecting, .connecting: .connecting, .connected: .connecting, .closed: .connecting, .failed: .failed],
            .connected: [.new: .connecting, .connecting: .connecting, .connected: .connected, .closed: .connected, .failed: .failed],
            .completed: [.new: .connecting, .connecting: .connecting, .connected: .connected, .closed: .connected, .failed: .failed],
            .disconnected: [.new: .disconnected, .connecting: .disconnected, .connected: .disconnected, .closed: .disconnected, .failed: .failed],
            .failed: [.new: .failed, .connecting: .failed, .connected: .failed, .closed: .failed, .failed: .failed],
            .closed: [.new: .closed, .connecting: .closed, .connected: .closed, .closed: .closed, .failed: .closed],
        ]
        for ice in IceConnectionState.allCases {
            for dtls in DtlsTransportState.allCases {
                #expect(PeerConnectionState.aggregate(ice: ice, dtls: dtls) == expected[ice]?[dtls], "ICE \(ice), DTLS \(dtls)")
            }
        }
    }
}
