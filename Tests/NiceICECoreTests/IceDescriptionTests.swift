import Testing
@testable import NiceICECore

/// Real-world SDP as browsers and servers produce it (fingerprints and SSRCs shortened).
enum SampleSDP {
    static func crlf(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
    }

    /// Chrome offer after gathering: BUNDLE audio+video+data, trickle, mDNS, IPv6, TCP, srflx.
    static let chromeOffer = crlf("""
        v=0
        o=- 4611731400430051336 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1 2
        a=extmap-allow-mixed
        a=msid-semantic: WMS 3b0c3f4e-61b1-4b4f-a0c4-1e6b4f9cdb51
        m=audio 54321 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
        c=IN IP4 203.0.113.7
        a=rtcp:9 IN IP4 0.0.0.0
        a=candidate:3012461154 1 udp 2122260223 5d2a1f3c-9b7e-4c1d-8f6a-0e1b2c3d4e5f.local 54321 typ host generation 0 network-id 1
        a=candidate:2999745851 1 udp 2122197247 2001:db8::7 54322 typ host generation 0 network-id 2
        a=candidate:1467250027 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0 network-id 1
        a=candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 network-cost 10
        a=ice-ufrag:EsAw
        a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
        a=ice-options:trickle
        a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
        a=setup:actpass
        a=mid:0
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=sendrecv
        a=msid:3b0c3f4e-61b1-4b4f-a0c4-1e6b4f9cdb51 f5b2c7de-5a1c-4f9a-9a57-8a3f4c1c9e11
        a=rtcp-mux
        a=rtpmap:111 opus/48000/2
        a=rtcp-fb:111 transport-cc
        a=fmtp:111 minptime=10;useinbandfec=1
        a=ssrc:1001 cname:Q2Xq0d0dXH9kM0Yw
        m=video 9 UDP/TLS/RTP/SAVPF 96 97
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:EsAw
        a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
        a=ice-options:trickle
        a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
        a=setup:actpass
        a=mid:1
        a=sendrecv
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=ice-ufrag:EsAw
        a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
        a=ice-options:trickle
        a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08
        a=setup:actpass
        a=mid:2
        a=sctp-port:5000
        a=max-message-size:262144

        """)

    /// Chrome answer to a data-channel-only offer, candidates trickled later.
    static let chromeAnswer = crlf("""
        v=0
        o=- 8297616254839276424 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0
        a=extmap-allow-mixed
        a=msid-semantic: WMS
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 0.0.0.0
        a=ice-ufrag:k9Qz
        a=ice-pwd:u2m1zH0Tq9eS4cXlC+/5dF7a
        a=ice-options:trickle
        a=fingerprint:sha-256 1F:2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01
        a=setup:active
        a=mid:0
        a=sctp-port:5000
        a=max-message-size:262144

        """)

