import Testing
@testable import NiceICECore

@Suite("IceCandidate")
struct IceCandidateTests {
    /// Lines exactly as libnice, Chrome, Firefox and common servers emit them.
    static let realLines: [String] = [
        // libnice (nice_agent_generate_local_candidate_sdp)
        "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host",
        "candidate:3 1 TCP 1015022847 127.0.0.1 9 typ host tcptype active",
        "candidate:5 1 TCP 1010828543 127.0.0.1 43210 typ host tcptype passive",
        "candidate:6 1 TCP 1019216895 127.0.0.1 43211 typ host tcptype so",
        "candidate:4 1 UDP 1679819007 203.0.113.5 50000 typ srflx raddr 10.0.0.2 rport 50000",
        "candidate:7 1 UDP 8331263 198.51.100.20 61000 typ relay raddr 203.0.113.5 rport 50000",
        "candidate:8 2 UDP 2015363326 fe80::1 45679 typ host",
        // Chrome
        "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag EsAw network-id 1 network-cost 10",
        "candidate:1467250027 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0 ufrag x network-id 1",
        "candidate:3012461154 1 udp 2122260223 5d2a1f3c-9b7e-4c1d-8f6a-0e1b2c3d4e5f.local 54321 typ host generation 0 ufrag x network-id 1",
        "candidate:2999745851 1 udp 2122197247 2001:db8:85a3::8a2e:370:7334 58233 typ host generation 0 ufrag EsAw network-id 2 network-cost 50",
        "candidate:4234997325 1 udp 25108223 198.51.100.9 3478 typ relay raddr 203.0.113.7 rport 61665 generation 0 ufrag EsAw network-id 1 network-cost 10",
        "candidate:1853887674 1 udp 1845501695 203.0.113.7 61666 typ prflx raddr 192.168.1.2 rport 61666 generation 0 ufrag EsAw network-id 1",
        "candidate:2204158452 1 tcp 1518214911 2001:db8::7 9 typ host tcptype active generation 0 network-id 2",
        // Firefox
        "candidate:0 1 UDP 2122252543 192.168.1.4 50358 typ host",
        "candidate:1 1 TCP 2105524479 192.168.1.4 9 typ host tcptype active",
        "candidate:2 1 UDP 2122187007 2001:db8::1 50359 typ host",
        "candidate:3 1 UDP 1686052863 203.0.113.9 50358 typ srflx raddr 192.168.1.4 rport 50358",
        "candidate:4 1 UDP 92217087 198.51.100.7 64829 typ relay raddr 198.51.100.7 rport 64829",
        "candidate:5 1 TCP 2105458943 192.168.1.4 9 typ host tcptype active",
        "candidate:0 1 UDP 2122252543 0c3c4ed4-5a06-4bb6-8c9c-33b1a1ae6b1c.local 50358 typ host",
        // Servers
        "candidate:udpcandidate 1 udp 1076302079 203.0.113.1 40000 typ host",
        "candidate:tcpcandidate 1 tcp 1076276479 203.0.113.1 40001 typ host tcptype passive",
        "candidate:Hd9Q+/x 1 UDP 2130706431 turn.example.com 3478 typ host",
        "candidate:a 256 udp 4294967295 ::ffff:192.0.2.1 65535 typ host",
    ]

    @Test("real candidate lines round-trip byte-exactly", .timeLimit(.minutes(1)), arguments: realLines)
    func roundTrip(line: String) throws {
        let candidate = try IceCandidate(parsing: line)
        #expect(candidate.candidateLine == line)
        #expect(candidate.description == line)
        #expect(try IceCandidate(parsing: candidate.candidateLine) == candidate)
        try candidate.validate()
    }

    @Test("libnice host candidate fields", .timeLimit(.minutes(1)))
    func libniceHostFields() throws {
        let candidate = try IceCandidate(parsing: "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host")
        #expect(candidate.foundation == "1")
        #expect(candidate.component == 1)
        #expect(candidate.transport == .udp)
        #expect(candidate.priority == 2_015_363_327)
        #expect(candidate.address == "127.0.0.1")
        #expect(candidate.port == 45678)
        #expect(candidate.type == .host)
        #expect(candidate.relatedAddress == nil)
        #expect(candidate.relatedPort == nil)
        #expect(candidate.tcpType == nil)
        #expect(candidate.extensions.isEmpty)
        #expect(candidate.addressFamily == .ipv4)
        #expect(!candidate.isMulticastDNS)
    }

