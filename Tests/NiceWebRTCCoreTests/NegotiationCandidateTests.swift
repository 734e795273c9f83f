import Foundation
import NiceICECore
import NiceWebRTCCore
import Testing

/// Candidate routing (``Negotiation/route(_:)``, W3C `addIceCandidate`) and trickled local
/// candidates (``Negotiation/trickled(_:)``, W3C `icecandidate`).
///
/// Ported from RTCPeerConnection-addIceCandidate.html, on its two-section description (JSEP
/// §7.1's, with the video section made the data section: `a1` audio with ufrag ETEn, `d1` data
/// with ufrag BGKk). "Added to the section" reads here as: a candidate of the data section is
/// ``CandidateRoute/add(_:)`` with the data mid and index; one of the audio section (rejected
/// by our answer) is ``CandidateRoute/ignore(reason:)``:
/// - "Add ICE candidate before setting remote description should reject with InvalidStateError"
/// - "Add ICE candidate after setting remote description should succeed"
/// - "Add candidate with only valid sdpMid should succeed", "… only valid sdpMLineIndex should
///   succeed" (webrtc-pc today: an empty candidate is end-of-candidates for that section)
/// - "addIceCandidate with first sdpMid and sdpMLineIndex add candidate to first media stream",
///   "… second sdpMid and sdpMLineIndex should add candidate to second media stream"
/// - "Add candidate for first media stream with null ufrag should add candidate to first media
///   stream", "Add candidate for media stream 2 with null ufrag should succeed"
/// - "Adding multiple candidates should add candidates to their corresponding media stream"
/// - "Add with empty candidate string (end of candidate) should succeed"
/// - "Add candidate with both sdpMid and sdpMLineIndex manually set to null should reject with
///   TypeError", "… only valid candidate string should reject with TypeError", "… invalid
///   candidate string and both sdpMid and sdpMLineIndex null should reject with TypeError"
/// - "Add candidate with empty dict …" and "… manually filled default values …": the stored WPT
///   expects TypeError; webrtc-pc since 2020 (and today's WPT) make `{}` the end-of-candidates
///   indication for all sections: we follow the spec (``CandidateRoute/endOfCandidates``).
/// - "Add candidate with invalid sdpMid should reject with OperationError", "… invalid
///   sdpMLineIndex should reject with OperationError", "Invalid sdpMLineIndex should be ignored
///   if valid sdpMid is provided"
/// - "Add candidate with invalid ufrag should reject with OperationError", "Add candidate with
///   sdpMid belonging to different ufrag should reject with OperationError"
/// - "Add candidate with invalid candidate string should reject with OperationError"
///
/// Do not apply: "Add null candidate should reject with TypeError" (Swift's type has no null;
/// the runtime maps a nil argument to end-of-candidates as W3C's `addIceCandidate()`), "Add ICE
/// candidate with RTCIceCandidate should succeed" (one type here), and the checks that the
/// candidate is written into `remoteDescription.sdp` (W3C's "add candidate to
/// remoteDescription"): the core keeps the description as received, the runtime gives the
/// candidate to the ICE agent.
@Suite("Negotiation: candidate routing and trickle (WPT addIceCandidate ports)")
struct NegotiationCandidateTests {
    static let fingerprint = "sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2"

    /// JSEP §7.1's two-section offer, the video section a data section.
    static let twoSections = SessionDescription(type: .offer, sdp: [
        "v=0", "o=- 4962303333179871722 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=ice-options:trickle", "a=group:BUNDLE a1 d1",
        "m=audio 10100 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 203.0.113.100", "a=mid:a1", "a=sendrecv", "a=rtpmap:96 opus/48000/2",
        "a=ice-ufrag:ETEn", "a=ice-pwd:OtSK0WpNtpUjkY4+86js7ZQl", "a=fingerprint:\(fingerprint)", "a=setup:actpass", "a=rtcp-mux",
        "m=application 10102 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 203.0.113.100", "a=mid:d1",
        "a=ice-ufrag:BGKk", "a=ice-pwd:mqyWsAjvtKwTGnvhPztQ9mIf", "a=fingerprint:\(fingerprint)", "a=setup:actpass",
        "a=sctp-port:5000", "a=max-message-size:262144", "",
    ].joined(separator: "\r\n"))

    static let candidate1 = "candidate:1 1 udp 2113929471 203.0.113.100 10100 typ host"
    static let candidate2 = "candidate:1 1 udp 2113929470 203.0.113.100 10102 typ host"
    static let invalid = "(Invalid) candidate \r\n string"

    static func answered() throws -> Negotiation {
        var pc = try Jsep.peer("a", seed: 1)
        _ = try pc.setRemoteDescription(twoSections)
        return pc
    }

    static func added(_ route: CandidateRoute) -> IceCandidate? {
        if case .add(let candidate) = route { return candidate }
        return nil
    }

