import Testing
@testable import NiceICECore

@Suite("IceAnswer")
struct IceAnswerTests {
    static let local = IceParameters(usernameFragment: "nIce", password: "J3bmVxWNPmyEk6JcKO+yCo")

    static func localCandidates() throws -> [IceCandidate] {
        try [
            IceCandidate(parsing: "candidate:1 1 UDP 2015363327 192.0.2.10 45678 typ host"),
            IceCandidate(parsing: "candidate:2 1 TCP 1015022847 192.0.2.10 9 typ host tcptype active"),
            IceCandidate(parsing: "candidate:3 1 UDP 1679819007 198.51.100.7 45678 typ srflx raddr 192.0.2.10 rport 45678"),
        ]
    }

    /// A whole answer around the ICE part, as a caller would splice it (DTLS and codecs left out).
    static func splice(_ answer: IceAnswer) -> String {
        var sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + answer.sessionLines
        for section in answer.media {
            sdp += "m=\(section.kind) \(section.isAccepted ? 9 : 0) UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\n"
            if let mid = section.mid { sdp += "a=mid:\(mid)\r\n" }
            sdp += section.attributeLines
        }
        return sdp
    }

    @Test("browser offers: every mid answered, one ufrag/pwd, candidates only in the first, round trip", .timeLimit(.minutes(1)), arguments: [
        ("chromeOffer", SampleSDP.chromeOffer), ("firefoxOffer", SampleSDP.firefoxOffer),
    ])
    func browserOffer(name: String, sample: String) throws {
        let sdp = try SeedSDP.read(name)
        #expect(sdp == sample)
        let offer = try IceDescription(parsing: sdp)
        let candidates = try Self.localCandidates()
        let answer = try IceAnswer(offer: offer, parameters: Self.local, candidates: candidates, endOfCandidates: true)

        #expect(answer.media.map(\.mid) == offer.media.map(\.mid))
        #expect(answer.media.map(\.kind) == ["audio", "video", "application"])
        #expect(answer.media.allSatisfy { $0.isAccepted })
        #expect(answer.bundleGroup == ["0", "1", "2"])
        #expect(answer.groupLine == "a=group:BUNDLE 0 1 2\r\n")
        #expect(answer.sessionLines == answer.groupLine)
        #expect(answer.transportMLineIndex == 0)
        #expect(answer.transportMid == "0")
        #expect(answer.role == .controlled)
        #expect(!answer.iceLite)
        let remote = try #require(answer.remoteTransport)
        #expect(remote == offer.media[0])
        #expect(remote.parameters == offer.transportMedia(for: "2")?.parameters)
        #expect(answer.attributeLines(mid: "1") == "a=ice-ufrag:nIce\r\na=ice-pwd:J3bmVxWNPmyEk6JcKO+yCo\r\na=ice-options:trickle\r\n")
        #expect(answer.attributeLines(mid: "7") == nil)

        let reread = try IceDescription(parsing: Self.splice(answer))
        #expect(reread.bundleGroups == [["0", "1", "2"]])
        #expect(reread.media.map(\.mid) == ["0", "1", "2"])
        #expect(reread.media.allSatisfy { $0.parameters == Self.local && $0.options == ["trickle"] && !$0.isRejected })
        #expect(reread.media[0].candidates.map(\.candidateLine) == candidates.map(\.candidateLine))
        #expect(reread.media[0].candidates.allSatisfy { $0.sdpMid == "0" && $0.sdpMLineIndex == 0 })
        #expect(reread.media[0].endOfCandidates)
        #expect(reread.media.dropFirst().allSatisfy { $0.candidates.isEmpty && !$0.endOfCandidates })
        #expect(reread.transportMedia(for: "2")?.parameters == Self.local)
        #expect(!reread.iceLite)
    }

    @Test("without candidates yet: no candidate and no end-of-candidates lines anywhere", .timeLimit(.minutes(1)))
    func trickleOnly() throws {
        let answer = try IceAnswer(offer: IceDescription(parsing: SampleSDP.chromeOffer), parameters: Self.local)
        let reread = try IceDescription(parsing: Self.splice(answer))
        #expect(reread.media.allSatisfy { $0.candidates.isEmpty && !$0.endOfCandidates && $0.parameters == Self.local })
    }