    @Test("Chrome srflx candidate keeps raddr, rport and extensions in order", .timeLimit(.minutes(1)))
    func chromeSrflxFields() throws {
        let candidate = try IceCandidate(
            parsing: "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag EsAw network-id 1 network-cost 10"
        )
        #expect(candidate.transport == .udp)
        #expect(candidate.type == .srflx)
        #expect(candidate.relatedAddress == "0.0.0.0")
        #expect(candidate.relatedPort == 0)
        #expect(candidate.extensions == [
            .init(name: "generation", value: "0"),
            .init(name: "ufrag", value: "EsAw"),
            .init(name: "network-id", value: "1"),
            .init(name: "network-cost", value: "10"),
        ])
    }

    @Test("TCP candidates carry their tcptype", .timeLimit(.minutes(1)), arguments: [
        ("candidate:3 1 TCP 1015022847 127.0.0.1 9 typ host tcptype active", IceCandidate.TcpType.active, UInt16(9)),
        ("candidate:3 1 tcp 1015022847 127.0.0.1 0 typ host tcptype active", .active, 0),
        ("candidate:5 1 TCP 1010828543 127.0.0.1 43210 typ host tcptype passive", .passive, 43210),
        ("candidate:6 1 TCP 1019216895 127.0.0.1 43211 typ host tcptype so", .so, 43211),
    ])
    func tcpTypes(line: String, tcpType: IceCandidate.TcpType, port: UInt16) throws {
        let candidate = try IceCandidate(parsing: line)
        #expect(candidate.transport == .tcp)
        #expect(candidate.tcpType == tcpType)
        #expect(candidate.port == port)
    }

    @Test("IPv6 address and family", .timeLimit(.minutes(1)))
    func ipv6() throws {
        let candidate = try IceCandidate(parsing: "candidate:2 1 UDP 2122187007 2001:db8::1 50359 typ host")
        #expect(candidate.address == "2001:db8::1")
        #expect(candidate.addressFamily == .ipv6)
        #expect(candidate.port == 50359)
    }

    @Test("mDNS and FQDN host names", .timeLimit(.minutes(1)))
    func hostnames() throws {
        let mdns = try IceCandidate(
            parsing: "candidate:3012461154 1 udp 2122260223 5d2a1f3c-9b7e-4c1d-8f6a-0e1b2c3d4e5f.local 54321 typ host generation 0 ufrag x network-id 1"
        )
        #expect(mdns.isMulticastDNS)
        #expect(mdns.addressFamily == .hostname)
        #expect(mdns.address == "5d2a1f3c-9b7e-4c1d-8f6a-0e1b2c3d4e5f.local")

        let fqdn = try IceCandidate(parsing: "candidate:1 1 UDP 2130706431 turn.example.com 3478 typ host")
        #expect(!fqdn.isMulticastDNS)
        #expect(fqdn.addressFamily == .hostname)
        #expect(try IceCandidate(parsing: "candidate:1 1 UDP 1 ABC.LOCAL 1 typ host").isMulticastDNS)
    }

    @Test("a= prefix, line endings and signalling metadata", .timeLimit(.minutes(1)), arguments: [
        "a=candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host\r\n",
        "a=candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host",
        "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host\n",
        "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host\r",
    ])
    func prefixesAndEndings(line: String) throws {
        let candidate = try IceCandidate(parsing: line, sdpMid: "audio", sdpMLineIndex: 2)
        #expect(candidate.candidateLine == "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host")
        #expect(candidate.sdpMid == "audio")
        #expect(candidate.sdpMLineIndex == 2)
    }

    @Test("transport spelling is kept for printing but ignored by ==", .timeLimit(.minutes(1)))
    func transportSpelling() throws {
        let upper = try IceCandidate(parsing: "candidate:1 1 UDP 1 10.0.0.1 1 typ host")
        let lower = try IceCandidate(parsing: "candidate:1 1 udp 1 10.0.0.1 1 typ host")
        let mixed = try IceCandidate(parsing: "candidate:1 1 uDp 1 10.0.0.1 1 typ host")
        #expect(upper == lower)
        #expect(upper.hashValue == lower.hashValue)
        #expect(Set([upper, lower, mixed]).count == 1)
        #expect(lower.candidateLine == "candidate:1 1 udp 1 10.0.0.1 1 typ host")
        #expect(mixed.candidateLine == "candidate:1 1 uDp 1 10.0.0.1 1 typ host")

        var changed = lower
        changed.transport = .tcp
        changed.tcpType = .passive
        #expect(changed.candidateLine == "candidate:1 1 TCP 1 10.0.0.1 1 typ host tcptype passive")
    }

    @Test("memberwise candidates print libnice style and validate", .timeLimit(.minutes(1)))
    func memberwise() throws {
        let candidate = IceCandidate(
            foundation: "4",
            priority: 1_679_819_007,
            address: "203.0.113.5",
            port: 50000,
            type: .srflx,
            relatedAddress: "10.0.0.2",
            relatedPort: 50000,
            sdpMid: "0",
            sdpMLineIndex: 0
        )
        #expect(candidate.candidateLine == "candidate:4 1 UDP 1679819007 203.0.113.5 50000 typ srflx raddr 10.0.0.2 rport 50000")
        try candidate.validate()

        let bad = IceCandidate(foundation: "bad foundation", priority: 1, address: "10.0.0.1", port: 1, type: .host)
        let error = #expect(throws: IceError.self) { try bad.validate() }
        #expect(error?.code == .invalidCandidate)
        #expect(error?.field == "foundation")

        var spaced = candidate
        spaced.extensions = [.init(name: "generation", value: "0 1")]
        #expect((#expect(throws: IceError.self) { try spaced.validate() })?.field == "extension")
        var badAddress = candidate
        badAddress.address = "10.0.0.256"
        #expect((#expect(throws: IceError.self) { try badAddress.validate() })?.field == "address")
        var badRelated = candidate
        badRelated.relatedAddress = "not an address"
        #expect((#expect(throws: IceError.self) { try badRelated.validate() })?.field == "raddr")

        let inconsistent = IceCandidate(foundation: "1", priority: 1, address: "10.0.0.1", port: 1, type: .host, tcpType: .so)
        #expect(throws: IceError(.invalidCandidate, field: "tcptype", reason: "only TCP candidates have a tcptype")) {
            try inconsistent.validate()
        }
    }

    @Test("raddr and rport may follow tcptype and extensions; printing puts them first", .timeLimit(.minutes(1)))
    func attributeOrder() throws {
        let candidate = try IceCandidate(
            parsing: "candidate:1 1 TCP 5 203.0.113.5 4000 typ srflx tcptype passive generation 0 rport 4001 raddr 10.0.0.2"
        )
        #expect(candidate.relatedAddress == "10.0.0.2")
        #expect(candidate.relatedPort == 4001)
        #expect(candidate.tcpType == .passive)
        #expect(candidate.extensions == [.init(name: "generation", value: "0")])
        #expect(candidate.candidateLine == "candidate:1 1 TCP 5 203.0.113.5 4000 typ srflx raddr 10.0.0.2 rport 4001 tcptype passive generation 0")
        #expect(try IceCandidate(parsing: candidate.candidateLine) == candidate)
    }

    @Test("raddr/rport on host candidates and unknown extensions are accepted", .timeLimit(.minutes(1)))
    func lenientParts() throws {
        let candidate = try IceCandidate(
            parsing: "candidate:1 1 UDP 1 10.0.0.1 1 typ host raddr 10.0.0.1 rport 1 x-custom some=value;ok network-cost 999"
        )
        #expect(candidate.relatedAddress == "10.0.0.1")
        #expect(candidate.relatedPort == 1)
        #expect(candidate.extensions.map(\.name) == ["x-custom", "network-cost"])
        #expect(candidate.extensions.first?.value == "some=value;ok")
    }

    @Test("boundary values are accepted", .timeLimit(.minutes(1)), arguments: [
        "candidate:1 1 UDP 1 10.0.0.1 1 typ host",
        "candidate:1 256 UDP 4294967295 10.0.0.1 65535 typ host",
        "candidate:12345678901234567890123456789012 1 UDP 1 10.0.0.1 1 typ host",
        "candidate:1 001 UDP 0000000001 10.0.0.1 00001 typ host",
        "candidate:1 1 UDP 1 255.255.255.255 1 typ host",
        "candidate:1 1 UDP 1 0.0.0.0 1 typ host",
        "candidate:1 1 UDP 1 1:2:3:4:5:6:7:8 1 typ host",
        "candidate:1 1 UDP 1 :: 1 typ host",
        "candidate:1 1 UDP 1 ::1 1 typ host",
        "candidate:1 1 UDP 1 1:: 1 typ host",
        "candidate:1 1 UDP 1 1:2:3:4:5:6:1.2.3.4 1 typ host",
        "candidate:1 1 UDP 1 FE80::ABCD:ef01 1 typ host",
        "candidate:1 1 UDP 1 localhost 1 typ host",
        "candidate:1 1 UDP 1 a-b.c1.example 1 typ host",
        "candidate:1 1 UDP 1 10.0.0.1 1 typ host generation 4294967295",
    ])
    func boundaries(line: String) throws {
        let candidate = try IceCandidate(parsing: line)
        #expect(try IceCandidate(parsing: candidate.candidateLine) == candidate)
    }

    static let base = "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host"

    /// Each line and the field its error must name.
    static let rejected: [(String, String)] = [
        // missing fields
        ("candidate:", "foundation"),
        ("candidate:1", "component"),
        ("candidate:1 1", "transport"),
        ("candidate:1 1 UDP", "priority"),
        ("candidate:1 1 UDP 2015363327", "address"),
        ("candidate:1 1 UDP 2015363327 127.0.0.1", "port"),
        ("candidate:1 1 UDP 2015363327 127.0.0.1 45678", "typ"),
        ("candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ", "typ"),
        ("1 1 UDP 2015363327 127.0.0.1 45678 typ host", "candidate"),
        ("a=cand:1 1 UDP 2015363327 127.0.0.1 45678 typ host", "candidate"),
        ("", "candidate"),
        // foundation
        ("candidate:123456789012345678901234567890123 1 UDP 1 10.0.0.1 1 typ host", "foundation"),
        ("candidate:ab-c 1 UDP 1 10.0.0.1 1 typ host", "foundation"),
        ("candidate:a_b 1 UDP 1 10.0.0.1 1 typ host", "foundation"),
        ("candidate:é 1 UDP 1 10.0.0.1 1 typ host", "foundation"),
        // component
        ("candidate:1 0 UDP 1 10.0.0.1 1 typ host", "component"),
        ("candidate:1 257 UDP 1 10.0.0.1 1 typ host", "component"),
        ("candidate:1 0001 UDP 1 10.0.0.1 1 typ host", "component"),
        ("candidate:1 x UDP 1 10.0.0.1 1 typ host", "component"),
        ("candidate:1 -1 UDP 1 10.0.0.1 1 typ host", "component"),
        // transport
        ("candidate:1 1 SCTP 1 10.0.0.1 1 typ host", "transport"),
        ("candidate:1 1 TLS 1 10.0.0.1 1 typ host", "transport"),
        ("candidate:1 1 UDP/TLS 1 10.0.0.1 1 typ host", "transport"),
        // priority
        ("candidate:1 1 UDP 0 10.0.0.1 1 typ host", "priority"),
        ("candidate:1 1 UDP 4294967296 10.0.0.1 1 typ host", "priority"),
        ("candidate:1 1 UDP 99999999999 10.0.0.1 1 typ host", "priority"),
        ("candidate:1 1 UDP 12a 10.0.0.1 1 typ host", "priority"),
        ("candidate:1 1 UDP -5 10.0.0.1 1 typ host", "priority"),
        ("candidate:1 1 UDP +5 10.0.0.1 1 typ host", "priority"),
        // address
        ("candidate:1 1 UDP 1 256.1.1.1 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1.2.3 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1.2.3.4.5 1 typ host", "address"),
        ("candidate:1 1 UDP 1 01.2.3.4 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1..3.4 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1.2.3.4. 1 typ host", "address"),
        ("candidate:1 1 UDP 1 2001:db8:::1 1 typ host", "address"),
        ("candidate:1 1 UDP 1 2001:db8::1::2 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1:2:3:4:5:6:7:8:9 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1:2:3:4:5:6:7 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1:2:3:4::5:6:7:8 1 typ host", "address"),
        ("candidate:1 1 UDP 1 12345::1 1 typ host", "address"),
        ("candidate:1 1 UDP 1 gg::1 1 typ host", "address"),
        ("candidate:1 1 UDP 1 :1 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1: 1 typ host", "address"),
        ("candidate:1 1 UDP 1 ::1.2.3 1 typ host", "address"),
        ("candidate:1 1 UDP 1 1.2.3.4::1 1 typ host", "address"),
        ("candidate:1 1 UDP 1 [2001:db8::1] 1 typ host", "address"),
        ("candidate:1 1 UDP 1 fe80::1%eth0 1 typ host", "address"),
        ("candidate:1 1 UDP 1 host_name.example 1 typ host", "address"),
        ("candidate:1 1 UDP 1 -bad.example 1 typ host", "address"),
        ("candidate:1 1 UDP 1 bad-.example 1 typ host", "address"),
        ("candidate:1 1 UDP 1 example..com 1 typ host", "address"),
        ("candidate:1 1 UDP 1 example.com. 1 typ host", "address"),
        ("candidate:1 1 UDP 1 example.123 1 typ host", "address"),
        ("candidate:1 1 UDP 1 ex*ample 1 typ host", "address"),
        ("candidate:1 1 UDP 1 \(String(repeating: "a", count: 64)).local 1 typ host", "address"),
        // port
        ("candidate:1 1 UDP 1 10.0.0.1 65536 typ host", "port"),
        ("candidate:1 1 UDP 1 10.0.0.1 123456 typ host", "port"),
        ("candidate:1 1 UDP 1 10.0.0.1 12x typ host", "port"),
        ("candidate:1 1 UDP 1 10.0.0.1 -1 typ host", "port"),
        ("candidate:1 1 UDP 1 10.0.0.1 0 typ host", "port"),
        ("candidate:1 1 TCP 1 10.0.0.1 0 typ host tcptype passive", "port"),
        // typ
        ("candidate:1 1 UDP 1 10.0.0.1 1 type host", "typ"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ local", "typ"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ HOST", "typ"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host typ relay", "typ"),
        // raddr / rport
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr", "raddr"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2", "rport"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2 generation 0", "rport"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx rport 5", "raddr"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 1.2.3 rport 5", "raddr"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2 rport 70000", "rport"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2 rport x", "rport"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2 rport 5 raddr 10.0.0.3", "raddr"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2 rport 5 rport 6", "rport"),
        // tcptype
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host tcptype active", "tcptype"),
        ("candidate:1 1 TCP 1 10.0.0.1 1 typ host", "tcptype"),
        ("candidate:1 1 TCP 1 10.0.0.1 1 typ host tcptype both", "tcptype"),
        ("candidate:1 1 TCP 1 10.0.0.1 1 typ host tcptype ACTIVE", "tcptype"),
        ("candidate:1 1 TCP 1 10.0.0.1 1 typ host tcptype active tcptype active", "tcptype"),
        // known extensions
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host generation 0 generation 0", "generation"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host generation x", "generation"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host generation 4294967296", "generation"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host network-cost -1", "network-cost"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host network-id 1 network-id 2", "network-id"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host ufrag a ufrag b", "ufrag"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host ufrag bad-ufrag", "ufrag"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host generation", "generation"),
        // unknown extensions
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host foo", "extension"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host generation 0 foo", "extension"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host foo 1 foo 2", "extension"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host fo(o 1", "extension"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host foo a\u{85}b", "extension"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host foo a\u{2028}b", "extension"),
        // spacing and control characters
        ("candidate:1  1 UDP 1 10.0.0.1 1 typ host", "component"),
        ("candidate:1 1 UDP 1 10.0.0.1 1  typ host", "typ"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host ", "extension"),
        (" candidate:1 1 UDP 1 10.0.0.1 1 typ host", "candidate"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ\thost", "candidate"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host\u{0}", "candidate"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host\u{7F}", "candidate"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host\r\nextra 1", "candidate"),
        ("candidate:1 1 UDP 1 10.0.0.1 1 typ host\n\n", "candidate"),
    ]

    @Test("invalid lines are rejected naming the field", .timeLimit(.minutes(1)), arguments: rejected)
    func rejects(line: String, field: String) {
        let error = #expect(throws: IceError.self) { try IceCandidate(parsing: line) }
        #expect(error?.code == .invalidCandidate)
        #expect(error?.field == field, "\(line.debugDescription): \(error.map(String.init(describing:)) ?? "no error")")
        #expect(error?.reason.isEmpty == false)
    }

    @Test("specific reasons", .timeLimit(.minutes(1)))
    func reasons() {
        #expect(throws: IceError(.invalidCandidate, field: "rport", reason: "raddr given without rport")) {
            try IceCandidate(parsing: "candidate:1 1 UDP 1 10.0.0.1 1 typ srflx raddr 10.0.0.2")
        }
        #expect(throws: IceError(.invalidCandidate, field: "priority", reason: "must be a number from 1 to 4294967295")) {
            try IceCandidate(parsing: "candidate:1 1 UDP 4294967296 10.0.0.1 1 typ host")
        }
        #expect(throws: IceError(.invalidCandidate, field: "typ", reason: "missing")) {
            try IceCandidate(parsing: "candidate:1 1 UDP 1 10.0.0.1 1")
        }
        #expect(throws: IceError(.invalidCandidate, field: "generation", reason: "attribute \"generation\" appears more than once")) {
            try IceCandidate(parsing: "candidate:1 1 UDP 1 10.0.0.1 1 typ host generation 0 generation 1")
        }
    }

    @Test("lines over 4096 bytes are rejected before anything else", .timeLimit(.minutes(1)))
    func tooLong() throws {
        let padding = " x-pad " + String(repeating: "a", count: 4096)
        #expect(throws: IceError(.invalidCandidate, field: "candidate", reason: "longer than 4096 bytes")) {
            try IceCandidate(parsing: Self.base + padding)
        }
        // Exactly 4096 bytes is still fine.
        let prefix = Self.base + " x-pad "
        let exact = prefix + String(repeating: "a", count: 4096 - prefix.utf8.count)
        #expect(exact.utf8.count == 4096)
        let candidate = try IceCandidate(parsing: exact)
        #expect(candidate.candidateLine == exact)
    }

    /// The longest prefix of `text` that is at most `bytes` UTF-8 bytes, cut between scalars.
    static func utf8Prefix(_ text: String, _ bytes: Int) -> String {
        var count = 0
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            count += String(scalar).utf8.count
            if count > bytes { break }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    // No clock here: the property is that an over-long line is refused by its length alone,
    // before any of its content is read, so the cost of refusing it does not depend on the content.
    @Test("64 KiB of garbage is refused by its length, before any field is read", .timeLimit(.minutes(1)))
    func garbage() {
        var generator = SeededGenerator(seed: 0x1CE)
        for round in 0..<20 {
            var bytes = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if round.isMultiple(of: 2) {
                // Starts like a candidate, so a parser reading fields first would fail on a field.
                bytes.replaceSubrange(0..<12, with: Array("a=candidate:".utf8))
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let error = #expect(throws: IceError.self) { try IceCandidate(parsing: text) }
            #expect(error?.field == "candidate")
            #expect(error?.reason == "longer than 4096 bytes")
            // Control: the same garbage within the limit is read, and fails on its content
            // instead, so the error above can only come from the length check.
            let within = Self.utf8Prefix(text, IceCandidate.maximumLineLength)
            #expect(within.utf8.count <= IceCandidate.maximumLineLength && within.utf8.count > 4000)
            let contentError = #expect(throws: IceError.self) { try IceCandidate(parsing: within) }
            #expect(contentError.map { $0.reason != "longer than 4096 bytes" } == true, "\(contentError.map { "\($0)" } ?? "")")
        }
    }

    @Test("random short garbage never crashes and round-trips when accepted", .timeLimit(.minutes(1)))
    func shortGarbage() throws {
        var generator = SeededGenerator(seed: 42)
        let alphabet = Array("0123456789 .:abcdefhlostprxyUDPTCP/+-\r\n".utf8)
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 80)
            var bytes = Array(Self.base.utf8.prefix(Int(generator.next() % 56)))
            for _ in 0..<length {
                bytes.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
            }
            let result = Result { () throws(IceError) in try IceCandidate(parsing: String(decoding: bytes, as: UTF8.self)) }
            switch result {
            case .success(let candidate):
                accepted += 1
                #expect(try IceCandidate(parsing: candidate.candidateLine) == candidate)
            case .failure(let error):
                #expect(error.field != nil)
            }
        }
        #expect(accepted > 0)
    }

    @Test("address validators", .timeLimit(.minutes(1)))
    func addressValidators() {
        func family(_ text: String) -> IceCandidate.AddressFamily? {
            CandidateGrammar.addressFamily(ArraySlice(text.utf8))
        }
        #expect(family("192.0.2.1") == .ipv4)
        #expect(family("2001:db8::1") == .ipv6)
        #expect(family("::ffff:192.0.2.1") == .ipv6)
        #expect(family("abc.local") == .hostname)
        #expect(family("1.2.3.256") == nil)
        #expect(family("1::2::3") == nil)
        #expect(family("::ffff:192.0.2.1:1") == nil)
        #expect(family("1:2:3:4:5:6:7:1.2.3.4") == nil)
        #expect(family("1:2:3:4:5:6::1.2.3.4") == nil)
        #expect(family("1:2:3:4:5::1.2.3.4") == .ipv6)
        #expect(family(String(repeating: "a.", count: 125) + "ab") == .hostname)
        #expect(family(String(repeating: "a.", count: 126) + "ab") == nil)
        #expect(family("") == nil)
    }
}


