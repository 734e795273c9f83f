import NiceICECore
import NiceWebRTCCore
import Testing

/// Two ``Negotiation`` values talking to each other, and a Negotiation answering browsers'
/// offers: the effects each side gets, in order; glare settled by rollback (W3C perfect
/// negotiation); re-offers from either side keeping credentials and the DTLS roles; ICE-lite;
/// descriptions that do not fit the session.
@Suite("Negotiation: two peers, glare, re-offers, browsers, ICE-lite")
struct NegotiationPeersTests {
    static func dtls(_ pc: Negotiation, _ role: DtlsRole) -> DtlsParameters {
        DtlsParameters(role: role, fingerprints: pc.local.fingerprints)
    }

    @Test("offer/answer: each side's effects in order, roles, mid, candidates in the offer", .timeLimit(.minutes(1)))
    func offerAnswer() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        let candidate = try IceCandidate(parsing: Jsep.hostCandidate)
        let offer = try a.createOffer(candidates: [candidate], endOfCandidates: true)
        #expect(try a.setLocalDescription(offer) == [.startIce(role: .controlling)])
        #expect(try b.setRemoteDescription(offer) == [
            .startIce(role: .controlled),
            .setRemoteIce(a.local.ice, candidates: [candidate.withMetadata(mid: "0", index: 0)], endOfCandidates: true, lite: false),
        ])
        let answer = try b.createAnswer()
        #expect(try b.setLocalDescription(answer) == [
            .startDtls(role: .client, remote: Self.dtls(a, .auto)),
            .startSctp(remotePort: 5000, remoteMaxMessageSize: 262_144),
        ])
        #expect(try a.setRemoteDescription(answer) == [
            .setRemoteIce(b.local.ice, candidates: [], endOfCandidates: false, lite: false),
            .startDtls(role: .server, remote: Self.dtls(b, .client)),
            .startSctp(remotePort: 5000, remoteMaxMessageSize: 262_144),
        ])
        #expect(a.signalingState == .stable && b.signalingState == .stable)
        #expect(a.iceRole == .controlling && b.iceRole == .controlled)
        #expect(a.dtlsRole == .server && b.dtlsRole == .client)
        #expect(a.dataMid == "0" && b.dataMid == "0" && a.dataMLineIndex == 0 && b.dataMLineIndex == 0)
        #expect(a.remoteIce == b.local.ice && b.remoteIce == a.local.ice)
    }

    @Test("glare: both offer; the polite peer's setRemoteDescription rolls back, the impolite one ignores the other offer", .timeLimit(.minutes(1)))
    func glare() throws {
        var impolite = try Jsep.peer("a", seed: 1)
        var polite = try Jsep.peer("b", seed: 2)
        let offerA = try impolite.createOffer()
        let offerB = try polite.createOffer()
        _ = try impolite.setLocalDescription(offerA)
        _ = try polite.setLocalDescription(offerB)
        // The impolite peer ignores offerB (perfect negotiation); the polite one accepts offerA.
        let effects = try polite.setRemoteDescription(offerA)
        #expect(effects.first == .startIce(role: .controlled))
        #expect(polite.signalingState == .haveRemoteOffer)
        let answer = try polite.createAnswer()
        _ = try polite.setLocalDescription(answer)
        _ = try impolite.setRemoteDescription(answer)
        #expect(impolite.signalingState == .stable && polite.signalingState == .stable)
        #expect(impolite.iceRole == .controlling && polite.iceRole == .controlled)
        #expect(impolite.dtlsRole == .server && polite.dtlsRole == .client)

        // The same with an explicit rollback first.
        var c = try Jsep.peer("c", seed: 3)
        var d = try Jsep.peer("d", seed: 4)
        let offerC = try c.createOffer()
        _ = try c.setLocalDescription(offerC)
        _ = try d.setLocalDescription(d.createOffer())
        #expect(try d.setLocalDescription(SessionDescription(type: .rollback, sdp: "")).isEmpty)
        #expect(d.iceRole == nil)
        _ = try d.setRemoteDescription(offerC)
        _ = try d.setLocalDescription(d.createAnswer())
        _ = try c.setRemoteDescription(#require(d.localDescription))
        #expect(c.signalingState == .stable && d.signalingState == .stable)
    }

    @Test("glare on a re-offer (both restart): rollback, and the polite peer's own restart waits for the next round", .timeLimit(.minutes(1)))
    func glareOnRestart() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        try Jsep.handshake(&a, &b)
        _ = a.restartIce()
        _ = b.restartIce()
        _ = try a.setLocalDescription(a.createOffer())
        let bOld = b.local.ice
        _ = try b.setLocalDescription(b.createOffer())
        let effects = try b.setRemoteDescription(#require(a.localDescription))
        #expect(effects == [
            .startIce(role: .controlled), .useLocalIce(bOld),
            .setRemoteIce(a.local.ice, candidates: [], endOfCandidates: false, lite: false),
        ], "the rollback gives back b's role and credentials, then a's restart applies")
        #expect(b.needsNewLocalIceForAnswer)
        _ = try b.setLocalDescription(b.createAnswer())
        _ = try a.setRemoteDescription(#require(b.localDescription))
        #expect(!a.restartPending && !b.restartPending, "a remote restart satisfies b's restartIce()")
        #expect(a.remoteIce == b.local.ice && b.remoteIce == a.local.ice)
    }

    @Test("re-offers from either side keep credentials and the DTLS roles, and change nothing", .timeLimit(.minutes(1)))
    func reoffers() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        try Jsep.handshake(&a, &b)
        let iceA = a.local.ice
        let iceB = b.local.ice

        let fromB = try b.createOffer()
        #expect(Jsep.lines(fromB.sdp, "a=setup:") == ["a=setup:active"], "b is the DTLS client")
        #expect(Jsep.ufrags(fromB) == [iceB.usernameFragment])
        let effects = try Jsep.handshake(&b, &a)
        #expect(effects.allSatisfy { $0.isEmpty }, "\(effects)")
        #expect(Jsep.lines(try #require(a.localDescription).sdp, "a=setup:") == ["a=setup:passive"])

        let fromA = try a.createOffer()
        #expect(Jsep.lines(fromA.sdp, "a=setup:") == ["a=setup:passive"])
        let again = try Jsep.handshake(&a, &b)
        #expect(again.allSatisfy { $0.isEmpty })
        #expect(a.local.ice == iceA && b.local.ice == iceB)
        #expect(a.iceRole == .controlling && b.iceRole == .controlled, "roles stay without a restart")
        #expect(a.dtlsRole == .server && b.dtlsRole == .client)
    }

    @Test("the o= line: one session id, the version grows with each local description", .timeLimit(.minutes(1)))
    func sessionVersion() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        let first = try a.createOffer()
        #expect(try a.createOffer() == first, "the same state gives the same offer")
        try Jsep.handshake(&a, &b)
        let second = try a.createOffer()
        let origin = { (d: SessionDescription) in Jsep.lines(d.sdp, "o=").first?.split(separator: " ").map(String.init) ?? [] }
        #expect(origin(first)[1] == origin(second)[1])
        #expect(UInt64(origin(second)[2]) ?? 0 > UInt64(origin(first)[2]) ?? 0)
    }

    struct Browser: Sendable, CustomTestStringConvertible {
        var sample: String
        var mid: String
        var index: Int
        var sections: Int
        var testDescription: String { sample }
    }

    @Test("browsers' offers answered: effects, rejected sections, then our re-offer keeps their m= lines and the data mid",
          .timeLimit(.minutes(1)),
          arguments: [
              Browser(sample: "dc-chromeOffer", mid: "2", index: 2, sections: 3),
              Browser(sample: "dc-firefoxOffer", mid: "2", index: 2, sections: 3),
              Browser(sample: "dc-chromeDataOnlyOffer", mid: "0", index: 0, sections: 1),
              Browser(sample: "dc-aiortcOffer", mid: "0", index: 0, sections: 1),
          ])
    func browserOffer(_ browser: Browser) throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = SessionDescription(type: .offer, sdp: try sampleSDP(browser.sample))
        let remote = try DataChannelRemoteDescription(parsing: offer.sdp)
        let effects = try pc.setRemoteDescription(offer)
        #expect(effects == [
            .startIce(role: .controlled),
            .setRemoteIce(remote.ice, candidates: remote.candidates, endOfCandidates: remote.endOfCandidates, lite: remote.iceLite),
        ])
        #expect(pc.dataMid == browser.mid && pc.dataMLineIndex == browser.index)
        let answer = try pc.createAnswer()
        #expect(Jsep.lines(answer.sdp, "m=").count == browser.sections)
        #expect(Jsep.lines(answer.sdp, "a=setup:") == ["a=setup:active"])
        #expect(try pc.setLocalDescription(answer) == [
            .startDtls(role: .client, remote: remote.dtls),
            .startSctp(remotePort: remote.sctpPort, remoteMaxMessageSize: remote.maxMessageSize),
        ])
        // Their candidates for the data mid are ours.
        let route = try pc.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: browser.mid, sdpMLineIndex: browser.index))
        #expect(route == .add(try IceCandidate(parsing: Jsep.hostCandidate).withMetadata(mid: browser.mid, index: browser.index)))

        // Our re-offer: every m= line again, others rejected, the data section where it was.
        let reoffer = try pc.createOffer()
        let lines = Jsep.lines(reoffer.sdp, "m=")
        #expect(lines.count == browser.sections)
        #expect(lines[browser.index] == "m=application 9 UDP/DTLS/SCTP webrtc-datachannel")
        #expect(lines.enumerated().allSatisfy { $0.offset == browser.index || $0.element.split(separator: " ")[1] == "0" })
        #expect(Jsep.lines(reoffer.sdp, "a=group:BUNDLE") == ["a=group:BUNDLE \(browser.mid)"])
        #expect(Jsep.lines(reoffer.sdp, "a=setup:") == ["a=setup:active"])
        _ = try pc.setLocalDescription(reoffer)
        // Another Negotiation can answer it, and its answer applies.
        var peer = try Jsep.peer("b", seed: 2)
        _ = try peer.setRemoteDescription(reoffer)
        let answer2 = try peer.createAnswer()
        #expect(Jsep.lines(answer2.sdp, "a=setup:") == ["a=setup:passive"])
        // (peer's fingerprint differs from the browser's: the certificate check refuses it.)
        #expect(Jsep.code { _ = try pc.setRemoteDescription(answer2) } == .invalidAccess)
    }

    @Test("ICE-lite: a full agent controls against a lite one, whichever offers; both lite: the offerer", .timeLimit(.minutes(1)))
    func iceLite() throws {
        var full = try Jsep.peer("a", seed: 1)
        var lite = try Jsep.peer("b", seed: 2, lite: true)
        let offer = try lite.createOffer()
        #expect(Jsep.lines(offer.sdp, "a=ice-lite").count == 1)
        #expect(try lite.setLocalDescription(offer) == [.startIce(role: .controlled)])
        let effects = try full.setRemoteDescription(offer)
        #expect(effects.first == .startIce(role: .controlling))
        #expect(effects.last == .setRemoteIce(lite.local.ice, candidates: [], endOfCandidates: false, lite: true))
        _ = try full.setLocalDescription(full.createAnswer())
        _ = try lite.setRemoteDescription(#require(full.localDescription))
        #expect(full.iceRole == .controlling && lite.iceRole == .controlled)

        var full2 = try Jsep.peer("c", seed: 3)
        var lite2 = try Jsep.peer("d", seed: 4, lite: true)
        let effects2 = try Jsep.handshake(&full2, &lite2)
        #expect(effects2[1].first == .startIce(role: .controlled))
        #expect(Jsep.lines(try #require(lite2.localDescription).sdp, "a=ice-lite").count == 1)
        #expect(full2.iceRole == .controlling && lite2.iceRole == .controlled)

        var lite3 = try Jsep.peer("e", seed: 5, lite: true)
        var lite4 = try Jsep.peer("f", seed: 6, lite: true)
        let effects3 = try Jsep.handshake(&lite3, &lite4)
        #expect(effects3[3].first == .startIce(role: .controlling), "both lite: the offerer controls")
        #expect(lite3.iceRole == .controlling && lite4.iceRole == .controlled)
    }

    @Test("pranswer between two peers: ICE with the pranswer, DTLS and SCTP with the answer", .timeLimit(.minutes(1)))
    func pranswer() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        let offer = try a.createOffer()
        _ = try a.setLocalDescription(offer)
        _ = try b.setRemoteDescription(offer)
        let answer = try b.createAnswer()
        let pranswer = SessionDescription(type: .pranswer, sdp: answer.sdp)
        #expect(try b.setLocalDescription(pranswer).isEmpty)
        #expect(try a.setRemoteDescription(pranswer) == [.setRemoteIce(b.local.ice, candidates: [], endOfCandidates: false, lite: false)])
        #expect(try b.setLocalDescription(answer).count == 2)
        #expect(try a.setRemoteDescription(answer) == [
            .startDtls(role: .server, remote: Self.dtls(b, .client)), .startSctp(remotePort: 5000, remoteMaxMessageSize: 262_144),
        ])
    }

    @Test("descriptions that do not fit the session: InvalidAccessError (DTLS roles, certificate, sections, mid)", .timeLimit(.minutes(1)))
    func doesNotFit() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        let offer = try a.createOffer()
        _ = try a.setLocalDescription(offer)
        _ = try b.setRemoteDescription(offer)
        let answer = try b.createAnswer()
        let actpass = Jsep.error { _ = try a.setRemoteDescription(SessionDescription(type: .answer, sdp: answer.sdp.replacingAll("a=setup:active", "a=setup:actpass"))) }
        #expect(actpass?.code == .invalidAccess)
        #expect(actpass?.field == "a=setup")
        let otherMid = answer.sdp.replacingAll("a=mid:0", "a=mid:x").replacingAll("BUNDLE 0", "BUNDLE x")
        #expect(Jsep.code { _ = try a.setRemoteDescription(SessionDescription(type: .answer, sdp: otherMid)) } == .invalidAccess)
        #expect(a.signalingState == .haveLocalOffer, "a refused answer changes nothing")
        _ = try b.setLocalDescription(answer)
        _ = try a.setRemoteDescription(answer)

        // A re-offer that swaps the DTLS roles, or comes with another certificate.
        let reoffer = try b.createOffer()
        let swapped = reoffer.sdp.replacingAll("a=setup:active", "a=setup:passive")
        #expect(Jsep.code { _ = try a.setRemoteDescription(SessionDescription(type: .offer, sdp: swapped)) } == .invalidAccess)
        var stranger = try Jsep.peer("b", seed: 9)
        _ = try stranger.setRemoteDescription(offer)
        _ = try stranger.setLocalDescription(stranger.createAnswer())
        let foreign = try stranger.createOffer()
        #expect(Jsep.code { _ = try a.setRemoteDescription(foreign) } == .invalidAccess)
        #expect(a.signalingState == .stable)
        // An answer that takes the role our offer took.
        _ = try a.setLocalDescription(a.createOffer())   // a=setup:passive (a is the server)
        _ = try b.setRemoteDescription(#require(a.localDescription))
        let sameRole = try b.createAnswer().sdp.replacingAll("a=setup:active", "a=setup:passive")
        #expect(Jsep.code { _ = try a.setRemoteDescription(SessionDescription(type: .answer, sdp: sameRole)) } == .invalidAccess)
    }
}
