import NiceICECore
import NiceWebRTCCore
import Testing

/// ICE restarts: ``Negotiation/restartIce()``, restart offers, remote restart detection and the
/// credentials each side uses, ported from RTCPeerConnection-restartIce.https.html. W3C's
/// `negotiationneeded` is read as: ``Negotiation/restartIce()`` returns true, or
/// ``Negotiation/restartPending`` is true once the state is stable again (the runtime fires the
/// event then). `addTransceiver("audio")` reads as "the session needs its first negotiation".
///
/// Ported: "restartIce() does not trigger negotiation ahead of initial negotiation",
/// "restartIce() has no effect on initial negotiation", "restartIce() fires negotiationneeded
/// after initial negotiation", "restartIce() causes fresh ufrags", "restartIce() works in
/// have-local-offer", "restartIce() works in initial have-local-offer", "restartIce() works in
/// have-remote-offer", "restartIce() does nothing in initial have-remote-offer", "restartIce()
/// survives remote offer", "restartIce() is satisfied by remote ICE restart", "restartIce()
/// trumps {iceRestart: false}", "restartIce() survives rollback".
///
/// Do not apply: "restartIce() survives remote offer containing partial restart" and the
/// max-compat partial-restart case: they need two ICE transports (bundlePolicy max-compat,
/// audio and video); a data-only session has one.
@Suite("Negotiation: ICE restarts (WPT restartIce ports), generations and roles")
struct NegotiationRestartTests {
    static func pair() throws -> (Negotiation, Negotiation) {
        (try Jsep.peer("a", seed: 1), try Jsep.peer("b", seed: 2))
    }

    static func ufrag(_ pc: Negotiation) -> String? { Jsep.ufrags(pc.localDescription).first }

    @Test("restartIce() does not trigger negotiation ahead of initial negotiation, and has no effect on it", .timeLimit(.minutes(1)))
    func beforeInitial() throws {
        var (pc1, pc2) = try Self.pair()
        let needed = pc1.restartIce()
        #expect(!needed)
        #expect(!pc1.restartPending)
        let initial = pc1.local.ice
        try Jsep.handshake(&pc1, &pc2)
        #expect(pc1.local.ice == initial)
        #expect(Self.ufrag(pc1) == initial.usernameFragment)
        #expect(!pc1.restartPending)
    }