    @Test("a section the offer rejects (port 0) is rejected and left out of the group", .timeLimit(.minutes(1)))
    func offerRejectsSection() throws {
        let sdp = SampleSDP.chromeOffer.replacing("m=video 9 ", with: "m=video 0 ")
        let answer = try IceAnswer(offer: IceDescription(parsing: sdp), parameters: Self.local, candidates: Self.localCandidates())
        #expect(answer.media.map(\.isAccepted) == [true, false, true])
        #expect(answer.media[1].attributeLines.isEmpty)
        #expect(answer.bundleGroup == ["0", "2"])
        let reread = try IceDescription(parsing: Self.splice(answer))
        #expect(reread.bundleGroups == [["0", "2"]])
        #expect(reread.media.map(\.isRejected) == [false, true, false])
        #expect(reread.media[1].parameters == nil)
        #expect(reread.media[2].parameters == Self.local)
        #expect(reread.media[0].candidates.count == 3)
    }

    @Test("seed: a renegotiation offer whose stopped video section has port 0 and left the group", .timeLimit(.minutes(1)))
    func stoppedVideoSeed() throws {
        let offer = try IceDescription(parsing: SeedSDP.read("chromeOfferStoppedVideo"))
        #expect(offer.bundleGroups == [["0", "2"]])
        #expect(offer.media.map(\.isRejected) == [false, true, false])
        #expect(offer.transportMedia(for: "1")?.mid == "1")
        let answer = try IceAnswer(offer: offer, parameters: Self.local, candidates: Self.localCandidates())
        #expect(answer.media.map(\.isAccepted) == [true, false, true])
        #expect(answer.groupLine == "a=group:BUNDLE 0 2\r\n")
        let reread = try IceDescription(parsing: Self.splice(answer))
        #expect(reread.bundleGroups == [["0", "2"]])
        #expect(reread.media.map(\.isRejected) == [false, true, false])
        #expect(reread.media.map { $0.candidates.count } == [3, 0, 0])
    }

    @Test("seed: a max-bundle offer with bundle-only sections", .timeLimit(.minutes(1)))
    func bundleOnlySeed() throws {
        let offer = try IceDescription(parsing: SeedSDP.read("bundleOnlyOffer"))
        #expect(offer.media.map(\.port) == [56500, 0, 0])
        #expect(offer.media.map(\.bundleOnly) == [false, true, true])
        let answer = try IceAnswer(offer: offer, parameters: Self.local)
        #expect(answer.bundleGroup == ["a1", "v1", "d1"])
        #expect(answer.media.allSatisfy { $0.isAccepted })
        let remote = try #require(answer.remoteTransport)
        #expect(remote.mid == "a1")
        #expect(remote.options == ["trickle", "ice2"])
        #expect(remote.candidates.count == 1)
        #expect(remote.endOfCandidates)
    }

