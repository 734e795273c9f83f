// RFC 8840 sdpfrag parsing and writing (Http/TrickleIceFragment+Parsing.swift) with the fragments
// browsers' WHIP/WHEP clients send.
import NiceWebRTC
import Testing

@testable import LiveServer

@Suite("HTTP: trickle-ice-sdpfrag")
struct HttpTrickleFragmentTests {
    /// What Chrome-based WHIP clients (e.g. the whip.js of the IETF draft's authors) send for
    /// trickle: session-level credentials, one m= section per mid.
    static let chromeTrickle = """
        a=ice-ufrag:EsAw\r
        a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r
        a=mid:0\r
        a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r
        a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2\r
        m=video 9 UDP/TLS/RTP/SAVPF 96\r
        a=mid:1\r
        a=candidate:473322822 1 udp 1686052607 203.0.113.9 61764 typ srflx raddr 192.0.2.1 rport 61764 generation 0\r
        a=end-of-candidates\r

        """

    @Test("a browser's trickle: candidates with their mid, index and ufrag; end-of-candidates")
    func browserTrickle() throws {
        let fragment = try TrickleIceFragment(parsing: Self.chromeTrickle)
        #expect(fragment.iceUfrag == "EsAw")
        #expect(fragment.icePwd == "bP+XJMM09aR8AiX1jdukzR6Y")
        #expect(fragment.endOfCandidates)
        #expect(fragment.candidates.count == 3)
        #expect(fragment.candidates.map(\.sdpMid) == ["0", "0", "1"])
        #expect(fragment.candidates.map(\.sdpMLineIndex) == [0, 0, 1])
        #expect(fragment.candidates.allSatisfy { $0.usernameFragment == "EsAw" })
        #expect(fragment.candidates[2].candidate.hasPrefix("candidate:473322822 1 udp 1686052607 203.0.113.9 61764 typ srflx"))
    }

    @Test("RFC 8840's own example: media-level credentials, LF line ends, an mDNS candidate")
    func mediaLevelCredentials() throws {
        let text = "a=ice-options:trickle ice2\na=group:BUNDLE 0\nm=audio 9 RTP/AVP 0\na=mid:0\na=ice-ufrag:EsAw\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\na=candidate:1 1 UDP 2130706431 6f1b1a0c-4c1e-4f5d-8e5d-2b8d1d2c2a43.local 39132 typ host\n"
        let fragment = try TrickleIceFragment(parsing: text)
        #expect(fragment.iceUfrag == "EsAw")
        #expect(fragment.icePwd == "P2uYro0UCOQ4zxjKXaWCBui1")
        #expect(!fragment.endOfCandidates)
        #expect(fragment.candidates == [IceCandidateInit(
            candidate: "candidate:1 1 UDP 2130706431 6f1b1a0c-4c1e-4f5d-8e5d-2b8d1d2c2a43.local 39132 typ host",
            sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "EsAw")])
    }

    @Test("an ICE restart fragment (credentials only), end-of-candidates alone, an empty body")
    func minimalFragments() throws {
        let restart = try TrickleIceFragment(parsing: "a=ice-ufrag:ZZZZ\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n")
        #expect(restart == TrickleIceFragment(iceUfrag: "ZZZZ", icePwd: "abcdefghijklmnopqrstuvwx", candidates: [], endOfCandidates: false))
        let end = try TrickleIceFragment(parsing: "a=end-of-candidates")
        #expect(end == TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: [], endOfCandidates: true))
        #expect(try TrickleIceFragment(parsing: "") == TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: [], endOfCandidates: false))
        // A candidate before any m= line belongs to the first section.
        let bare = try TrickleIceFragment(parsing: "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n")
        #expect(bare.candidates.first?.sdpMLineIndex == 0)
        #expect(bare.candidates.first?.sdpMid == nil)
    }

    @Test("every malformed field is a 400 naming it", arguments: [
        ("a=ice-ufrag:ab", "a=ice-ufrag"),
        ("a=ice-ufrag:abc!", "a=ice-ufrag"),
        ("a=ice-pwd:short", "a=ice-pwd"),
        ("a=ice-ufrag:abcd\r\na=ice-ufrag:efgh", "a=ice-ufrag"),
        ("a=ice-ufrag:abcd\r\nm=audio 9 X 0\r\na=ice-ufrag:efgh", "a=ice-ufrag"),
        ("a=mid:0", "a=mid"),
        ("m=audio 9 X 0\r\na=mid:", "a=mid"),
        ("m=audio 9 X 0\r\na=mid:0\r\na=mid:1", "a=mid"),
        ("m=audio", "m="),
        ("m=bogus 9 X 0", "m="),
        ("a=candidate", "a=candidate"),
        ("a=candidate:1 1 udp 1 127.0.0.1 9 host", "a=candidate"),
        ("a=candidate:1 0 udp 1 127.0.0.1 9 typ host", "component"),
        ("a=candidate:1 1 udp 99999999999 127.0.0.1 9 typ host", "priority"),
        ("a=candidate:1 1 udp 1 127.0.0.1 70000 typ host", "port"),
        ("a=candidate:1 1 udp 1 127.0.0.1 9 typ bogus", "type"),
        ("a=candidate:1 1 udp 1 127.0.0.1 9 type host", "typ"),
        ("hello", "type>=<value"),
        ("A=x", "type>=<value"),
    ])
    func malformed(text: String, field: String) {
        #expect {
            try TrickleIceFragment(parsing: text)
        } throws: { error in
            guard case .badRequest(let message) = error as? LiveError else { return false }
            return message.contains(field)
        }
    }

    @Test("bounded: too many lines, too long a line")
    func bounds() {
        let many = String(repeating: "a=x\r\n", count: TrickleIceFragment.maxLines + 1)
        #expect(throws: LiveError.self) { try TrickleIceFragment(parsing: many) }
        let long = "a=candidate:1 1 udp 1 " + String(repeating: "x", count: 2000) + " 9 typ host"
        #expect(throws: LiveError.badRequest("sdpfrag line 1: longer than 1024 bytes")) { try TrickleIceFragment(parsing: long) }
    }

    @Test("the server's fragment round-trips: credentials, sections by mid, end-of-candidates")
    func roundTrip() throws {
        let fragment = TrickleIceFragment(
            iceUfrag: "srvA", icePwd: "serverpasswordserverpassword",
            candidates: [
                IceCandidateInit(candidate: "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", sdpMid: "0", sdpMLineIndex: 0),
                IceCandidateInit(candidate: "2 1 udp 2130706430 127.0.0.1 40001 typ host", sdpMid: "1", sdpMLineIndex: 1),
            ],
            endOfCandidates: true)
        let text = fragment.sdpFragment
        #expect(text.hasPrefix("a=ice-ufrag:srvA\r\na=ice-pwd:serverpasswordserverpassword\r\nm="))
        #expect(text.contains("a=candidate:2 1 udp 2130706430 127.0.0.1 40001 typ host\r\n"))
        let parsed = try TrickleIceFragment(parsing: text)
        #expect(parsed.iceUfrag == "srvA")
        #expect(parsed.endOfCandidates)
        #expect(parsed.candidates.map(\.candidate) == [
            "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", "candidate:2 1 udp 2130706430 127.0.0.1 40001 typ host",
        ])
        #expect(parsed.candidates.map(\.sdpMid) == ["0", "1"])
        #expect(TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: [], endOfCandidates: true).sdpFragment == "a=end-of-candidates\r\n")
    }
}