    /// Firefox offer: session-level ice-options, candidates before a=mid, end-of-candidates, IPv6, TCP.
    static let firefoxOffer = crlf("""
        v=0
        o=mozilla...THIS_IS_SDPARTA-128.0 5520131226458612745 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=fingerprint:sha-256 A6:1B:26:5A:7C:DD:F2:8E:2C:2B:61:0E:5C:4A:2A:C5:2E:6C:9E:3E:41:3B:AC:7A:63:84:21:6A:26:6D:8A:6B
        a=group:BUNDLE 0 1 2
        a=ice-options:trickle
        a=msid-semantic:WMS *
        m=audio 50358 UDP/TLS/RTP/SAVPF 109 9 0 8 101
        c=IN IP4 192.168.1.4
        a=candidate:0 1 UDP 2122252543 192.168.1.4 50358 typ host
        a=candidate:2 1 UDP 2122187007 2001:db8::1 50359 typ host
        a=candidate:1 1 TCP 2105524479 192.168.1.4 9 typ host tcptype active
        a=candidate:3 1 TCP 2105458943 2001:db8::1 9 typ host tcptype active
        a=candidate:4 1 UDP 1686052863 203.0.113.9 50358 typ srflx raddr 192.168.1.4 rport 50358
        a=sendrecv
        a=end-of-candidates
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
        a=ice-pwd:e3baa26dd2fa5030d881d385f1e36cce
        a=ice-ufrag:58142170
        a=mid:0
        a=msid:{5a2a1b6e-94b8-4c56-a3c2-7a3f3f6b1d9e} {0f3ad1c8-2c77-4b0d-9a55-5c4de5c2b8a0}
        a=rtcp-mux
        a=rtpmap:109 opus/48000/2
        a=setup:actpass
        a=ssrc:2755204521 cname:{7f4f5b0d-7c2c-4e4c-8cd5-6c4b7f0e2d11}
        m=video 50358 UDP/TLS/RTP/SAVPF 120 124
        c=IN IP4 192.168.1.4
        a=sendrecv
        a=end-of-candidates
        a=ice-pwd:e3baa26dd2fa5030d881d385f1e36cce
        a=ice-ufrag:58142170
        a=mid:1
        a=rtcp-mux
        a=rtpmap:120 VP8/90000
        a=setup:actpass
        m=application 50358 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 192.168.1.4
        a=sendrecv
        a=end-of-candidates
        a=ice-pwd:e3baa26dd2fa5030d881d385f1e36cce
        a=ice-ufrag:58142170
        a=mid:2
        a=setup:actpass
        a=sctp-port:5000
        a=max-message-size:1073741823

        """)

    /// Firefox answer with mDNS host candidates (the default when camera access was not granted).
    static let firefoxAnswer = crlf("""
        v=0
        o=mozilla...THIS_IS_SDPARTA-128.0 1797432245186328233 0 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=fingerprint:sha-256 3C:53:82:1A:9B:44:05:7E:3E:14:1E:F5:86:02:26:1E:5E:26:F1:CC:9D:4A:33:08:50:17:6A:3B:69:94:C8:1B
        a=group:BUNDLE 0
        a=ice-options:trickle
        a=msid-semantic:WMS *
        m=application 54400 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 203.0.113.9
        a=candidate:0 1 UDP 2122252543 0c3c4ed4-5a06-4bb6-8c9c-33b1a1ae6b1c.local 54400 typ host
        a=candidate:1 1 TCP 2105524479 0c3c4ed4-5a06-4bb6-8c9c-33b1a1ae6b1c.local 9 typ host tcptype active
        a=candidate:2 1 UDP 1686052863 203.0.113.9 54400 typ srflx raddr 0.0.0.0 rport 0
        a=sendrecv
        a=end-of-candidates
        a=ice-pwd:9f1a6d0c3b2e4f5a6b7c8d9e0f1a2b3c
        a=ice-ufrag:1a2b3c4d
        a=mid:0
        a=setup:active
        a=sctp-port:5000
        a=max-message-size:1073741823

        """)

    /// An ICE-lite server answer with session-level credentials (LF line endings).
    static let iceLiteAnswer = """
        v=0
        o=- 1000 1 IN IP4 0.0.0.0
        s=-
        t=0 0
        a=ice-lite
        a=ice-ufrag:2zfbssk2rq1xvv7k
        a=ice-pwd:f2fv6u0zrm5yzo7iqnc7sitcpzhrbrhb
        a=group:BUNDLE 0
        m=application 7 UDP/DTLS/SCTP webrtc-datachannel
        c=IN IP4 127.0.0.1
        a=mid:0
        a=candidate:udpcandidate 1 udp 1076302079 203.0.113.1 40000 typ host
        a=candidate:tcpcandidate 1 tcp 1076276479 203.0.113.1 40001 typ host tcptype passive
        a=end-of-candidates
        a=setup:passive
        a=sctp-port:5000

        """
}