    static func ignored(_ route: CandidateRoute) -> Bool {
        if case .ignore = route { return true }
        return false
    }

    @Test("before a remote description: InvalidStateError (the runtime queues it)", .timeLimit(.minutes(1)))
    func beforeRemoteDescription() throws {
        let pc = try Jsep.peer("a", seed: 1)
        let error = Jsep.error { _ = try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: "a1", sdpMLineIndex: 0, usernameFragment: "ETEn")) }
        #expect(error?.code == .invalidState)
    }

    @Test("after a remote description: the data section's candidates are added with its mid and index; the audio section's ignored",
          .timeLimit(.minutes(1)))
    func sections() throws {
        let pc = try Self.answered()
        let audio = try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: "a1", sdpMLineIndex: 0, usernameFragment: "ETEn"))
        #expect(Self.ignored(audio))
        let data = try #require(Self.added(pc.route(IceCandidateInit(candidate: Self.candidate2, sdpMid: "d1", sdpMLineIndex: 1, usernameFragment: "BGKk"))))
        #expect(data.candidateLine == Self.candidate2)
        #expect(data.sdpMid == "d1")
        #expect(data.sdpMLineIndex == 1)
        // null ufrag: the current generation.
        #expect(Self.ignored(try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: "a1", sdpMLineIndex: 0))))
        #expect(Self.added(try pc.route(IceCandidateInit(candidate: Self.candidate2, sdpMid: "d1", sdpMLineIndex: 1))) != nil)
        // By index alone, and the candidate without its "candidate:" prefix or with "a=".
        #expect(Self.added(try pc.route(IceCandidateInit(candidate: String(Self.candidate2.dropFirst(10)), sdpMLineIndex: 1)))?.sdpMid == "d1")
        #expect(Self.added(try pc.route(IceCandidateInit(candidate: "a=" + Self.candidate2, sdpMid: "d1"))) != nil)
    }

    @Test("end-of-candidates: an empty candidate with a mid, an index, or neither (webrtc-pc: all sections)", .timeLimit(.minutes(1)))
    func endOfCandidates() throws {
        let pc = try Self.answered()
        #expect(try pc.route(IceCandidateInit(candidate: "", sdpMid: "d1")) == .endOfCandidates)
        #expect(try pc.route(IceCandidateInit(candidate: "", sdpMLineIndex: 1)) == .endOfCandidates)
        #expect(try pc.route(IceCandidateInit(candidate: "", sdpMid: "d1", sdpMLineIndex: 1, usernameFragment: "BGKk")) == .endOfCandidates)
        #expect(try pc.route(IceCandidateInit(candidate: "")) == .endOfCandidates)
        #expect(Self.ignored(try pc.route(IceCandidateInit(candidate: "", sdpMid: "a1"))))
        #expect(IceCandidateInit(candidate: "").isEndOfCandidates)
    }

    @Test("TypeError: a candidate with neither sdpMid nor sdpMLineIndex (valid or invalid line)", .timeLimit(.minutes(1)))
    func typeError() throws {
        let pc = try Self.answered()
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: nil, sdpMLineIndex: nil)) } == .typeError)
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Self.candidate1)) } == .typeError)
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Self.invalid)) } == .typeError)
        // W3C checks this before the remote description.
        let fresh = try Jsep.peer("b", seed: 2)
        #expect(Jsep.code { _ = try fresh.route(IceCandidateInit(candidate: Self.candidate1)) } == .typeError)
    }

    @Test("OperationError: unknown sdpMid, sdpMLineIndex out of range (ignored when sdpMid is valid)", .timeLimit(.minutes(1)))
    func sectionErrors() throws {
        let pc = try Self.answered()
        let mid = Jsep.error { _ = try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: "invalid", sdpMLineIndex: 0, usernameFragment: "ETEn")) }
        #expect(mid?.code == .operationError)
        #expect(mid?.field == "sdpMid")
        let index = Jsep.error { _ = try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMLineIndex: 2, usernameFragment: "ETEn")) }
        #expect(index?.code == .operationError)
        #expect(index?.field == "sdpMLineIndex")
        #expect(Self.ignored(try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: "a1", sdpMLineIndex: 2, usernameFragment: "ETEn"))))
        #expect(Self.added(try pc.route(IceCandidateInit(candidate: Self.candidate2, sdpMid: "d1", sdpMLineIndex: 7))) != nil)
    }

    @Test("OperationError: a ufrag no applied description gave the section; a candidate line that does not parse", .timeLimit(.minutes(1)))
    func ufragAndLineErrors() throws {
        let pc = try Self.answered()
        let ufrag = Jsep.error { _ = try pc.route(IceCandidateInit(candidate: Self.candidate1, sdpMid: "a1", sdpMLineIndex: 0, usernameFragment: "invalid")) }
        #expect(ufrag?.code == .operationError)
        #expect(ufrag?.field == "usernameFragment")
        // The audio section's ufrag on the data section's mid.
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Self.candidate2, sdpMid: "d1", sdpMLineIndex: 1, usernameFragment: "ETEn")) } == .operationError)
        let line = Jsep.error { _ = try pc.route(IceCandidateInit(candidate: Self.invalid, sdpMid: "d1", sdpMLineIndex: 1, usernameFragment: "BGKk")) }
        #expect(line?.code == .operationError)
        #expect(line?.field == "candidate")
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: "candidate:1 1 udp 0 1.2.3.4 5 typ host", sdpMid: "d1")) } == .operationError)
    }

    @Test("an earlier ICE generation: a stale ufrag (given, or in the line's ufrag attribute) is ignored after a remote restart",
          .timeLimit(.minutes(1)))
    func staleGeneration() throws {
        var pc1 = try Jsep.peer("a", seed: 1)
        var pc2 = try Jsep.peer("b", seed: 2)
        try Jsep.handshake(&pc1, &pc2)
        let old = pc1.local.ice.usernameFragment
        let needed = pc1.restartIce()
        #expect(needed)
        try Jsep.handshake(&pc1, &pc2)
        let new = pc1.local.ice.usernameFragment
        #expect(new != old)
        #expect(pc2.remoteIce?.usernameFragment == new)
        let stale = try pc2.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: old))
        #expect(Self.ignored(stale))
        let staleInLine = try pc2.route(IceCandidateInit(candidate: Jsep.hostCandidate + " generation 0 ufrag \(old)", sdpMid: "0"))
        #expect(Self.ignored(staleInLine))
        #expect(Self.ignored(try pc2.route(IceCandidateInit(candidate: "", sdpMid: "0", usernameFragment: old))))
        #expect(Self.added(try pc2.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0", usernameFragment: new))) != nil)
        #expect(Self.added(try pc2.route(IceCandidateInit(candidate: Jsep.hostCandidate + " generation 0 ufrag \(new)", sdpMid: "0"))) != nil)
        #expect(Jsep.code { _ = try pc2.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0", usernameFragment: "neverSeen")) } == .operationError)
    }

    @Test("trickled local candidates carry the data mid, index and our ufrag; nil gives end-of-candidates; none before a local description",
          .timeLimit(.minutes(1)))
    func trickled() throws {
        var pc1 = try Jsep.peer("a", seed: 1)
        var pc2 = try Jsep.peer("b", seed: 2)
        let candidate = try IceCandidate(parsing: Jsep.srflxCandidate)
        #expect(pc1.trickled(candidate) == nil)
        _ = try pc1.setLocalDescription(pc1.createOffer())
        let out = try #require(pc1.trickled(candidate))
        #expect(out == IceCandidateInit(candidate: Jsep.srflxCandidate, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: pc1.local.ice.usernameFragment))
        #expect(pc1.trickled(nil) == IceCandidateInit(candidate: "", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: pc1.local.ice.usernameFragment))
        // The answerer of a browser offer trickles with the offer's data mid and index.
        _ = try pc2.setRemoteDescription(SessionDescription(type: .offer, sdp: sampleSDP("dc-chromeOffer")))
        _ = try pc2.setLocalDescription(pc2.createAnswer())
        let answerer = try #require(pc2.trickled(candidate))
        #expect(answerer.sdpMid == "2")
        #expect(answerer.sdpMLineIndex == 2)
        // And the peer routes what we trickle.
        var pc3 = try Jsep.peer("c", seed: 3)
        _ = try pc3.setRemoteDescription(#require(pc1.localDescription))
        #expect(try pc3.route(out) == .add(candidate.withMetadata(mid: "0", index: 0)))
        #expect(try pc3.route(#require(pc1.trickled(nil))) == .endOfCandidates)
    }

    @Test("IceCandidateInit decodes a browser's JSON (W3C member names) and round-trips", .timeLimit(.minutes(1)))
    func codable() throws {
        let json = #"{"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"EsAw"}"#
        let decoded = try JSONDecoder().decode(IceCandidateInit.self, from: Data(json.utf8))
        #expect(decoded == IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "EsAw"))
        let end = try JSONDecoder().decode(IceCandidateInit.self, from: Data(#"{"candidate":"","sdpMid":null,"sdpMLineIndex":null}"#.utf8))
        #expect(end.isEndOfCandidates && end.sdpMid == nil && end.usernameFragment == nil)
        let again = try JSONDecoder().decode(IceCandidateInit.self, from: JSONEncoder().encode(decoded))
        #expect(again == decoded)
    }
}

extension IceCandidate {
    func withMetadata(mid: String?, index: Int?) -> IceCandidate {
        var copy = self
        copy.sdpMid = mid
        copy.sdpMLineIndex = index
        return copy
    }
}
