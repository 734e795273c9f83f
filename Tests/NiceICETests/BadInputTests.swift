import Testing

@testable import NiceICE

@Suite("Bad input: typed errors, nothing lost", .timeLimit(.minutes(1)))
struct BadInputTests {
    static func configuration(_ edit: (inout IceTransport.Configuration) -> Void) -> IceTransport.Configuration {
        var c = Loopback.configuration(.controlling)
        edit(&c)
        return c
    }

    static func expectError(
        _ code: IceError.Code, field: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("no error thrown", sourceLocation: sourceLocation)
        } catch let error as IceError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.reason.isEmpty, sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(
        "Malformed STUN/TURN URLs and unknown schemes name the part that is wrong",
        arguments: [
            ("http://example.com", "scheme"),
            ("stuns:example.com", "scheme"),
            ("stun", "url"),
            ("stun:", "host"),
            ("stun://example.com", "url"),
            ("stun:exa mple.com", "host"),
            ("stun:example.com:0", "port"),
            ("stun:example.com:70000", "port"),
            ("stun:example.com:abc", "port"),
            ("stun:[::1", "host"),
            ("stun:::1:3478", "host"),
            ("stun:example.com?transport=udp", "transport"),
            ("turn:example.com?transport=sctp", "transport"),
            ("turn:example.com?foo=bar", "transport"),
            ("turns:example.com?transport=udp", "transport"),
        ])
    func badURLs(url: String, field: String) {
        Self.expectError(.invalidIceServer, field: field) {
            _ = try IceTransport(configuration: Self.configuration {
                $0.iceServers = [IceServer(url: url, username: "u", credential: "p")]
            })
        }
    }

    @Test("Good URLs parse with RFC 7064/7065 defaults")
    func goodURLs() throws {
        #expect(try IceServerURL(parsing: "stun:127.0.0.1").port == 3478)
        #expect(try IceServerURL(parsing: "turns:turn.example.com").port == 5349)
        #expect(try IceServerURL(parsing: "turns:turn.example.com").transport == .tcp)
        #expect(try IceServerURL(parsing: "turn:[::1]:3479?transport=tcp") == IceServerURL(parsing: "turn:[::1]:3479?transport=tcp"))
        let v6 = try IceServerURL(parsing: "turn:[::1]:3479?transport=tcp")
        #expect(v6.host == "::1" && v6.port == 3479 && v6.transport == .tcp)
    }

    @Test("TURN without credentials names the missing field; the credential never shows in descriptions")
    func turnCredentials() {
        Self.expectError(.invalidIceServer, field: "username") {
            _ = try IceTransport(configuration: Self.configuration { $0.iceServers = [IceServer(url: "turn:127.0.0.1")] })
        }
        Self.expectError(.invalidIceServer, field: "credential") {
            _ = try IceTransport(configuration: Self.configuration {
                $0.iceServers = [IceServer(url: "turn:127.0.0.1", username: "u")]
            })
        }
        let server = IceServer(url: "turn:127.0.0.1", username: "alice", credential: "s3cret-pass")
        #expect(!server.description.contains("s3cret-pass"))
        #expect(!"\(IceParameters(usernameFragment: "abcd", password: "0123456789abcdefghijkl"))".contains("0123456789abcdefghijkl"))
    }

    @Test("Configuration values out of range")
    func badConfiguration() {
        Self.expectError(.invalidConfiguration, field: "portRange") {
            _ = try IceTransport(configuration: Self.configuration { $0.portRange = .init(50000, 40000) })
        }
        Self.expectError(.invalidConfiguration, field: "componentCount") {
            _ = try IceTransport(configuration: Self.configuration { $0.componentCount = 3 })
        }
        Self.expectError(.invalidConfiguration, field: "iceTransportPolicy") {
            _ = try IceTransport(configuration: Self.configuration { $0.iceTransportPolicy = .relay })
        }
    }

    @Test("A connected IceTransport rejects bad signalling with typed errors and keeps working")
    func connectedKeepsWorking() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let pc = pair.left.pc