    @Test("seed: an offer whose BUNDLE group names an unknown mid is rejected", .timeLimit(.minutes(1)))
    func unknownMidSeed() throws {
        let sdp = try SeedSDP.read("bundleUnknownMid")
        #expect(throws: IceError(.invalidSDP, field: "a=group", reason: "line 5: BUNDLE names mid \"1\", but no media section has it")) {
            try IceDescription(parsing: sdp)
        }
    }

    @Test("the caller may reject sections, but not the BUNDLE tag alone", .timeLimit(.minutes(1)))
    func callerRejects() throws {
        let offer = try IceDescription(parsing: SampleSDP.firefoxOffer)
        let noVideo = try IceAnswer(offer: offer, parameters: Self.local, rejecting: ["1"])
        #expect(noVideo.media.map(\.isAccepted) == [true, false, true])
        #expect(noVideo.bundleGroup == ["0", "2"])

        let error = #expect(throws: IceError.self) {
            try IceAnswer(offer: offer, parameters: Self.local, rejecting: ["0", "1"])
        }
        #expect(error?.code == .invalidSDP)
        #expect(error?.field == "a=group")
        #expect(error?.reason.contains("RFC 8843 §7.3.3") == true)

        let none = try IceAnswer(offer: offer, parameters: Self.local, candidates: Self.localCandidates(), rejecting: ["0", "1", "2"])
        #expect(none.media.allSatisfy { !$0.isAccepted && $0.attributeLines.isEmpty })
        #expect(none.bundleGroup.isEmpty)
        #expect(none.sessionLines.isEmpty)
        #expect(none.transportMLineIndex == nil)
        #expect(none.transportMid == nil)
        #expect(none.remoteTransport == nil)
        #expect(try none.trickled(Self.localCandidates()[0]) == nil)
        let reread = try IceDescription(parsing: Self.splice(none))
        #expect(reread.bundleGroups.isEmpty)
        #expect(reread.media.allSatisfy { $0.isRejected })
    }

    @Test("an offer whose BUNDLE tag has port 0 (without bundle-only) cannot be answered with the rest", .timeLimit(.minutes(1)))
    func offerRejectsTag() throws {
        let sdp = SampleSDP.chromeOffer.replacing("m=audio 54321 ", with: "m=audio 0 ")
        let error = #expect(throws: IceError.self) {
            try IceAnswer(offer: IceDescription(parsing: sdp), parameters: Self.local)
        }
        #expect(error?.field == "a=group")
        #expect(error?.reason.contains("rejected by the offer (port 0)") == true)
    }

    @Test("bundle-only sections (port 0) are accepted into the group", .timeLimit(.minutes(1)))
    func bundleOnly() throws {
        let sdp = SampleSDP.chromeOffer
            .replacing("m=video 9 ", with: "m=video 0 ")
            .replacing("a=mid:1\r\n", with: "a=mid:1\r\na=bundle-only\r\n")
        let answer = try IceAnswer(offer: IceDescription(parsing: sdp), parameters: Self.local)
        #expect(answer.media.allSatisfy { $0.isAccepted })
        #expect(answer.bundleGroup == ["0", "1", "2"])
        // Without a BUNDLE group a bundle-only section cannot be accepted.
        let unbundled = "v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a\r\na=ice-ufrag:abcd\r\na=ice-pwd:sessionpasswordsession\r\n"
            + "m=video 0 RTP/AVP 96\r\na=mid:v\r\na=bundle-only\r\n"
        let other = try IceAnswer(offer: IceDescription(parsing: unbundled), parameters: Self.local)
        #expect(other.media.map(\.isAccepted) == [true, false])
    }

    @Test("without BUNDLE: the first usable section gets the transport, the others are rejected", .timeLimit(.minutes(1)))
    func unbundled() throws {
        let sdp = """
            v=0
            a=ice-ufrag:sess
            a=ice-pwd:sessionpasswordsession
            m=audio 0 RTP/AVP 0
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel
            a=candidate:1 1 UDP 2015363327 192.0.2.1 45678 typ host
            m=video 9 RTP/AVP 96
            """
        let answer = try IceAnswer(offer: IceDescription(parsing: sdp), parameters: Self.local, candidates: Self.localCandidates())
        #expect(answer.media.map(\.isAccepted) == [false, true, false])
        #expect(answer.transportMLineIndex == 1)
        #expect(answer.transportMid == nil)
        #expect(answer.bundleGroup.isEmpty)
        #expect(answer.groupLine.isEmpty)
        #expect(answer.remoteTransport?.parameters == IceParameters(usernameFragment: "sess", password: "sessionpasswordsession"))
        #expect(answer.remoteTransport?.candidates.count == 1)
        let trickled = try #require(try answer.trickled(Self.localCandidates()[0]))
        #expect(trickled.sdpMid == nil)
        #expect(trickled.sdpMLineIndex == 1)
        let reread = try IceDescription(parsing: Self.splice(answer))
        #expect(reread.media[1].candidates.count == 3)
        #expect(reread.media.map(\.isRejected) == [true, false, true])
    }

    @Test("ICE-lite: a=ice-lite at session level; the role follows RFC 8445 §6.1.1", .timeLimit(.minutes(1)))
    func iceLite() throws {
        let browser = try IceDescription(parsing: SampleSDP.chromeOffer)
        let lite = try IceAnswer(offer: browser, parameters: Self.local, candidates: Self.localCandidates(), endOfCandidates: true, iceLite: true)
        #expect(lite.sessionLines == "a=ice-lite\r\na=group:BUNDLE 0 1 2\r\n")
        #expect(lite.role == .controlled)
        #expect(lite.media.allSatisfy { !$0.attributeLines.contains("ice-lite") })
        #expect(try IceDescription(parsing: Self.splice(lite)).iceLite)

        // A full agent answering an ICE-lite offerer controls.
        let liteOffer = try IceDescription(parsing: SampleSDP.iceLiteAnswer)
        let full = try IceAnswer(offer: liteOffer, parameters: Self.local)
        #expect(full.role == .controlling)
        #expect(full.bundleGroup == ["0"])
        #expect(full.remoteTransport?.usernameFragment == "2zfbssk2rq1xvv7k")
        #expect(try IceAnswer(offer: liteOffer, parameters: Self.local, iceLite: true).role == .controlled)
    }

    @Test("trickled candidates: ours carry the transport's mid; theirs are routed by mid or m-line index", .timeLimit(.minutes(1)))
    func trickle() throws {
        let answer = try IceAnswer(offer: IceDescription(parsing: SampleSDP.chromeOffer), parameters: Self.local)
        let local = try #require(try answer.trickled(Self.localCandidates()[2]))
        #expect(local.sdpMid == "0")
        #expect(local.sdpMLineIndex == 0)
        #expect(local.candidateLine == (try Self.localCandidates()[2].candidateLine))

        let line = "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0"
        #expect(try answer.isTransportCandidate(IceCandidate(parsing: line, sdpMid: "0", sdpMLineIndex: 0)))
        #expect(try answer.isTransportCandidate(IceCandidate(parsing: line, sdpMLineIndex: 0)))
        // Bundled into the transport: the offerer's provisional per-section transport, dropped.
        #expect(try !answer.isTransportCandidate(IceCandidate(parsing: line, sdpMid: "1", sdpMLineIndex: 1)))
        #expect(try !answer.isTransportCandidate(IceCandidate(parsing: line, sdpMLineIndex: 2)))
        // sdpMid wins over sdpMLineIndex, as in W3C addIceCandidate.
        #expect(try !answer.isTransportCandidate(IceCandidate(parsing: line, sdpMid: "2", sdpMLineIndex: 0)))

        let unknown = #expect(throws: IceError.self) { try answer.isTransportCandidate(IceCandidate(parsing: line, sdpMid: "9")) }
        #expect(unknown?.code == .invalidCandidate)
        #expect(unknown?.field == "sdpMid")
        let outOfRange = #expect(throws: IceError.self) { try answer.isTransportCandidate(IceCandidate(parsing: line, sdpMLineIndex: 3)) }
        #expect(outOfRange?.field == "sdpMLineIndex")
        let neither = #expect(throws: IceError.self) { try answer.isTransportCandidate(IceCandidate(parsing: line)) }
        #expect(neither?.field == "sdpMid")
    }

    @Test("bad inputs give typed errors", .timeLimit(.minutes(1)))
    func badInputs() throws {
        let offer = try IceDescription(parsing: SampleSDP.chromeOffer)
        let ufrag = #expect(throws: IceError.self) {
            try IceAnswer(offer: offer, parameters: IceParameters(usernameFragment: "ab", password: Self.local.password))
        }
        #expect(ufrag?.code == .invalidParameters)
        #expect(ufrag?.field == "ufrag")
        let options = #expect(throws: IceError.self) {
            try IceAnswer(offer: offer, parameters: Self.local, options: ["trickle\r\na=evil"])
        }
        #expect(options?.field == "options")
        var injected = try Self.localCandidates()[0]
        injected.extensions = [.init(name: "generation", value: "0\r\na=evil")]
        let candidate = #expect(throws: IceError.self) {
            try IceAnswer(offer: offer, parameters: Self.local, candidates: [injected])
        }
        #expect(candidate?.code == .invalidCandidate)

        let noPassword = "v=0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
        #expect(throws: IceError(.invalidSDP, field: "a=ice-pwd", reason: "the offer's transport section (mid \"0\") has no a=ice-pwd")) {
            try IceAnswer(offer: IceDescription(parsing: noPassword), parameters: Self.local)
        }
        let noUfrag = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        #expect(throws: IceError(.invalidSDP, field: "a=ice-ufrag", reason: "the offer's transport section (m-line 0) has no a=ice-ufrag")) {
            try IceAnswer(offer: IceDescription(parsing: noUfrag), parameters: Self.local)
        }

        // A description built by hand whose BUNDLE tag names no section.
        let handMade = IceDescription(
            media: [.init(mid: "1", mLineIndex: 0, usernameFragment: "abcd", password: "sessionpasswordsession")],
            bundleGroups: [["0", "1"]]
        )
        let tag = #expect(throws: IceError.self) { try IceAnswer(offer: handMade, parameters: Self.local) }
        #expect(tag?.field == "a=group")
    }

    @Test("a large bundled offer is answered in linear time", .timeLimit(.minutes(1)))
    func large() throws {
        let count = 20_000
        var sdp = "a=ice-ufrag:abcd\r\na=ice-pwd:sessionpasswordsession\r\na=group:BUNDLE "
            + (0..<count).map(String.init).joined(separator: " ") + "\r\n"
        for index in 0..<count {
            sdp += "m=a 9 P 0\r\na=mid:\(index)\r\n"
        }
        let answer = try IceAnswer(offer: IceDescription(parsing: sdp), parameters: Self.local, rejecting: ["7"])
        #expect(answer.bundleGroup.count == count - 1)
        #expect(answer.media.filter(\.isAccepted).count == count - 1)
        #expect(try answer.isTransportCandidate(IceCandidate(parsing: "candidate:1 1 UDP 1 192.0.2.1 1 typ host", sdpMid: "0")))
    }
}