    @Test("restartIce() fires negotiationneeded after initial negotiation, and causes fresh ufrags once", .timeLimit(.minutes(1)))
    func freshUfrags() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old1 = Self.ufrag(pc1)
        let old2 = Self.ufrag(pc2)
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) == old1, "control 1")
        #expect(Self.ufrag(pc2) == old2, "control 2")

        let needed = pc1.restartIce()
        #expect(needed)
        #expect(pc1.restartPending)
        let effects = try Jsep.handshake(&pc1, &pc2)
        let new1 = Self.ufrag(pc1)
        let new2 = Self.ufrag(pc2)
        #expect(new1 != old1, "ufrag 1 changed")
        #expect(new2 != old2, "ufrag 2 changed")
        #expect(!pc1.restartPending)
        #expect(effects[0] == [.useLocalIce(pc1.local.ice)], "the offerer uses its new credentials when it applies the offer")
        #expect(effects[1].contains(.setRemoteIce(pc1.local.ice, candidates: [], endOfCandidates: false, lite: false)))
        #expect(effects[2] == [.useLocalIce(pc2.local.ice)], "the answerer's new credentials come with its answer")
        #expect(effects[3] == [.setRemoteIce(pc2.local.ice, candidates: [], endOfCandidates: false, lite: false)])

        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) == new1, "unchanged 1")
        #expect(Self.ufrag(pc2) == new2, "unchanged 2")
    }

    @Test("restartIce() works in have-local-offer: the exchange in progress keeps its ufrags, the next one restarts", .timeLimit(.minutes(1)))
    func inHaveLocalOffer() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old1 = Self.ufrag(pc1)
        let old2 = Self.ufrag(pc2)
        _ = try pc1.setLocalDescription(pc1.createOffer())
        let needed = pc1.restartIce()
        #expect(!needed, "W3C waits for stable")
        _ = try pc2.setRemoteDescription(#require(pc1.localDescription))
        _ = try pc2.setLocalDescription(pc2.createAnswer())
        _ = try pc1.setRemoteDescription(#require(pc2.localDescription))
        #expect(Self.ufrag(pc1) == old1)
        #expect(Self.ufrag(pc2) == old2)
        #expect(pc1.restartPending, "negotiationneeded once stable")
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) != old1)
        #expect(Self.ufrag(pc2) != old2)
        #expect(!pc1.restartPending)
    }

    @Test("restartIce() works in initial have-local-offer", .timeLimit(.minutes(1)))
    func inInitialHaveLocalOffer() throws {
        var (pc1, pc2) = try Self.pair()
        _ = try pc1.setLocalDescription(pc1.createOffer())
        let needed = pc1.restartIce()
        #expect(!needed)
        _ = try pc2.setRemoteDescription(#require(pc1.localDescription))
        _ = try pc2.setLocalDescription(pc2.createAnswer())
        _ = try pc1.setRemoteDescription(#require(pc2.localDescription))
        let old1 = Self.ufrag(pc1)
        let old2 = Self.ufrag(pc2)
        #expect(pc1.restartPending)
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) != old1)
        #expect(Self.ufrag(pc2) != old2)
        #expect(!pc1.restartPending)
    }

    @Test("restartIce() works in have-remote-offer: our answer keeps the ufrags, our next offer restarts", .timeLimit(.minutes(1)))
    func inHaveRemoteOffer() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old1 = Self.ufrag(pc1)
        let old2 = Self.ufrag(pc2)
        _ = try pc2.setLocalDescription(pc2.createOffer())
        _ = try pc1.setRemoteDescription(#require(pc2.localDescription))
        _ = pc1.restartIce()
        #expect(!pc1.needsNewLocalIceForAnswer)
        let answer = try pc1.createAnswer()
        _ = try pc2.setRemoteDescription(answer)
        _ = try pc1.setLocalDescription(answer)
        #expect(Self.ufrag(pc1) == old1)
        #expect(Self.ufrag(pc2) == old2)
        #expect(pc1.restartPending)
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) != old1)
        #expect(Self.ufrag(pc2) != old2)
        #expect(!pc1.restartPending)
    }

    @Test("restartIce() does nothing in initial have-remote-offer", .timeLimit(.minutes(1)))
    func inInitialHaveRemoteOffer() throws {
        var (pc1, pc2) = try Self.pair()
        _ = try pc2.setLocalDescription(pc2.createOffer())
        _ = try pc1.setRemoteDescription(#require(pc2.localDescription))
        let needed = pc1.restartIce()
        #expect(!needed)
        let answer = try pc1.createAnswer()
        _ = try pc2.setRemoteDescription(answer)
        _ = try pc1.setLocalDescription(answer)
        #expect(!pc1.restartPending)
    }

    @Test("restartIce() survives a remote offer, and is satisfied by a remote ICE restart", .timeLimit(.minutes(1)))
    func remoteOffers() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old1 = Self.ufrag(pc1)
        let old2 = Self.ufrag(pc2)
        #expect(pc1.restartIce() == true)
        try Jsep.handshakeEndOnSecond(&pc2, &pc1)
        #expect(Self.ufrag(pc1) == old1, "nothing yet 1")
        #expect(Self.ufrag(pc2) == old2, "nothing yet 2")
        #expect(pc1.restartPending)
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) != old1)
        #expect(Self.ufrag(pc2) != old2)

        // Both restart; pc2 offers first: pc1's answer has new credentials, which satisfies it.
        let mid1 = Self.ufrag(pc1)
        #expect(pc1.restartIce() == true)
        #expect(pc2.restartIce() == true)
        try Jsep.handshakeEndOnSecond(&pc2, &pc1)
        #expect(Self.ufrag(pc1) != mid1)
        #expect(!pc1.restartPending)
        #expect(!pc2.restartPending)
        let new1 = Self.ufrag(pc1)
        let new2 = Self.ufrag(pc2)
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) == new1)
        #expect(Self.ufrag(pc2) == new2)
    }

    @Test("restartIce() trumps {iceRestart: false}; createOffer(iceRestart:) and newIce pick the credentials", .timeLimit(.minutes(1)))
    func trumpsFalse() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old1 = Self.ufrag(pc1)
        _ = pc1.restartIce()
        _ = try pc1.setLocalDescription(pc1.createOffer(iceRestart: false))
        #expect(Self.ufrag(pc1) != old1)

        var (pc3, pc4) = try Self.pair()
        try Jsep.handshake(&pc3, &pc4)
        let chosen = Jsep.ice("new")
        let offer = try pc3.createOffer(iceRestart: true, newIce: chosen)
        #expect(Jsep.ufrags(offer) == [chosen.usernameFragment])
        #expect(pc3.local.ice != chosen, "credentials change when the offer is applied")
        #expect(try pc3.setLocalDescription(offer) == [.useLocalIce(chosen)])
        #expect(pc3.local.ice == chosen)
    }

    @Test("restartIce() survives rollback; the rolled-back offer's credentials are dropped", .timeLimit(.minutes(1)))
    func survivesRollback() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old = pc1.local.ice
        #expect(pc1.restartIce() == true)
        let effects = try pc1.setLocalDescription(pc1.createOffer())
        #expect(effects.count == 1)
        #expect(pc1.local.ice != old)
        #expect(try pc1.setLocalDescription(SessionDescription(type: .rollback, sdp: "")) == [.useLocalIce(old)])
        #expect(pc1.local.ice == old)
        #expect(pc1.restartPending, "negotiationneeded again")
        try Jsep.handshake(&pc1, &pc2)
        #expect(Self.ufrag(pc1) != old.usernameFragment)
        #expect(!pc1.restartPending)
    }

    @Test("a remote restart: detected, answered with new credentials, roles re-decided by who offered it; DTLS untouched", .timeLimit(.minutes(1)))
    func remoteRestart() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        #expect(pc1.iceRole == .controlling && pc2.iceRole == .controlled)
        #expect(pc1.dtlsRole == .server && pc2.dtlsRole == .client)

        #expect(pc2.restartIce() == true)
        let offer = try pc2.createOffer()
        #expect(try pc2.setLocalDescription(offer) == [.startIce(role: .controlling), .useLocalIce(pc2.local.ice)])
        let seen = try pc1.setRemoteDescription(offer)
        #expect(seen == [.startIce(role: .controlled), .setRemoteIce(pc2.local.ice, candidates: [], endOfCandidates: false, lite: false)])
        #expect(pc1.needsNewLocalIceForAnswer)
        let fresh = Jsep.ice("fresh")
        let answer = try pc1.createAnswer(newIce: fresh)
        #expect(Jsep.ufrags(answer) == [fresh.usernameFragment])
        #expect(Jsep.lines(answer.sdp, "a=setup:") == ["a=setup:passive"], "the negotiated DTLS role is kept")
        #expect(try pc1.setLocalDescription(answer) == [.useLocalIce(fresh)])
        #expect(!pc1.needsNewLocalIceForAnswer)
        #expect(try pc2.setRemoteDescription(answer) == [.setRemoteIce(fresh, candidates: [], endOfCandidates: false, lite: false)])
        #expect(pc1.iceRole == .controlled && pc2.iceRole == .controlling)
        #expect(pc1.dtlsRole == .server && pc2.dtlsRole == .client)
        #expect(pc1.remoteIce == pc2.local.ice && pc2.remoteIce == pc1.local.ice)
    }

    @Test("a rolled-back remote restart offer restores the remote credentials, candidates and role", .timeLimit(.minutes(1)))
    func remoteRestartRolledBack() throws {
        var (pc1, pc2) = try Self.pair()
        let candidate = try IceCandidate(parsing: Jsep.hostCandidate)
        let first = try pc1.createOffer(candidates: [candidate], endOfCandidates: true)
        _ = try pc1.setLocalDescription(first)
        _ = try pc2.setRemoteDescription(first)
        let answer = try pc2.createAnswer()
        _ = try pc2.setLocalDescription(answer)
        _ = try pc1.setRemoteDescription(answer)
        let before = try #require(pc2.remoteIce)

        #expect(pc1.restartIce() == true)
        _ = try pc2.setLocalDescription(pc2.createOffer())   // glare: pc2 offers too
        _ = try pc1.setLocalDescription(pc1.createOffer())
        let restarted = try pc2.setRemoteDescription(#require(pc1.localDescription))   // implicit rollback, then pc1's restart
        #expect(restarted == [.setRemoteIce(pc1.local.ice, candidates: [], endOfCandidates: false, lite: false)])
        #expect(pc2.remoteIce != before)
        let undo = try pc2.setRemoteDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(undo == [.setRemoteIce(before, candidates: [candidate.withMetadata(mid: "0", index: 0)], endOfCandidates: true, lite: false)])
        #expect(pc2.remoteIce == before)
        #expect(pc2.iceRole == .controlled)
    }

    @Test("the implicit forms (empty sdp) restart too: a pending restartIce() offer and the answer to a remote restart get new credentials",
          .timeLimit(.minutes(1)))
    func implicitForms() throws {
        var (pc1, pc2) = try Self.pair()
        try Jsep.handshake(&pc1, &pc2)
        let old1 = pc1.local.ice
        let old2 = pc2.local.ice
        #expect(pc1.restartIce() == true)
        let offerEffects = try pc1.setLocalDescription(SessionDescription(type: .offer, sdp: ""))
        #expect(pc1.local.ice != old1)
        #expect(offerEffects == [.useLocalIce(pc1.local.ice)])
        _ = try pc2.setRemoteDescription(#require(pc1.localDescription))
        let answerEffects = try pc2.setLocalDescription(SessionDescription(type: .answer, sdp: ""))
        #expect(pc2.local.ice != old2)
        #expect(answerEffects == [.useLocalIce(pc2.local.ice)])
        _ = try pc1.setRemoteDescription(#require(pc2.localDescription))
        #expect(pc1.remoteIce == pc2.local.ice && pc2.remoteIce == pc1.local.ice)
        // iceRestart on a first offer changes nothing: there is nothing to replace yet.
        let (pc3, _) = try Self.pair()
        #expect(Jsep.ufrags(try pc3.createOffer(iceRestart: true)) == [pc3.local.ice.usernameFragment])
    }
}
