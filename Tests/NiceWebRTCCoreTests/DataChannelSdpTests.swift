import NiceICECore
import NiceWebRTCCore
import Testing

/// Offers and answers of data-channel-only sessions: DataChannelOffer, DataChannelAnswer and
/// DataChannelRemoteDescription, against browser samples in Fuzz/seed (sdp-dc-*.sdp).
@Suite("Data-channel SDP: offers, answers, remote descriptions")
struct DataChannelSdpTests {
    static let localIce = IceParameters(usernameFragment: "nIce", password: "J3bmVxWNPmyEk6JcKO+yCo")

    static func localFingerprint() throws -> DtlsFingerprint {
        try DtlsFingerprint(algorithm: .sha256, digest: (0..<32).map { UInt8($0 * 7 % 256) })
    }

    static func localCandidates() throws -> [IceCandidate] {
        try [
            IceCandidate(parsing: "candidate:1 1 UDP 2015363327 192.0.2.10 45678 typ host"),
            IceCandidate(parsing: "candidate:2 1 UDP 1679819007 198.51.100.7 45678 typ srflx raddr 192.0.2.10 rport 45678"),
        ]
    }

    /// The sections of an SDP, each as its lines (the session's lines first).
    static func sections(_ sdp: String) -> [[String]] {
        var result: [[String]] = [[]]
        for line in sdp.split(separator: "\r\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("m=") { result.append([]) }
            result[result.count - 1].append(String(line))
        }
        return result
    }

    static func answer(_ sdp: String, role: DtlsRole = .client, candidates: [IceCandidate]? = nil) throws -> DataChannelAnswer {
        try DataChannelAnswer(
            offer: sdp, ice: localIce, candidates: candidates ?? localCandidates(), endOfCandidates: true,
            dtls: DtlsParameters(role: role, fingerprints: [localFingerprint()]), maxMessageSize: 262_144,
            sessionId: 42, sessionVersion: 2)
    }

    struct Sample: Sendable, CustomTestStringConvertible {
        var name: String
        var dataMid: String
        var rejected: [String]
        var rejectedLines: [String]
        var ufrag: String
        var candidates: Int
        var endOfCandidates: Bool
        var maxMessageSize: Int
        var fingerprints: Int
        var testDescription: String { name }
    }

    static let samples: [Sample] = [
        Sample(
            name: "dc-chromeOffer", dataMid: "2", rejected: ["0", "1"],
            rejectedLines: ["m=audio 0 UDP/TLS/RTP/SAVPF 111", "m=video 0 UDP/TLS/RTP/SAVPF 96"],
            ufrag: "Q9vK", candidates: 3, endOfCandidates: false, maxMessageSize: 262_144, fingerprints: 1),
        Sample(
            name: "dc-firefoxOffer", dataMid: "2", rejected: ["0", "1"],
            rejectedLines: ["m=audio 0 UDP/TLS/RTP/SAVPF 109", "m=video 0 UDP/TLS/RTP/SAVPF 120"],
            ufrag: "7e2d9c41", candidates: 3, endOfCandidates: true, maxMessageSize: 1_073_741_823, fingerprints: 1),
        Sample(
            name: "dc-chromeDataOnlyOffer", dataMid: "0", rejected: [], rejectedLines: [],
            ufrag: "hT2p", candidates: 0, endOfCandidates: false, maxMessageSize: 262_144, fingerprints: 1),
        Sample(
            name: "dc-aiortcOffer", dataMid: "0", rejected: [], rejectedLines: [],
            ufrag: "Zq4M", candidates: 2, endOfCandidates: true, maxMessageSize: 65_536, fingerprints: 3),
        // The older samples: every candidate on the tagged audio section, none on the data one.
        Sample(
            name: "chromeOffer", dataMid: "2", rejected: ["0", "1"],
            rejectedLines: ["m=audio 0 UDP/TLS/RTP/SAVPF 111", "m=video 0 UDP/TLS/RTP/SAVPF 96"],
            ufrag: "EsAw", candidates: 0, endOfCandidates: false, maxMessageSize: 262_144, fingerprints: 1),
        Sample(
            name: "firefoxOffer", dataMid: "2", rejected: ["0", "1"],
            rejectedLines: ["m=audio 0 UDP/TLS/RTP/SAVPF 109", "m=video 0 UDP/TLS/RTP/SAVPF 120"],
            ufrag: "58142170", candidates: 0, endOfCandidates: true, maxMessageSize: 1_073_741_823, fingerprints: 1),
    ]