@Suite("IceDescription")
struct IceDescriptionTests {
    @Test("Chrome offer: BUNDLE, trickle, mDNS, IPv6, TCP and srflx candidates", .timeLimit(.minutes(1)))
    func chromeOffer() throws {
        let ice = try IceDescription(parsing: SampleSDP.chromeOffer)
        #expect(!ice.iceLite)
        #expect(ice.usernameFragment == nil)
        #expect(ice.password == nil)
        #expect(ice.options.isEmpty)
        #expect(ice.media.count == 3)
        #expect(ice.media.map(\.mid) == ["0", "1", "2"])
        #expect(ice.media.map(\.mLineIndex) == [0, 1, 2])
        for media in ice.media {
            #expect(media.usernameFragment == "EsAw")
            #expect(media.password == "bP+XJMM09aR8AiX1jdukzR6Y")
            #expect(media.options == ["trickle"])
            #expect(!media.endOfCandidates)
            #expect(media.parameters == IceParameters(usernameFragment: "EsAw", password: "bP+XJMM09aR8AiX1jdukzR6Y"))
        }
        let audio = try #require(ice.media.first)
        #expect(audio.candidates.count == 4)
        #expect(audio.candidates.allSatisfy { $0.sdpMid == "0" && $0.sdpMLineIndex == 0 })
        #expect(audio.candidates[0].isMulticastDNS)
        #expect(audio.candidates[1].addressFamily == .ipv6)
        #expect(audio.candidates[2].tcpType == .active)
        #expect(audio.candidates[3].type == .srflx)
        #expect(audio.candidates[3].candidateLine
            == "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 network-cost 10")
        #expect(ice.media[1].candidates.isEmpty)
        #expect(ice.media[2].candidates.isEmpty)
    }

    @Test("Chrome answer without candidates", .timeLimit(.minutes(1)))
    func chromeAnswer() throws {
        let ice = try IceDescription(parsing: SampleSDP.chromeAnswer)
        #expect(ice.media.count == 1)
        let media = try #require(ice.media.first)
        #expect(media.mid == "0")
        #expect(media.usernameFragment == "k9Qz")
        #expect(media.password == "u2m1zH0Tq9eS4cXlC+/5dF7a")
        #expect(media.candidates.isEmpty)
        #expect(!media.endOfCandidates)
    }

    @Test("Firefox offer: session-level options, candidates before mid, end-of-candidates", .timeLimit(.minutes(1)))
    func firefoxOffer() throws {
        let ice = try IceDescription(parsing: SampleSDP.firefoxOffer)
        #expect(ice.options == ["trickle"])
        #expect(ice.usernameFragment == nil)
        #expect(ice.media.map(\.mid) == ["0", "1", "2"])
        #expect(ice.media.allSatisfy { $0.endOfCandidates })
        #expect(ice.media.allSatisfy { $0.options == ["trickle"] })
        #expect(ice.media.allSatisfy { $0.usernameFragment == "58142170" && $0.password == "e3baa26dd2fa5030d881d385f1e36cce" })
        let audio = try #require(ice.media.first)
        #expect(audio.candidates.map(\.candidateLine) == [
            "candidate:0 1 UDP 2122252543 192.168.1.4 50358 typ host",
            "candidate:2 1 UDP 2122187007 2001:db8::1 50359 typ host",
            "candidate:1 1 TCP 2105524479 192.168.1.4 9 typ host tcptype active",
            "candidate:3 1 TCP 2105458943 2001:db8::1 9 typ host tcptype active",
            "candidate:4 1 UDP 1686052863 203.0.113.9 50358 typ srflx raddr 192.168.1.4 rport 50358",
        ])
        // a=mid comes after the candidates in Firefox SDP; it must still be attached.
        #expect(audio.candidates.allSatisfy { $0.sdpMid == "0" && $0.sdpMLineIndex == 0 })
    }

    @Test("Firefox answer with mDNS candidates", .timeLimit(.minutes(1)))
    func firefoxAnswer() throws {
        let ice = try IceDescription(parsing: SampleSDP.firefoxAnswer)
        let media = try #require(ice.media.first)
        #expect(media.candidates.count == 3)
        #expect(media.candidates.filter(\.isMulticastDNS).count == 2)
        #expect(media.candidates[1].transport == .tcp)
        #expect(media.endOfCandidates)
        #expect(media.usernameFragment == "1a2b3c4d")
    }

    @Test("ICE-lite server answer with session-level credentials and LF endings", .timeLimit(.minutes(1)))
    func iceLite() throws {
        let ice = try IceDescription(parsing: SampleSDP.iceLiteAnswer)
        #expect(ice.iceLite)
        #expect(ice.usernameFragment == "2zfbssk2rq1xvv7k")
        #expect(ice.password == "f2fv6u0zrm5yzo7iqnc7sitcpzhrbrhb")
        let media = try #require(ice.media.first)
        #expect(media.usernameFragment == "2zfbssk2rq1xvv7k")
        #expect(media.password == "f2fv6u0zrm5yzo7iqnc7sitcpzhrbrhb")
        #expect(media.options.isEmpty)
        #expect(media.candidates.map(\.foundation) == ["udpcandidate", "tcpcandidate"])
        #expect(media.candidates[1].tcpType == .passive)
        #expect(media.endOfCandidates)
    }

    @Test("media-level values override session-level ones; session end-of-candidates applies to all", .timeLimit(.minutes(1)))
    func fallback() throws {
        let sdp = """
            v=0
            a=ice-ufrag:sess
            a=ice-pwd:sessionpasswordsession
            a=ice-options:trickle
            a=end-of-candidates
            m=audio 9 RTP/AVP 0
            a=ice-ufrag:med1
            a=ice-options:ice2 renomination
            m=video 9 RTP/AVP 96
            a=ice-pwd:mediapasswordmediapass
            """
        let ice = try IceDescription(parsing: sdp)
        #expect(ice.media.count == 2)
        #expect(ice.media[0].usernameFragment == "med1")
        #expect(ice.media[0].password == "sessionpasswordsession")
        #expect(ice.media[0].options == ["ice2", "renomination"])
        #expect(ice.media[0].mid == nil)
        #expect(ice.media[1].usernameFragment == "sess")
        #expect(ice.media[1].password == "mediapasswordmediapass")
        #expect(ice.media[1].options == ["trickle"])
        #expect(ice.media.allSatisfy { $0.endOfCandidates })
    }

    @Test("an SDP without ICE lines gives an empty description", .timeLimit(.minutes(1)))
    func empty() throws {
        #expect(try IceDescription(parsing: "") == IceDescription())
        let ice = try IceDescription(parsing: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=candidatefoo\r\nb=AS:30\r\n")
        #expect(ice == IceDescription())
    }

    /// Bad SDP, the field the error must name, and the line number it must report.
    static let rejected: [(String, String, Int)] = [
        ("v=0\nm=audio 9 RTP/AVP 0\na=ice-ufrag:abcd\na=ice-ufrag:efgh\n", "a=ice-ufrag", 4),
        ("v=0\r\na=ice-ufrag:abcd\r\na=ice-ufrag:abcd\r\n", "a=ice-ufrag", 3),
        ("v=0\nm=audio 9 RTP/AVP 0\na=ice-ufrag:abc\n", "a=ice-ufrag", 3),
        ("v=0\nm=audio 9 RTP/AVP 0\na=ice-ufrag:\n", "a=ice-ufrag", 3),
        ("v=0\nm=audio 9 RTP/AVP 0\na=ice-ufrag\n", "a=ice-ufrag", 3),
        ("v=0\nm=audio 9 RTP/AVP 0\na=ice-ufrag:ab-cd\n", "a=ice-ufrag", 3),
        ("m=audio 9 RTP/AVP 0\na=ice-pwd:tooshort\n", "a=ice-pwd", 2),
        ("m=audio 9 RTP/AVP 0\na=ice-pwd:sessionpasswordsession\na=ice-pwd:sessionpasswordsession\n", "a=ice-pwd", 3),
        ("m=audio 9 RTP/AVP 0\na=ice-pwd:session password session\n", "a=ice-pwd", 2),
        ("m=audio 9 RTP/AVP 0\na=ice-options:trickle  ice2\n", "a=ice-options", 2),
        ("m=audio 9 RTP/AVP 0\na=ice-options:\n", "a=ice-options", 2),
        ("m=audio 9 RTP/AVP 0\na=ice-options:trickle\na=ice-options:ice2\n", "a=ice-options", 3),
        ("v=0\na=candidate:1 1 UDP 1 10.0.0.1 1 typ host\n", "a=candidate", 2),
        ("m=audio 9 RTP/AVP 0\n\n\na=candidate:1 1 UDP 1 10.0.0.1 99999 typ host\n", "a=candidate", 4),
        ("m=audio 9 RTP/AVP 0\na=mid:0\na=mid:1\n", "a=mid", 3),
        ("m=audio 9 RTP/AVP 0\na=mid:\n", "a=mid", 2),
        ("m=audio 9 RTP/AVP 0\na=mid:a b\n", "a=mid", 2),
        ("m=audio 9 RTP/AVP 0\na=end-of-candidates:now\n", "a=end-of-candidates", 2),
        ("m=audio 9 RTP/AVP 0\na=end-of-candidates\na=end-of-candidates\n", "a=end-of-candidates", 3),
        ("v=0\na=ice-lite:yes\n", "a=ice-lite", 2),
    ]

    @Test("malformed ICE lines are rejected with field and line number", .timeLimit(.minutes(1)), arguments: rejected)
    func rejects(sdp: String, field: String, line: Int) {
        let error = #expect(throws: IceError.self) { try IceDescription(parsing: sdp) }
        #expect(error?.code == .invalidSDP)
        #expect(error?.field == field)
        #expect(error?.reason.hasPrefix("line \(line): ") == true, "\(error?.reason ?? "no error")")
    }

    @Test("a bad candidate reports the candidate field inside the reason", .timeLimit(.minutes(1)))
    func candidateReason() {
        let sdp = SampleSDP.chromeOffer.replacing("54322 typ host", with: "54322 typ hots", maxReplacements: 1)
        #expect(throws: IceError(
            .invalidSDP,
            field: "a=candidate",
            reason: "line 12: typ: unknown candidate type \"hots\"; expected host, srflx, prflx or relay"
        )) {
            try IceDescription(parsing: sdp)
        }
    }

    @Test("password errors never quote the password", .timeLimit(.minutes(1)))
    func passwordNotQuoted() {
        let error = #expect(throws: IceError.self) {
            try IceDescription(parsing: "m=audio 9 RTP/AVP 0\na=ice-pwd:my-secret-password-123456\n")
        }
        #expect(error.map { !String(describing: $0).contains("my-secret") } == true)
    }

    @Test("oversized SDP is refused by its length; 1 MiB is read; 64 KiB of garbage is ignored line by line", .timeLimit(.minutes(1)))
    func garbage() throws {
        // The limit is inclusive: exactly maximumLength bytes of ignorable lines are read …
        let ignorable = "a=x\r\n"
        let exact = String(repeating: ignorable, count: IceDescription.maximumLength / ignorable.utf8.count)
            + String(repeating: "\n", count: IceDescription.maximumLength % ignorable.utf8.count)
        #expect(exact.utf8.count == IceDescription.maximumLength)
        #expect(try IceDescription(parsing: exact) == IceDescription())
        // … and one byte more is refused before any line is read (the first line here is malformed,
        // so reading lines first would report it instead).
        let huge = "a=ice-ufrag:\r\n" + String(repeating: "x", count: IceDescription.maximumLength)
        #expect(throws: IceError(.invalidSDP, field: "sdp", reason: "longer than 1048576 bytes")) {
            try IceDescription(parsing: huge)
        }

        // Random bytes: lines that are not m= or a= are ignored. A random line almost never starts
        // with "a=", so the result is known: one empty media section per "m=" line.
        var generator = SeededGenerator(seed: 7)
        var checked = 0
        for _ in 0..<10 {
            let bytes = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            guard !lines.contains(where: { $0.starts(with: "a=".utf8) }) else { continue }
            let mLines = lines.filter { $0.starts(with: "m=".utf8) }.count
            let expected = IceDescription(media: (0..<mLines).map { IceDescription.Media(mLineIndex: $0) })
            #expect(try IceDescription(parsing: text) == expected)
            checked += 1
        }
        #expect(checked >= 8)
        let garbageCandidates = String(repeating: "m=audio 9 RTP/AVP 0\na=candidate:\u{1}\u{2}garbage\n", count: 2000)
        let error = #expect(throws: IceError.self) { try IceDescription(parsing: garbageCandidates) }
        #expect(error?.field == "a=candidate")
        #expect(error?.reason.hasPrefix("line 2: candidate: ") == true)
    }

    @Test("attributeLines writes the ICE lines of one media section", .timeLimit(.minutes(1)))
    func attributeLines() throws {
        let candidates = try [
            IceCandidate(parsing: "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host"),
            IceCandidate(parsing: "candidate:3 1 TCP 1015022847 127.0.0.1 9 typ host tcptype active"),
        ]
        let lines = IceDescription.attributeLines(
            ufrag: "aB3+",
            password: "J3bmVxWNPmyEk6JcKO+yCo",
            options: ["trickle", "ice2"],
            candidates: candidates,
            endOfCandidates: true
        )
        #expect(lines == """
            a=ice-ufrag:aB3+\r
            a=ice-pwd:J3bmVxWNPmyEk6JcKO+yCo\r
            a=ice-options:trickle ice2\r
            a=candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host\r
            a=candidate:3 1 TCP 1015022847 127.0.0.1 9 typ host tcptype active\r
            a=end-of-candidates\r

            """)

        let minimal = IceDescription.attributeLines(
            ufrag: "abcd", password: "J3bmVxWNPmyEk6JcKO+yCo", options: [], candidates: [], endOfCandidates: false, iceLite: true
        )
        #expect(minimal == "a=ice-lite\r\na=ice-ufrag:abcd\r\na=ice-pwd:J3bmVxWNPmyEk6JcKO+yCo\r\n")

        // What we write, we read back.
        let ice = try IceDescription(parsing: "v=0\r\n" + minimal + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n" + lines)
        #expect(ice.iceLite)
        let media = try #require(ice.media.first)
        #expect(media.usernameFragment == "aB3+")
        #expect(media.options == ["trickle", "ice2"])
        #expect(media.endOfCandidates)
        #expect(media.candidates.map(\.candidateLine) == candidates.map(\.candidateLine))
        #expect(media.candidates.allSatisfy { $0.sdpMid == "0" && $0.sdpMLineIndex == 0 })
    }

    @Test("every sample survives write-and-read of its media sections", .timeLimit(.minutes(1)), arguments: [
        SampleSDP.chromeOffer, SampleSDP.chromeAnswer, SampleSDP.firefoxOffer, SampleSDP.firefoxAnswer, SampleSDP.iceLiteAnswer,
    ])
    func rewrite(sdp: String) throws {
        let ice = try IceDescription(parsing: sdp)
        for media in ice.media {
            let ufrag = try #require(media.usernameFragment)
            let password = try #require(media.password)
            let section = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" + (media.mid.map { "a=mid:\($0)\r\n" } ?? "")
                + IceDescription.attributeLines(
                    ufrag: ufrag, password: password, options: media.options,
                    candidates: media.candidates, endOfCandidates: media.endOfCandidates
                )
            let reread = try #require(try IceDescription(parsing: section).media.first)
            #expect(reread.candidates.map(\.candidateLine) == media.candidates.map(\.candidateLine))
            #expect(reread.usernameFragment == media.usernameFragment)
            #expect(reread.password == media.password)
            #expect(reread.options == media.options)
            #expect(reread.endOfCandidates == media.endOfCandidates)
        }
    }
}