        Self.expectError(.invalidCandidate, field: "port") { try pc.addIceCandidate("candidate:1 1 UDP 2015363327 127.0.0.1 99999 typ host") }
        Self.expectError(.invalidCandidate, field: "typ") { try pc.addIceCandidate("candidate:1 1 UDP 2015363327 127.0.0.1 5000 typ bogus") }
        Self.expectError(.invalidCandidate, field: "component") {
            try pc.addIceCandidate("candidate:1 2 UDP 2015363327 127.0.0.1 5000 typ host")
        }
        do {
            try pc.addIceCandidate("garbage")
            Issue.record("garbage accepted")
        } catch {
            #expect(error.code == .invalidCandidate)
        }
        Self.expectError(.invalidParameters, field: "ufrag") { try pc.setRemoteParameters(IceParameters(usernameFragment: "", password: "0123456789abcdefghijkl")) }
        Self.expectError(.invalidParameters, field: "ufrag") {
            try pc.setRemoteParameters(IceParameters(usernameFragment: String(repeating: "a", count: 257), password: "0123456789abcdefghijkl"))
        }
        Self.expectError(.invalidParameters, field: "password") { try pc.setRemoteParameters(IceParameters(usernameFragment: "abcd", password: "")) }
        Self.expectError(.invalidParameters, field: "password") {
            try pc.setRemoteParameters(IceParameters(usernameFragment: "abcd", password: String(repeating: "p", count: 300)))
        }
        Self.expectError(.datagramTooLarge, field: "bytes") { try pc.send([UInt8](repeating: 1, count: 70_000)) }

        // Still connected (after a barrier through the context thread and the handler queue: any
        // state change the bad calls set off has been delivered), still carrying data both ways.
        await pair.left.settle()
        await pair.right.settle()
        #expect(pc.iceConnectionState == .completed)
        #expect(pair.left.states == [.checking, .connected, .completed])
        try pc.send([42])
        try pair.right.pc.send([43])
        #expect(await pair.right.waitForDatagrams(1))
        #expect(await pair.left.waitForDatagrams(1))
        await pair.closeBoth()
    }

    @Test("Remote candidate flood: past the per-component limit addIceCandidate throws instead of growing")
    func candidateFlood() async throws {
        let pc = try IceTransport(configuration: Loopback.configuration(.controlled))
        let limit = pc.configuration.maximumRemoteCandidates
        for i in 0..<limit {
            try pc.addIceCandidate("candidate:\(i) 1 UDP 2015363327 127.0.0.1 \(10000 + i) typ host")
        }
        var rejected = 0
        for i in 0..<1000 {
            do {
                try pc.addIceCandidate("candidate:x\(i) 1 UDP 2015363327 127.0.0.1 \(20000 + i) typ host")
            } catch {
                #expect(error.code == .tooManyCandidates)
                rejected += 1
            }
        }
        #expect(rejected == 1000)
        await pc.closeAndWait()
    }

    @Test("mDNS .local candidates are skipped without an error: not added, not counted, the real ones still connect")
    func mdnsSkipped() async throws {
        // R accepts a single remote candidate. If an mDNS candidate took a slot (or reached libnice),
        // L's real host candidate would be refused with tooManyCandidates and R would not list it.
        var r = Loopback.configuration(.controlled)
        r.maximumRemoteCandidates = 1
        let pair = try Loopback(
            right: r, leftToRight: Signalling(candidates: false, endOfCandidates: false),
            rightToLeft: Signalling(candidates: false, endOfCandidates: false))
        try pair.start()
        // Both have gathered (end-of-candidates delivered locally) before anything is exchanged.
        #expect(await pair.left.waitForEndOfCandidates())
        #expect(await pair.right.waitForEndOfCandidates())
        let lc = try #require(pair.left.localCandidates.first)
        let rc = try #require(pair.right.localCandidates.first)

        let mdns = [
            "candidate:3012461154 1 udp 2122260223 5d2a1f3c-9b7e-4c1d-8f6a-0e1b2c3d4e5f.local 54321 typ host generation 0",
            "candidate:3012461155 1 udp 2122260222 0C3C4ED4-5A06-4BB6-8C9C-33B1A1AE6B1C.LOCAL 54322 typ host",
        ]
        for line in mdns { try pair.right.pc.addIceCandidate(line) }
        // stats() reads libnice on the context thread after the adds queued there: nothing arrived.
        let before = await pair.right.pc.stats()
        #expect(before.remoteCandidates.isEmpty, "\(before.remoteCandidates)")
        #expect(pair.right.pc.iceConnectionState == .new)

        try pair.right.pc.addIceCandidate(lc)  // the one slot is still free
        try pair.left.pc.addIceCandidate(rc)
        try pair.left.pc.addIceCandidate(nil)
        try pair.right.pc.addIceCandidate(nil)
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let after = await pair.right.pc.stats()
        #expect(!after.remoteCandidates.contains { $0.isMulticastDNS }, "\(after.remoteCandidates)")
        #expect(after.remoteCandidates.contains { $0.type == .host && $0.address == lc.address && $0.port == lc.port },
                "\(after.remoteCandidates)")
        #expect(after.selectedPairs.first?.remote.port == lc.port)
        // The slot is taken now: the limit is really 1, so the mDNS lines above were not counted.
        Self.expectError(.tooManyCandidates, field: "component") {
            try pair.right.pc.addIceCandidate("candidate:9 1 UDP 2015363327 127.0.0.1 9 typ host")
        }
        await pair.closeBoth()
    }
}