    @Test("browser offers: audio/video rejected with port 0, data accepted, BUNDLE of the data mid, the offer's values read",
          .timeLimit(.minutes(1)), arguments: samples)
    func browserOffer(sample: Sample) throws {
        let offerSDP = try sampleSDP(sample.name)
        let answer = try Self.answer(offerSDP)
        let offerIce = try IceDescription(parsing: offerSDP)
        let offerDtls = try DtlsDescription(parsing: offerSDP)
        let dataIndex = try #require(offerIce.media.firstIndex { $0.mid == sample.dataMid })

        // The offer's values.
        #expect(answer.dataMid == sample.dataMid && answer.dataMLineIndex == dataIndex)
        #expect(answer.rejectedMids == sample.rejected)
        #expect(answer.remoteIce.usernameFragment == sample.ufrag)
        #expect(answer.remoteIce == offerIce.media[dataIndex].parameters)
        #expect(answer.remoteCandidates.count == sample.candidates)
        #expect(answer.remoteCandidates == offerIce.media[dataIndex].candidates)
        #expect(answer.remoteCandidates.allSatisfy { $0.sdpMid == sample.dataMid && $0.sdpMLineIndex == dataIndex })
        #expect(answer.remoteEndOfCandidates == sample.endOfCandidates)
        #expect(answer.remoteDtls.role == .auto)
        #expect(answer.remoteDtls.fingerprints.count == sample.fingerprints)
        #expect(answer.remoteDtls.fingerprints == offerDtls.media[dataIndex].fingerprints)
        #expect(answer.remoteSctpPort == 5000)
        #expect(answer.remoteMaxMessageSize == sample.maxMessageSize)
        #expect(answer.role == .controlled)
        #expect(answer.localDtls.role == .client)
        #expect(answer.bundleGroup == [sample.dataMid])

        // The answer's text: one section per offered section, in order.
        let sections = Self.sections(answer.sdp)
        #expect(sections[0] == [
            "v=0", "o=- 42 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE \(sample.dataMid)", "a=msid-semantic: WMS",
        ])
        #expect(sections.count == offerIce.media.count + 1)
        for (index, mid) in sample.rejected.enumerated() {
            #expect(sections[index + 1] == [sample.rejectedLines[index], "c=IN IP4 0.0.0.0", "a=mid:\(mid)"])
        }
        let data = sections[dataIndex + 1]
        #expect(data.first == "m=application 9 UDP/DTLS/SCTP webrtc-datachannel")
        for line in [
            "a=mid:\(sample.dataMid)", "a=ice-ufrag:nIce", "a=ice-pwd:J3bmVxWNPmyEk6JcKO+yCo", "a=ice-options:trickle",
            "a=end-of-candidates", "a=setup:active", "a=fingerprint:\(try Self.localFingerprint())", "a=sctp-port:5000",
            "a=max-message-size:262144",
        ] {
            #expect(data.contains(line), "data section has \(line)")
        }
        #expect(data.filter { $0.hasPrefix("a=candidate:") }.count == 2)

        // Round trip: the readers see our values in the answer.
        let ice = try IceDescription(parsing: answer.sdp)
        #expect(ice.media.map(\.mid) == offerIce.media.map(\.mid))
        #expect(ice.media.map(\.kind) == offerIce.media.map(\.kind))
        #expect(ice.bundleGroups == [[sample.dataMid]])
        for section in ice.media where section.mLineIndex != dataIndex {
            #expect(section.isRejected && section.parameters == nil && section.candidates.isEmpty)
        }
        #expect(!ice.media[dataIndex].isRejected)
        #expect(ice.media[dataIndex].parameters == Self.localIce)
        #expect(ice.media[dataIndex].options == ["trickle"])
        #expect(ice.media[dataIndex].candidates.map(\.candidateLine) == (try Self.localCandidates()).map(\.candidateLine))
        #expect(ice.media[dataIndex].endOfCandidates)
        let dtls = try DtlsDescription(parsing: answer.sdp)
        #expect(try dtls.parameters(forMid: sample.dataMid) == DtlsParameters(role: .client, fingerprints: [Self.localFingerprint()]))
        #expect(dtls.media.filter { $0.mLineIndex != dataIndex }.allSatisfy { $0.fingerprints.isEmpty && $0.role == nil })
        let dc = try #require(try DataChannelDescription(parsing: answer.sdp))
        #expect(dc == DataChannelDescription(mid: sample.dataMid, mLineIndex: dataIndex, port: 9, sctpPort: 5000, maxMessageSize: 262_144))
        let back = try DataChannelRemoteDescription(answer: answer.sdp)
        #expect(back.ice == Self.localIce && back.dtls == answer.localDtls && back.mid == sample.dataMid)
        #expect(back.candidates.map(\.candidateLine) == (try Self.localCandidates()).map(\.candidateLine))
        #expect(back.endOfCandidates && back.sctpPort == 5000 && back.maxMessageSize == 262_144)
        #expect(back.offererDtlsRole == .server)
    }

    @Test("a rejected BUNDLE tag: IceAnswer refuses it, the data section becomes its own group", .timeLimit(.minutes(1)))
    func rejectedTag() throws {
        let offerSDP = try sampleSDP("dc-chromeOffer")
        let offer = try IceDescription(parsing: offerSDP)
        #expect(offer.bundleGroups == [["0", "1", "2"]])
        // What IceAnswer alone says about rejecting the tagged audio section.
        #expect { try IceAnswer(offer: offer, parameters: Self.localIce, rejecting: ["0", "1"]) } throws: { error in
            (error as? IceError)?.field == "a=group"
        }
        let answer = try Self.answer(offerSDP)
        let reread = try IceDescription(parsing: answer.sdp)
        let group = try #require(reread.bundleGroups.first)
        // Chrome's rules for an answer's group: a subset of an offered group, its first mid not
        // rejected, no rejected mid in it. Firefox's: its first mid is not disabled.
        #expect(Set(group).isSubset(of: Set(offer.bundleGroups[0])))
        #expect(reread.media(mid: group[0])?.isRejected == false)
        #expect(group.allSatisfy { reread.media(mid: $0)?.isRejected == false })
        #expect(reread.transportMedia(for: "2")?.mid == "2")

        // The data section tagged first, or no BUNDLE at all.
        let dataFirst = try Self.answer(offerSDP.replacing("a=group:BUNDLE 0 1 2", with: "a=group:BUNDLE 2 0 1"))
        #expect(dataFirst.bundleGroup == ["2"])
        let unbundled = try Self.answer(offerSDP.replacing("a=group:BUNDLE 0 1 2\r\n", with: ""))
        #expect(unbundled.bundleGroup.isEmpty)
        #expect(!unbundled.sdp.contains("a=group:"))
        #expect(try IceDescription(parsing: unbundled.sdp).media.filter { !$0.isRejected }.map(\.mid) == ["2"])
        // A section the offer already rejected stays rejected.
        let stopped = try Self.answer(offerSDP.replacing("m=video 60437 ", with: "m=video 0 "))
        #expect(stopped.rejectedMids == ["0", "1"] && stopped.bundleGroup == ["2"])
    }

    @Test("our offer: exact text, read back by every reader, answered, and the answer applied", .timeLimit(.minutes(1)))
    func ownOfferRoundTrip() throws {
        let fingerprint = try Self.localFingerprint()
        let candidate = try IceCandidate(parsing: "candidate:1 1 UDP 2015363327 192.0.2.10 45678 typ host")
        let offer = try DataChannelOffer(
            ice: Self.localIce, candidates: [candidate], endOfCandidates: true,
            dtls: DtlsParameters(role: .auto, fingerprints: [fingerprint]), maxMessageSize: 262_144,
            sessionId: 4_611_731_400_430_051_336, sessionVersion: 2)
        #expect(offer.mid == "0")
        #expect(offer.sdp == """
            v=0\r
            o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
            s=-\r
            t=0 0\r
            a=group:BUNDLE 0\r
            a=msid-semantic: WMS\r
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r
            c=IN IP4 0.0.0.0\r
            a=mid:0\r
            a=ice-ufrag:nIce\r
            a=ice-pwd:J3bmVxWNPmyEk6JcKO+yCo\r
            a=ice-options:trickle\r
            a=candidate:1 1 UDP 2015363327 192.0.2.10 45678 typ host\r
            a=end-of-candidates\r
            a=setup:actpass\r
            a=fingerprint:\(fingerprint)\r
            a=sctp-port:5000\r
            a=max-message-size:262144\r

            """)
        let ice = try IceDescription(parsing: offer.sdp)
        #expect(ice.bundleGroups == [["0"]] && ice.media.count == 1 && ice.media[0].parameters == Self.localIce)
        #expect(try DtlsDescription(parsing: offer.sdp).parameters(forMid: "0") == DtlsParameters(role: .auto, fingerprints: [fingerprint]))
        #expect(try DataChannelDescription(parsing: offer.sdp)?.maxMessageSize == 262_144)

        // The answerer side.
        let peerIce = IceParameters(usernameFragment: "peer", password: "0123456789abcdefghijklmn")
        let peerFingerprint = try DtlsFingerprint(algorithm: .sha256, digest: [UInt8](repeating: 0xAB, count: 32))
        let answer = try DataChannelAnswer(
            offer: offer.sdp, ice: peerIce, dtls: DtlsParameters(role: .auto, fingerprints: [peerFingerprint]),
            sctpPort: 5001, maxMessageSize: 65_536)
        #expect(answer.remoteIce == Self.localIce)
        #expect(answer.remoteCandidates.map(\.candidateLine) == [candidate.candidateLine])
        #expect(answer.remoteEndOfCandidates)
        #expect(answer.remoteDtls == DtlsParameters(role: .auto, fingerprints: [fingerprint]))
        #expect(answer.remoteSctpPort == 5000 && answer.remoteMaxMessageSize == 262_144)
        #expect(answer.localDtls.role == .client)  // .auto answers actpass as browsers do
        #expect(answer.dataMid == "0" && answer.dataMLineIndex == 0 && answer.rejectedMids.isEmpty)
        #expect(answer.bundleGroup == ["0"])

        // The offerer applies the answer.
        let remote = try DataChannelRemoteDescription(answer: answer.sdp)
        #expect(remote.ice == peerIce && remote.candidates.isEmpty && !remote.endOfCandidates)
        #expect(remote.dtls == DtlsParameters(role: .client, fingerprints: [peerFingerprint]))
        #expect(remote.offererDtlsRole == .server)
        #expect(remote.sctpPort == 5001 && remote.maxMessageSize == 65_536)
        #expect(remote.mid == "0" && remote.mLineIndex == 0 && !remote.iceLite && remote.iceOptions == ["trickle"])
        // Reading our offer as a remote description gives what we put in.
        let asRemote = try DataChannelRemoteDescription(parsing: offer.sdp)
        #expect(asRemote.ice == Self.localIce && asRemote.dtls.role == .auto && asRemote.maxMessageSize == 262_144)
        // An offer is not an answer: actpass is refused there.
        #expect { try DataChannelRemoteDescription(answer: offer.sdp) } throws: { error in
            (error as? SdpError).map { $0.code == .invalidValue && $0.field == "a=setup" && $0.line == 7 } ?? false
        }
    }

    @Test("the offerer reads browsers' answers: ICE, candidates, DTLS role and fingerprint, SCTP values", .timeLimit(.minutes(1)))
    func browserAnswers() throws {
        let chrome = try DataChannelRemoteDescription(answer: sampleSDP("chromeAnswer"))
        #expect(chrome.mid == "0" && chrome.mLineIndex == 0)
        #expect(chrome.ice == IceParameters(usernameFragment: "k9Qz", password: "u2m1zH0Tq9eS4cXlC+/5dF7a"))
        #expect(chrome.iceOptions == ["trickle"] && chrome.candidates.isEmpty && !chrome.endOfCandidates && !chrome.iceLite)
        #expect(chrome.dtls.role == .client && chrome.offererDtlsRole == .server)
        #expect(chrome.dtls.fingerprints.map(\.description) == [
            "sha-256 1F:2E:3D:4C:5B:6A:79:88:97:A6:B5:C4:D3:E2:F1:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01",
        ])
        #expect(chrome.sctpPort == 5000 && chrome.maxMessageSize == 262_144)

        let firefox = try DataChannelRemoteDescription(answer: sampleSDP("firefoxAnswer"))
        #expect(firefox.ice.usernameFragment == "1a2b3c4d" && firefox.iceOptions == ["trickle"])
        #expect(firefox.candidates.count == 3 && firefox.candidates.allSatisfy { $0.sdpMid == "0" && $0.sdpMLineIndex == 0 })
        #expect(firefox.endOfCandidates)
        #expect(firefox.dtls.role == .client && firefox.dtls.fingerprints.count == 1)  // the session-level fingerprint
        #expect(firefox.maxMessageSize == 1_073_741_823)

        // An ICE-lite answer without a fingerprint is not a DTLS answer.
        #expect { try DataChannelRemoteDescription(answer: sampleSDP("iceLiteAnswer")) } throws: { error in
            (error as? SdpError).map { $0.code == .missing && $0.field == "a=fingerprint" } ?? false
        }
    }

    @Test("trickle: our later candidates carry the data mid; remote ones for other sections are not ours", .timeLimit(.minutes(1)))
    func trickle() throws {
        let offerSDP = try sampleSDP("dc-chromeOffer")
        let answer = try Self.answer(offerSDP, candidates: [])
        let later = try IceCandidate(parsing: "candidate:9 1 UDP 2015363327 192.0.2.10 45679 typ host")
        let sent = answer.trickled(later)
        #expect(sent.sdpMid == "2" && sent.sdpMLineIndex == 2 && sent.candidateLine == later.candidateLine)

        // The offer's own candidates: those of the data section are ours, audio's and video's not.
        let offer = try IceDescription(parsing: offerSDP)
        for section in offer.media {
            for candidate in section.candidates {
                #expect(try answer.isDataCandidate(candidate) == (section.mid == "2"))
            }
        }
        #expect(try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMid: "0")) == false)
        #expect(try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMid: "1")) == false)
        #expect(try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMid: "2")))
        #expect(try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMLineIndex: 2)))
        #expect(try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMLineIndex: 0)) == false)
        #expect { try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMid: "9")) } throws: { error in
            (error as? SdpError).map { $0.code == .invalidValue && $0.field == "sdpMid" && $0.line == nil } ?? false
        }
        #expect { try answer.isDataCandidate(IceCandidate(parsing: later.candidateLine, sdpMLineIndex: 7)) } throws: { error in
            (error as? SdpError)?.field == "sdpMLineIndex"
        }
        #expect { try answer.isDataCandidate(later) } throws: { ($0 as? SdpError)?.field == "sdpMid" }

        let offerSide = try DataChannelOffer(
            ice: Self.localIce, dtls: DtlsParameters(role: .auto, fingerprints: [Self.localFingerprint()]), maxMessageSize: 0, mid: "data")
        let offered = offerSide.trickled(later)
        #expect(offered.sdpMid == "data" && offered.sdpMLineIndex == 0)
        #expect(try IceDescription(parsing: offerSide.sdp).bundleGroups == [["data"]])
    }

    @Test("roles: DTLS auto follows the offer's a=setup, a clash throws; an ICE-lite offer makes us controlling", .timeLimit(.minutes(1)))
    func roles() throws {
        let offerSDP = try sampleSDP("dc-chromeDataOnlyOffer")
        #expect(try Self.answer(offerSDP, role: .auto).localDtls.role == .client)
        #expect(try Self.answer(offerSDP, role: .server).localDtls.role == .server)
        let active = offerSDP.replacing("a=setup:actpass", with: "a=setup:active")
        #expect(try Self.answer(active, role: .auto).localDtls.role == .server)
        #expect(try Self.answer(active, role: .auto).sdp.contains("a=setup:passive\r\n"))
        #expect { try Self.answer(active, role: .client) } throws: { error in
            (error as? SdpError).map { $0.code == .unsupported && $0.field == "a=setup" && $0.line == 8 } ?? false
        }
        let passive = offerSDP.replacing("a=setup:actpass", with: "a=setup:passive")
        #expect { try Self.answer(passive, role: .server) } throws: { ($0 as? SdpError)?.field == "a=setup" }
        let lite = offerSDP.replacing("t=0 0\r\n", with: "t=0 0\r\na=ice-lite\r\n")
        #expect(try Self.answer(lite).role == .controlling)
        #expect(try DataChannelRemoteDescription(parsing: lite).iceLite)
        #expect(try Self.answer(offerSDP).role == .controlled)
    }

    /// One malformed offer of ``malformed(_:)``: the SdpError it must give.
    struct BadOffer: Sendable, CustomTestStringConvertible {
        var name: String
        var variant: String
        var code: SdpError.Code
        var field: String
        /// The 1-based line of dc-chromeDataOnlyOffer (its m= line is line 8) or of the variant.
        var line: Int?
        var testDescription: String { name }
        init(_ name: String, _ variant: String, _ code: SdpError.Code, _ field: String, line: Int?) {
            self.name = name
            self.variant = variant
            self.code = code
            self.field = field
            self.line = line
        }
    }

    @Test("malformed offers throw an SdpError with code, field and line", .timeLimit(.minutes(1)), arguments: [
        BadOffer("no data section", "audio", .unsupported, "m=application", line: nil),
        BadOffer("garbage", "garbage", .unsupported, "m=application", line: nil),
        BadOffer("empty", "empty", .unsupported, "m=application", line: nil),
        BadOffer("bad m= line", "badMLine", .malformed, "m=", line: 8),
        BadOffer("data rejected", "dataPort0", .unsupported, "m=application", line: 8),
        BadOffer("bundle-only data", "bundleOnly", .unsupported, "a=bundle-only", line: 22),
        BadOffer("no fingerprint", "noFingerprint", .missing, "a=fingerprint", line: 8),
        BadOffer("bad fingerprint", "badFingerprint", .invalidValue, "a=fingerprint", line: 13),
        BadOffer("no setup", "noSetup", .missing, "a=setup", line: 8),
        BadOffer("bad setup", "badSetup", .invalidValue, "a=setup", line: 14),
        BadOffer("bad sctp-port", "badSctpPort", .invalidValue, "a=sctp-port", line: 16),
        BadOffer("bad max-message-size", "badMaxMessageSize", .invalidValue, "a=max-message-size", line: 17),
        BadOffer("no ice-ufrag", "noUfrag", .missing, "a=ice-ufrag", line: 8),
        BadOffer("no ice-ufrag, LF endings", "noUfragLF", .missing, "a=ice-ufrag", line: 8),
        BadOffer("no ice-pwd", "noPwd", .missing, "a=ice-pwd", line: 8),
        BadOffer("bad ice-ufrag", "badUfrag", .malformed, "a=ice-ufrag", line: 10),
        BadOffer("bad candidate", "badCandidate", .malformed, "a=candidate", line: 18),
        BadOffer("duplicate mid", "duplicateMid", .malformed, "a=mid", line: 19),
        BadOffer("too long", "tooLong", .malformed, "sdp", line: nil),
    ])
    func malformed(_ bad: BadOffer) throws {
        let (name, variant) = (bad.name, bad.variant)
        let base = try sampleSDP("dc-chromeDataOnlyOffer")
        let sdp: String
        switch variant {
        case "audio": sdp = "v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
        case "garbage": sdp = "\u{1}\u{2}hello\nworld\r\n\r\nx=y"
        case "empty": sdp = ""
        case "badMLine": sdp = base.replacing("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", with: "m=application 9")
        case "dataPort0": sdp = base.replacing("m=application 9 ", with: "m=application 0 ")
        case "bundleOnly": sdp = try sampleSDP("bundleOnlyOffer")
        case "noFingerprint": sdp = Self.removingLines(base, "a=fingerprint:")
        case "badFingerprint": sdp = base.replacing("a=fingerprint:sha-256 D4", with: "a=fingerprint:sha-256 ZZ")
        case "noSetup": sdp = Self.removingLines(base, "a=setup:")
        case "badSetup": sdp = base.replacing("a=setup:actpass", with: "a=setup:sideways")
        case "badSctpPort": sdp = base.replacing("a=sctp-port:5000", with: "a=sctp-port:70000")
        case "badMaxMessageSize": sdp = base.replacing("a=max-message-size:262144", with: "a=max-message-size:big")
        case "noUfrag": sdp = Self.removingLines(base, "a=ice-ufrag:")
        case "noUfragLF": sdp = Self.removingLines(base, "a=ice-ufrag:").replacing("\r\n", with: "\n")
        case "badUfrag": sdp = base.replacing("a=ice-ufrag:hT2p", with: "a=ice-ufrag:h")
        case "noPwd": sdp = Self.removingLines(base, "a=ice-pwd:")
        case "badCandidate": sdp = base + "a=candidate:1 1 UDP 0 192.0.2.1 9 typ host\r\n"
        case "duplicateMid": sdp = base + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
        default: sdp = base + String(repeating: "a=x\r\n", count: IceDescription.maximumLength / 5 + 1)
        }
        func matches(_ error: any Error) -> Bool {
            guard let e = error as? SdpError else { return false }
            return e.code == bad.code && e.field == bad.field && e.line == bad.line && !e.reason.isEmpty && !e.reason.hasPrefix("line ")
        }
        #expect("\(name): DataChannelAnswer") { try Self.answer(sdp) } throws: { matches($0) }
        #expect { try DataChannelRemoteDescription(parsing: sdp) } throws: { matches($0) }
    }

    @Test("an SdpError reads as code, field, line and reason; ICE and DTLS reasons are kept", .timeLimit(.minutes(1)))
    func sdpErrorText() throws {
        let error = SdpError(.missing, field: "a=ice-ufrag", line: 8, reason: "no ufrag")
        #expect(error.description == "SdpError.missing (a=ice-ufrag, line 8): no ufrag")
        #expect(error.located == "line 8: no ufrag")
        #expect(SdpError(.unsupported, field: "m=application", reason: "none").description == "SdpError.unsupported (m=application): none")
        #expect(SdpError(.malformed, line: 3, reason: "x").description == "SdpError.malformed (line 3): x")
        #expect(SdpError(.invalidValue, reason: "x").located == "x")

        // The reason of the value's own error (here DtlsFingerprint's), without a line prefix.
        let base = try sampleSDP("dc-chromeDataOnlyOffer")
        let bad = base.replacing("a=fingerprint:sha-256 D4", with: "a=fingerprint:sha-256 ZZ")
        var dtlsReason: String?
        do { _ = try DtlsFingerprint(parsing: "sha-256 ZZ:0F") } catch { dtlsReason = error.reason }
        #expect { try DataChannelRemoteDescription(parsing: bad) } throws: { error in
            (error as? SdpError).map { $0.reason == dtlsReason && $0.line == 13 } ?? false
        }
        // The ICE reader's "line N: " becomes the line.
        var iceError: IceError?
        let badUfrag = base.replacing("a=ice-ufrag:hT2p", with: "a=ice-ufrag:h")
        do { _ = try IceDescription(parsing: badUfrag) } catch { iceError = error }
        #expect(iceError?.reason.hasPrefix("line 10: ") == true)
        #expect { try DataChannelRemoteDescription(parsing: badUfrag) } throws: { error in
            (error as? SdpError).map { "line 10: " + $0.reason == iceError?.reason && $0.field == iceError?.field } ?? false
        }
    }

    @Test("our own values are checked: ICE credentials, fingerprints, ports, sizes, mid", .timeLimit(.minutes(1)))
    func localValues() throws {
        let offerSDP = try sampleSDP("dc-chromeDataOnlyOffer")
        let dtls = DtlsParameters(role: .client, fingerprints: [try Self.localFingerprint()])
        func field(_ body: () throws -> Void) -> String? {
            do { try body() } catch let error as SdpError {
                return error.code == .invalidValue && error.line == nil ? error.field : "wrong code or line"
            } catch {
                return "not an SdpError"
            }
            return nil
        }
        let badIce = IceParameters(usernameFragment: "ab", password: "J3bmVxWNPmyEk6JcKO+yCo")
        #expect(field { _ = try DataChannelAnswer(offer: offerSDP, ice: badIce, dtls: dtls, maxMessageSize: 1) } == "ufrag")
        #expect(field { _ = try DataChannelOffer(ice: badIce, dtls: dtls, maxMessageSize: 1) } == "ufrag")
        let shortPassword = IceParameters(usernameFragment: "abcd", password: "short")
        #expect(field { _ = try DataChannelOffer(ice: shortPassword, dtls: dtls, maxMessageSize: 1) } == "password")
        let none = DtlsParameters(role: .client, fingerprints: [])
        #expect(field { _ = try DataChannelAnswer(offer: offerSDP, ice: Self.localIce, dtls: none, maxMessageSize: 1) } == "fingerprint")
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, dtls: none, maxMessageSize: 1) } == "fingerprint")
        #expect(field { _ = try DataChannelAnswer(offer: offerSDP, ice: Self.localIce, dtls: dtls, maxMessageSize: -1) } == "maxMessageSize")
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, dtls: dtls, maxMessageSize: Int(UInt32.max) + 1) } == "maxMessageSize")
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, dtls: dtls, sctpPort: 0, maxMessageSize: 1) } == "sctpPort")
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, dtls: dtls, maxMessageSize: 1, mid: "a b") } == "mid")
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, dtls: dtls, maxMessageSize: 1, mid: "") } == "mid")
        var badCandidate = try IceCandidate(parsing: "candidate:1 1 UDP 2015363327 192.0.2.10 45678 typ host")
        badCandidate.port = 0
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, candidates: [badCandidate], dtls: dtls, maxMessageSize: 1) } != nil)
        #expect(field { _ = try DataChannelOffer(ice: Self.localIce, dtls: dtls, maxMessageSize: 0, sessionId: 1) } == nil)
    }

    /// `sdp` without the lines that start with `prefix`.
    static func removingLines(_ sdp: String, _ prefix: String) -> String {
        sdp.split(separator: "\r\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix(prefix) }.joined(separator: "\r\n")
    }
}