@Suite("Address scopes of remote candidates (issue 17)", .timeLimit(.minutes(1)))
struct IceAddressScopesTests {
    @Test("Every special range is classified, IPv4-mapped addresses as IPv4, ordinary and host-name addresses as unicast")
    func classification() throws {
        let cases: [(String, IceAddressScopes)] = [
            ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("::1", .loopback), ("0:0:0:0:0:0:0:1", .loopback),
            ("::ffff:127.0.0.1", .loopback), ("0.0.0.0", .unspecified), ("0.9.9.9", .unspecified), ("::", .unspecified),
            ("224.0.0.1", .multicast), ("239.1.2.3", .multicast), ("255.255.255.255", .multicast), ("ff02::fb", .multicast),
            ("FF0E::1", .multicast), ("169.254.169.254", .linkLocal), ("169.254.0.1", .linkLocal), ("fe80::1", .linkLocal),
            ("febf:ffff::1", .linkLocal), ("::ffff:169.254.1.1", .linkLocal), ("192.0.2.1", []), ("10.0.0.1", []),
            ("169.255.0.1", []), ("223.255.255.255", []), ("2001:db8::1", []), ("fec0::1", []), ("::2", []),
            ("::127.0.0.1", []), ("example.com", []), ("254.0.0.1", []),
        ]
        for (address, scope) in cases {
            #expect(IceAddressScopes(address: address) == scope, "\(address)")
        }
        let c = try IceCandidate(parsing: "candidate:1 1 UDP 2015363327 169.254.169.254 80 typ host")
        #expect(c.addressScope == .linkLocal)
        #expect(IceAddressScopes.all.description == "loopback, unspecified, multicast, link-local")
    }
}
