import NiceICECore
import NiceWebRTCCore
import Testing

/// Signalling states, transitions and W3C errors of ``Negotiation``, ported from the
/// web-platform-tests (webrtc/) for a data-only session. Every `pc` is a Negotiation; a remote
/// offer or answer comes from a second Negotiation (WPT's `generateOffer` / `generateAnswer`).
///
/// Ported (name of the WPT case → test here):
/// - RTCPeerConnection-setLocalDescription-offer.html: "setLocalDescription with valid offer
///   should succeed", "… type offer and null sdp should use lastOffer generated from
///   createOffer", "setLocalDescription() with offer not created by own createOffer() should
///   reject with InvalidModificationError", "Creating and setting offer multiple times should
///   succeed".
/// - -setLocalDescription-answer.html: "… with valid answer should succeed", "… type answer
///   and null sdp should use lastAnswer …", "… answer not created by own createAnswer() should
///   reject with InvalidModificationError", "Calling setLocalDescription(answer) from stable
///   state / from have-local-offer state should reject with InvalidStateError".
/// - -setLocalDescription-pranswer.html: all four cases.
/// - -setLocalDescription-rollback.html: all four cases.
/// - -setLocalDescription.html: "Calling createOffer() and setLocalDescription() again after
///   one round of local-offer/remote-answer should succeed", "Switching role from answerer to
///   offerer after going back to stable state should succeed".
/// - -setRemoteDescription-offer.html: "setRemoteDescription with valid offer should succeed",
///   "… multiple times should succeed", "… multiple times with different offer should succeed",
///   "setRemoteDescription(offer) with invalid SDP should reject with RTCError" (OperationError
///   with the SDP reader's error), "setRemoteDescription(offer) from have-local-offer should
///   roll back and succeed", "… from have-local-offer fires signalingstatechange twice" (the
///   intermediate stable state: the rollback's effects come first), "setRemoteDescription
///   (invalidOffer) from have-local-offer does not undo rollback", "Naive rollback approach is
///   not glare-proof (control)" (addIceCandidate in stable without a remote description is
///   InvalidStateError), "repeated sRD(offer) works", "sRD(reoffer) with candidates and without
///   trickle works" (the re-offer applies; no connectivity here).
/// - -setRemoteDescription-answer.html: all three cases.
/// - -setRemoteDescription-pranswer.html: all four cases.
/// - -setRemoteDescription-rollback.html: all three cases.
/// - -createOffer.html: "createOffer() with no argument from newly created RTCPeerConnection
///   should succeed", "createOffer() and then setLocalDescription() should succeed",
///   "createOffer() after connection is closed should reject with InvalidStateError"; and
///   webrtc-pc's "neither stable nor have-local-offer → InvalidStateError".
/// - -createAnswer.html: "createAnswer() with null remoteDescription should reject with
///   InvalidStateError", "createAnswer() after setting remote description should succeed",
///   "createAnswer() when connection is closed reject with InvalidStateError".
///
/// Do not apply:
/// - "Set created offer other than last offer should reject with InvalidModificationError"
///   (-setLocalDescription-offer): the two offers differ by offerToReceiveAudio/Video, media a
///   data-only session has not; and `createOffer` is a non-mutating function, so the core
///   checks a local description by its content (our fingerprints, credentials, DTLS role,
///   sections), not by identity with the last one created: two offers of the same state are
///   the same text here.
/// - "onsignalingstatechange fires before setLocalDescription resolves", the "… should update
///   internal state with a queued task, in the right order" cases, "createAnswer() when
///   connection is closed in parallel should never resolve", "setRemoteDescription(offer) from
///   have-local-offer is glare-proof" (its operations-chain half): events, tasks and promises
///   belong to the runtime PeerConnection; the core is synchronous.
/// - -createOffer.html's offerToReceiveAudio/Video and "media stream added while createOffer()
///   runs", -setRemoteDescription.html (ontrack and MSID), the transceiver cases of
///   -setRemoteDescription-offer.html and -setLocalDescription.html's media parts: media.
@Suite("Negotiation: signalling states, transitions and W3C errors (WPT ports)")
struct NegotiationSignalingTests {
    // MARK: setLocalDescription(offer)

    @Test("setLocalDescription with valid offer should succeed", .timeLimit(.minutes(1)))
    func localOffer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try pc.createOffer()
        #expect(offer.type == .offer)
        let effects = try pc.setLocalDescription(offer)
        #expect(pc.signalingState == .haveLocalOffer)
        #expect(pc.localDescription == offer)
        #expect(pc.pendingLocalDescription == offer)
        #expect(pc.currentLocalDescription == nil)
        #expect(effects == [.startIce(role: .controlling)])
        #expect(pc.iceRole == .controlling)
        #expect(pc.dataMid == "0")
        #expect(pc.dataMLineIndex == 0)
    }

    @Test("setLocalDescription with type offer and empty sdp uses the offer createOffer makes", .timeLimit(.minutes(1)))
    func implicitOffer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try pc.createOffer()
        _ = try pc.setLocalDescription(SessionDescription(type: .offer, sdp: ""))
        #expect(pc.signalingState == .haveLocalOffer)
        #expect(pc.pendingLocalDescription == offer)
        #expect(pc.currentLocalDescription == nil)
    }

    @Test("setLocalDescription() with offer not created by own createOffer() rejects with InvalidModificationError", .timeLimit(.minutes(1)))
    func foreignOffer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let pc2 = try Jsep.peer("b", seed: 2)
        let offer = try pc2.createOffer()
        let error = Jsep.error { _ = try pc.setLocalDescription(offer) }
        #expect(error?.code == .invalidModification)
        #expect(error?.field == "a=fingerprint")
        #expect(pc.signalingState == .stable)
        // Our own offer with other credentials (munged) is not ours either.
        let munged = try pc.createOffer().sdp.replacingAll("uaxxxx", "uzxxxx")
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .offer, sdp: munged)) } == .invalidModification)
        // Nor text that does not parse.
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .offer, sdp: "v=0\r\nnonsense")) } == .invalidModification)
    }

    @Test("Creating and setting offer multiple times should succeed", .timeLimit(.minutes(1)))
    func offerTwice() throws {
        var pc = try Jsep.peer("a", seed: 1)
        _ = try pc.setLocalDescription(pc.createOffer())
        let offer2 = try pc.createOffer()
        let effects = try pc.setLocalDescription(offer2)
        #expect(effects.isEmpty)
        #expect(pc.signalingState == .haveLocalOffer)
        #expect(pc.localDescription == offer2)
        #expect(pc.pendingLocalDescription == offer2)
        #expect(pc.currentLocalDescription == nil)
    }

    // MARK: setLocalDescription(answer)

    @Test("setLocalDescription() with valid answer should succeed", .timeLimit(.minutes(1)))
    func localAnswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        let offer = try other.createOffer()
        _ = try other.setLocalDescription(offer)
        _ = try pc.setRemoteDescription(offer)
        let answer = try pc.createAnswer()
        #expect(answer.type == .answer)
        _ = try pc.setLocalDescription(answer)
        #expect(pc.signalingState == .stable)
        #expect(pc.localDescription == answer)
        #expect(pc.remoteDescription == offer)
        #expect(pc.currentLocalDescription == answer)
        #expect(pc.currentRemoteDescription == offer)
        #expect(pc.pendingLocalDescription == nil)
        #expect(pc.pendingRemoteDescription == nil)
    }

    @Test("setLocalDescription() with type answer and empty sdp uses the answer createAnswer makes", .timeLimit(.minutes(1)))
    func implicitAnswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try Jsep.peer("b", seed: 2).createOffer()
        _ = try pc.setRemoteDescription(offer)
        let answer = try pc.createAnswer()
        _ = try pc.setLocalDescription(SessionDescription(type: .answer, sdp: ""))
        #expect(pc.signalingState == .stable)
        #expect(pc.currentLocalDescription == answer)
        #expect(pc.currentRemoteDescription == offer)
    }

    @Test("setLocalDescription() with answer not created by own createAnswer() rejects with InvalidModificationError", .timeLimit(.minutes(1)))
    func foreignAnswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var third = try Jsep.peer("c", seed: 3)
        let offer = try Jsep.peer("b", seed: 2).createOffer()
        _ = try pc.setRemoteDescription(offer)
        _ = try third.setRemoteDescription(offer)
        let answer = try third.createAnswer()
        #expect(Jsep.code { _ = try pc.setLocalDescription(answer) } == .invalidModification)
        #expect(pc.signalingState == .haveRemoteOffer)
        // Our answer with a=setup:passive instead of active is not ours either.
        let munged = try pc.createAnswer().sdp.replacingAll("a=setup:active", "a=setup:actpass")
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .answer, sdp: munged)) } == .invalidModification)
    }

    @Test("setLocalDescription(answer) from stable or have-local-offer rejects with InvalidStateError", .timeLimit(.minutes(1)))
    func localAnswerWrongState() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try Jsep.peer("b", seed: 2).createOffer()
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .answer, sdp: offer.sdp)) } == .invalidState)
        var other = try Jsep.peer("b", seed: 2)
        let ours = try pc.createOffer()
        _ = try pc.setLocalDescription(ours)
        _ = try other.setRemoteDescription(ours)
        let answer = try other.createAnswer()
        #expect(Jsep.code { _ = try pc.setLocalDescription(answer) } == .invalidState)
        #expect(pc.signalingState == .haveLocalOffer)
    }

    // MARK: setLocalDescription(pranswer)

    @Test("setLocalDescription(pranswer): InvalidStateError from stable; succeeds, repeats, then answer", .timeLimit(.minutes(1)))
    func localPranswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try Jsep.peer("b", seed: 2).createOffer()
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .pranswer, sdp: offer.sdp)) } == .invalidState)

        _ = try pc.setRemoteDescription(offer)
        let answer = try pc.createAnswer()
        let pranswer = SessionDescription(type: .pranswer, sdp: answer.sdp)
        let effects = try pc.setLocalDescription(pranswer)
        #expect(effects.isEmpty, "DTLS and SCTP start with the final answer")
        #expect(pc.signalingState == .haveLocalPranswer)
        #expect(pc.remoteDescription == offer)
        #expect(pc.pendingRemoteDescription == offer)
        #expect(pc.currentRemoteDescription == nil)
        #expect(pc.localDescription == pranswer)
        #expect(pc.pendingLocalDescription == pranswer)
        #expect(pc.currentLocalDescription == nil)
        #expect(pc.dtlsRole == nil)

        _ = try pc.setLocalDescription(pranswer)
        #expect(pc.signalingState == .haveLocalPranswer)

        let final = try pc.setLocalDescription(answer)
        #expect(pc.signalingState == .stable)
        #expect(pc.currentLocalDescription == answer)
        #expect(pc.currentRemoteDescription == offer)
        #expect(pc.pendingLocalDescription == nil)
        #expect(pc.pendingRemoteDescription == nil)
        #expect(final.contains { if case .startDtls(role: .client, _) = $0 { true } else { false } })
    }

    // MARK: setLocalDescription(rollback)

    @Test("setLocalDescription(rollback) from have-local-offer resets back to stable", .timeLimit(.minutes(1)))
    func localRollback() throws {
        var pc = try Jsep.peer("a", seed: 1)
        _ = try pc.setLocalDescription(pc.createOffer())
        #expect(pc.signalingState == .haveLocalOffer)
        #expect(pc.localDescription != nil)
        let effects = try pc.setLocalDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(effects.isEmpty)
        #expect(pc.signalingState == .stable)
        #expect(pc.localDescription == nil)
        #expect(pc.pendingLocalDescription == nil)
        #expect(pc.currentLocalDescription == nil)
        #expect(pc.iceRole == nil, "the first offer's role decision is undone")
        #expect(pc.dataMid == nil)
    }

    @Test("setLocalDescription(rollback) from stable, or after the answer, rejects with InvalidStateError", .timeLimit(.minutes(1)))
    func localRollbackWrongState() throws {
        var pc = try Jsep.peer("a", seed: 1)
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .rollback, sdp: "")) } == .invalidState)
        _ = try pc.setRemoteDescription(Jsep.peer("b", seed: 2).createOffer())
        _ = try pc.setLocalDescription(pc.createAnswer())
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .rollback, sdp: "")) } == .invalidState)
        #expect(pc.signalingState == .stable)
    }

    @Test("setLocalDescription(rollback) ignores invalid sdp content and succeeds", .timeLimit(.minutes(1)))
    func localRollbackIgnoresSdp() throws {
        var pc = try Jsep.peer("a", seed: 1)
        _ = try pc.setLocalDescription(pc.createOffer())
        _ = try pc.setLocalDescription(SessionDescription(type: .rollback, sdp: "!<Invalid SDP Content>;"))
        #expect(pc.signalingState == .stable)
    }

    // MARK: setLocalDescription (again)

    @Test("createOffer() and setLocalDescription() again after one round of local-offer/remote-answer", .timeLimit(.minutes(1)))
    func secondOffer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        try Jsep.handshake(&pc, &other)
        let offer1 = try #require(pc.currentLocalDescription)
        let offer2 = try pc.createOffer()
        #expect(offer2 != offer1, "a later offer has a higher o= version")
        _ = try pc.setLocalDescription(offer2)
        #expect(pc.signalingState == .haveLocalOffer)
        #expect(pc.localDescription == offer2)
        #expect(pc.currentLocalDescription == offer1)
        #expect(pc.pendingLocalDescription == offer2)
    }

    @Test("Switching role from answerer to offerer after going back to stable state", .timeLimit(.minutes(1)))
    func answererThenOfferer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        try Jsep.handshake(&other, &pc)
        let answer = try #require(pc.currentLocalDescription)
        let offer = try pc.createOffer()
        _ = try pc.setLocalDescription(offer)
        #expect(pc.signalingState == .haveLocalOffer)
        #expect(pc.localDescription == offer)
        #expect(pc.currentLocalDescription == answer)
        #expect(pc.pendingLocalDescription == offer)
    }

    // MARK: setRemoteDescription(offer)

    @Test("setRemoteDescription with valid offer should succeed, also repeated, also with a different offer", .timeLimit(.minutes(1)))
    func remoteOffer() throws {
        var pc1 = try Jsep.peer("a", seed: 1)
        var pc2 = try Jsep.peer("b", seed: 2)
        let offer1 = try pc1.createOffer()
        _ = try pc2.setRemoteDescription(offer1)
        #expect(pc2.signalingState == .haveRemoteOffer)
        #expect(pc2.remoteDescription == offer1)
        #expect(pc2.pendingRemoteDescription == offer1)
        #expect(pc2.currentRemoteDescription == nil)

        let again = try pc2.setRemoteDescription(offer1)
        #expect(again.isEmpty, "the same offer changes nothing")
        #expect(pc2.signalingState == .haveRemoteOffer)
        #expect(pc2.pendingRemoteDescription == offer1)

        _ = try pc1.setLocalDescription(offer1)
        let offer2 = try pc1.createOffer(candidates: [IceCandidate(parsing: Jsep.hostCandidate)], endOfCandidates: true)
        #expect(offer2 != offer1)
        _ = try pc2.setRemoteDescription(offer2)
        #expect(pc2.signalingState == .haveRemoteOffer)
        #expect(pc2.remoteDescription == offer2)
        #expect(pc2.pendingRemoteDescription == offer2)
        #expect(pc2.currentRemoteDescription == nil)
    }

    @Test("setRemoteDescription(offer) with invalid SDP rejects with OperationError carrying the SDP error", .timeLimit(.minutes(1)))
    func remoteOfferInvalid() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let error = Jsep.error { _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: "Invalid SDP")) }
        #expect(error?.code == .operationError)
        #expect(error?.sdpError != nil)
        #expect(pc.signalingState == .stable)
        #expect(pc.remoteDescription == nil)
        // An offer without a data section is valid SDP this session cannot use.
        let noDataSection = try Jsep.peer("b", seed: 2).createOffer().sdp.replacingAll("webrtc-datachannel", "other-protocol")
        let noData = Jsep.error { _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: noDataSection)) }
        #expect(noData?.code == .operationError)
        #expect(noData?.field == "m=application")
    }

    @Test("setRemoteDescription(offer) from have-local-offer rolls back (stable first) and succeeds", .timeLimit(.minutes(1)))
    func remoteOfferImplicitRollback() throws {
        var pc1 = try Jsep.peer("a", seed: 1)
        let pc2 = try Jsep.peer("b", seed: 2)
        _ = try pc1.setLocalDescription(pc1.createOffer())
        let effects = try pc1.setRemoteDescription(pc2.createOffer())
        #expect(pc1.signalingState == .haveRemoteOffer)
        #expect(pc1.pendingLocalDescription == nil)
        #expect(pc1.pendingRemoteDescription?.type == .offer)
        #expect(effects.first == .startIce(role: .controlled), "the role is decided again by the remote offer")
        #expect(pc1.iceRole == .controlled)
    }

    @Test("setRemoteDescription(invalidOffer) from have-local-offer does not undo rollback", .timeLimit(.minutes(1)))
    func remoteOfferInvalidAfterRollback() throws {
        var pc = try Jsep.peer("a", seed: 1)
        _ = try pc.setLocalDescription(pc.createOffer())
        #expect(Jsep.code { _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: "Invalid SDP")) } == .operationError)
        #expect(pc.signalingState == .stable)
        #expect(pc.pendingLocalDescription == nil)
        #expect(pc.pendingRemoteDescription == nil)
    }

    @Test("Naive rollback (control): addIceCandidate in stable without a remote description is InvalidStateError", .timeLimit(.minutes(1)))
    func naiveRollback() throws {
        var pc1 = try Jsep.peer("a", seed: 1)
        let offer = try Jsep.peer("b", seed: 2).createOffer()
        _ = try pc1.setLocalDescription(pc1.createOffer())
        _ = try pc1.setLocalDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(pc1.signalingState == .stable)
        #expect(Jsep.code { _ = try pc1.route(IceCandidateInit(candidate: "")) } == .invalidState)
        _ = try pc1.setRemoteDescription(offer)
        #expect(pc1.signalingState == .haveRemoteOffer)
    }

    @Test("repeated sRD(offer) works, and a re-offer with candidates applies", .timeLimit(.minutes(1)))
    func repeatedRemoteOffer() throws {
        var pc1 = try Jsep.peer("a", seed: 1)
        var pc2 = try Jsep.peer("b", seed: 2)
        let offer = try pc1.createOffer()
        _ = try pc2.setRemoteDescription(offer)
        _ = try pc2.setRemoteDescription(offer)
        _ = try pc1.setLocalDescription(offer)
        let answer = try pc2.createAnswer()
        _ = try pc2.setLocalDescription(answer)
        _ = try pc1.setRemoteDescription(answer)
        #expect(pc1.signalingState == .stable && pc2.signalingState == .stable)

        let reoffer = try pc1.createOffer(candidates: [IceCandidate(parsing: Jsep.hostCandidate)], endOfCandidates: true)
        _ = try pc1.setLocalDescription(reoffer)
        _ = try pc2.setRemoteDescription(reoffer)
        _ = try pc2.setLocalDescription(pc2.createAnswer())
        _ = try pc1.setRemoteDescription(#require(pc2.localDescription))
        #expect(pc1.signalingState == .stable && pc2.signalingState == .stable)
    }

    // MARK: setRemoteDescription(answer), (pranswer), (rollback)

    @Test("setRemoteDescription() with valid state and answer should succeed", .timeLimit(.minutes(1)))
    func remoteAnswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        let offer = try pc.createOffer()
        _ = try pc.setLocalDescription(offer)
        _ = try other.setRemoteDescription(offer)
        let answer = try other.createAnswer()
        _ = try pc.setRemoteDescription(answer)
        #expect(pc.signalingState == .stable)
        #expect(pc.localDescription == offer)
        #expect(pc.remoteDescription == answer)
        #expect(pc.currentLocalDescription == offer)
        #expect(pc.currentRemoteDescription == answer)
        #expect(pc.pendingLocalDescription == nil)
        #expect(pc.pendingRemoteDescription == nil)
    }

    @Test("setRemoteDescription(answer) from stable or have-remote-offer rejects with InvalidStateError", .timeLimit(.minutes(1)))
    func remoteAnswerWrongState() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try pc.createOffer()
        #expect(Jsep.code { _ = try pc.setRemoteDescription(SessionDescription(type: .answer, sdp: offer.sdp)) } == .invalidState)
        let other = try Jsep.peer("b", seed: 2)
        let theirs = try other.createOffer()
        _ = try pc.setRemoteDescription(theirs)
        var third = try Jsep.peer("c", seed: 3)
        _ = try third.setRemoteDescription(theirs)
        let answer = try third.createAnswer()
        #expect(Jsep.code { _ = try pc.setRemoteDescription(answer) } == .invalidState)
        #expect(pc.signalingState == .haveRemoteOffer)
    }

    @Test("setRemoteDescription(pranswer): InvalidStateError from stable; succeeds, repeats, then answer", .timeLimit(.minutes(1)))
    func remotePranswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        let offer = try pc.createOffer()
        #expect(Jsep.code { _ = try pc.setRemoteDescription(SessionDescription(type: .pranswer, sdp: offer.sdp)) } == .invalidState)

        _ = try pc.setLocalDescription(offer)
        _ = try other.setRemoteDescription(offer)
        let answer = try other.createAnswer()
        let pranswer = SessionDescription(type: .pranswer, sdp: answer.sdp)
        let effects = try pc.setRemoteDescription(pranswer)
        #expect(effects.count == 1, "ICE may check with the pranswer's credentials; DTLS waits for the answer")
        #expect(pc.signalingState == .haveRemotePranswer)
        #expect(pc.localDescription == offer)
        #expect(pc.pendingLocalDescription == offer)
        #expect(pc.currentLocalDescription == nil)
        #expect(pc.remoteDescription == pranswer)
        #expect(pc.pendingRemoteDescription == pranswer)
        #expect(pc.currentRemoteDescription == nil)

        #expect(try pc.setRemoteDescription(pranswer).isEmpty)
        #expect(pc.signalingState == .haveRemotePranswer)

        let final = try pc.setRemoteDescription(answer)
        #expect(pc.signalingState == .stable)
        #expect(pc.localDescription == offer)
        #expect(pc.currentLocalDescription == offer)
        #expect(pc.pendingLocalDescription == nil)
        #expect(pc.remoteDescription == answer)
        #expect(pc.currentRemoteDescription == answer)
        #expect(pc.pendingRemoteDescription == nil)
        #expect(final.count == 2, "startDtls and startSctp")
    }

    @Test("setRemoteDescription(rollback): back to stable from have-remote-offer; InvalidStateError from stable; sdp ignored", .timeLimit(.minutes(1)))
    func remoteRollback() throws {
        var pc = try Jsep.peer("a", seed: 1)
        #expect(Jsep.code { _ = try pc.setRemoteDescription(SessionDescription(type: .rollback, sdp: "")) } == .invalidState)
        let offer = try Jsep.peer("b", seed: 2).createOffer()
        _ = try pc.setRemoteDescription(offer)
        #expect(pc.signalingState == .haveRemoteOffer)
        #expect(pc.remoteDescription != nil)
        #expect(pc.pendingRemoteDescription != nil)
        #expect(pc.currentRemoteDescription == nil)
        _ = try pc.setRemoteDescription(SessionDescription(type: .rollback, sdp: "!<Invalid SDP Content>;"))
        #expect(pc.signalingState == .stable)
        #expect(pc.remoteDescription == nil)
        #expect(pc.pendingRemoteDescription == nil)
        #expect(pc.currentRemoteDescription == nil)
        #expect(pc.remoteIce == nil)
        #expect(pc.iceRole == nil)
    }

    // MARK: createOffer, createAnswer, close

    @Test("createOffer(): from a new session, then setLocalDescription; InvalidStateError when closed or answering", .timeLimit(.minutes(1)))
    func createOffer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        let offer = try pc.createOffer()
        #expect(offer.type == .offer)
        #expect(Jsep.lines(offer.sdp, "m=") == ["m=application 9 UDP/DTLS/SCTP webrtc-datachannel"])
        #expect(Jsep.lines(offer.sdp, "a=setup:") == ["a=setup:actpass"])
        #expect(Jsep.lines(offer.sdp, "a=group:BUNDLE") == ["a=group:BUNDLE 0"])
        _ = try pc.setLocalDescription(offer)
        #expect(pc.signalingState == .haveLocalOffer)

        var answering = try Jsep.peer("b", seed: 2)
        _ = try answering.setRemoteDescription(offer)
        #expect(Jsep.code { _ = try answering.createOffer() } == .invalidState)

        pc.close()
        #expect(Jsep.code { _ = try pc.createOffer() } == .invalidState)
    }

    @Test("createAnswer(): InvalidStateError without a remote offer or when closed; succeeds after setRemoteDescription", .timeLimit(.minutes(1)))
    func createAnswer() throws {
        var pc = try Jsep.peer("a", seed: 1)
        #expect(Jsep.code { _ = try pc.createAnswer() } == .invalidState)
        _ = try pc.setRemoteDescription(Jsep.peer("b", seed: 2).createOffer())
        let answer = try pc.createAnswer()
        #expect(answer.type == .answer)
        #expect(Jsep.lines(answer.sdp, "a=setup:") == ["a=setup:active"])
        pc.close()
        #expect(Jsep.code { _ = try pc.createAnswer() } == .invalidState)
    }

    @Test("close(): state closed, every call InvalidStateError, restartIce false, no trickled candidates, descriptions kept", .timeLimit(.minutes(1)))
    func close() throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        try Jsep.handshake(&pc, &other)
        let local = pc.localDescription
        pc.close()
        #expect(pc.signalingState == .closed)
        #expect(pc.localDescription == local)
        let offer = try other.createOffer()
        #expect(Jsep.code { _ = try pc.setRemoteDescription(offer) } == .invalidState)
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .offer, sdp: "")) } == .invalidState)
        #expect(Jsep.code { _ = try pc.setLocalDescription(SessionDescription(type: .rollback, sdp: "")) } == .invalidState)
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0")) } == .invalidState)
        #expect(pc.restartIce() == false)
        #expect(pc.trickled(nil) == nil)
        pc.close()
        #expect(pc.signalingState == .closed)
    }

    // MARK: Every transition

    enum Call: String, CaseIterable, Sendable {
        case localOffer, localAnswer, localPranswer, localRollback, remoteOffer, remoteAnswer, remotePranswer, remoteRollback
    }

    struct Transition: Sendable, CustomTestStringConvertible {
        var from: SignalingState
        var call: Call
        /// nil: InvalidStateError.
        var to: SignalingState?
        var testDescription: String { "\(from.rawValue) + \(call.rawValue) → \(to?.rawValue ?? "InvalidStateError")" }
    }

    /// JSEP §3.2 / W3C webrtc-pc §4.4.1.5: which description each state accepts, and where it leads.
    static let transitions: [Transition] = {
        let table: [SignalingState: [Call: SignalingState]] = [
            .stable: [.localOffer: .haveLocalOffer, .remoteOffer: .haveRemoteOffer],
            .haveLocalOffer: [
                .localOffer: .haveLocalOffer, .remoteAnswer: .stable, .remotePranswer: .haveRemotePranswer, .localRollback: .stable,
                .remoteRollback: .stable, .remoteOffer: .haveRemoteOffer,
            ],
            .haveRemoteOffer: [
                .remoteOffer: .haveRemoteOffer, .localAnswer: .stable, .localPranswer: .haveLocalPranswer, .localRollback: .stable,
                .remoteRollback: .stable,
            ],
            .haveLocalPranswer: [.localPranswer: .haveLocalPranswer, .localAnswer: .stable],
            .haveRemotePranswer: [.remotePranswer: .haveRemotePranswer, .remoteAnswer: .stable],
            .closed: [:],
        ]
        return SignalingState.allCases.flatMap { state in
            Call.allCases.map { Transition(from: state, call: $0, to: table[state]?[$0]) }
        }
    }()

    @Test("every signalling state × every description type: the W3C transition or InvalidStateError", .timeLimit(.minutes(1)),
          arguments: transitions)
    func transition(_ transition: Transition) throws {
        var pc = try Jsep.peer("a", seed: 1)
        var other = try Jsep.peer("b", seed: 2)
        let third = try Jsep.peer("c", seed: 3)
        var ourAnswer: SessionDescription?
        var theirAnswer: SessionDescription?
        switch transition.from {
        case .stable:
            break
        case .haveLocalOffer, .haveRemotePranswer:
            let offer = try pc.createOffer()
            _ = try pc.setLocalDescription(offer)
            _ = try other.setRemoteDescription(offer)
            theirAnswer = try other.createAnswer()
            if transition.from == .haveRemotePranswer {
                _ = try pc.setRemoteDescription(SessionDescription(type: .pranswer, sdp: try #require(theirAnswer).sdp))
            }
        case .haveRemoteOffer, .haveLocalPranswer:
            _ = try pc.setRemoteDescription(other.createOffer())
            ourAnswer = try pc.createAnswer()
            if transition.from == .haveLocalPranswer {
                _ = try pc.setLocalDescription(SessionDescription(type: .pranswer, sdp: try #require(ourAnswer).sdp))
            }
        case .closed:
            pc.close()
        }
        #expect(pc.signalingState == transition.from)
        let anyText = try third.createOffer().sdp
        let result: () throws -> [NegotiationEffect] = {
            switch transition.call {
            case .localOffer:
                let sdp = (try? pc.createOffer().sdp) ?? anyText
                return try pc.setLocalDescription(SessionDescription(type: .offer, sdp: sdp))
            case .localAnswer: return try pc.setLocalDescription(SessionDescription(type: .answer, sdp: ourAnswer?.sdp ?? anyText))
            case .localPranswer: return try pc.setLocalDescription(SessionDescription(type: .pranswer, sdp: ourAnswer?.sdp ?? anyText))
            case .localRollback: return try pc.setLocalDescription(SessionDescription(type: .rollback, sdp: ""))
            case .remoteOffer: return try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: anyText))
            case .remoteAnswer: return try pc.setRemoteDescription(SessionDescription(type: .answer, sdp: theirAnswer?.sdp ?? anyText))
            case .remotePranswer: return try pc.setRemoteDescription(SessionDescription(type: .pranswer, sdp: theirAnswer?.sdp ?? anyText))
            case .remoteRollback: return try pc.setRemoteDescription(SessionDescription(type: .rollback, sdp: ""))
            }
        }
        if let to = transition.to {
            _ = try result()
            #expect(pc.signalingState == to)
            #expect((pc.pendingLocalDescription != nil) == [.haveLocalOffer, .haveLocalPranswer, .haveRemotePranswer].contains(to))
            #expect((pc.pendingRemoteDescription != nil) == [.haveRemoteOffer, .haveRemotePranswer, .haveLocalPranswer].contains(to))
        } else {
            #expect(Jsep.code { _ = try result() } == .invalidState)
            #expect(pc.signalingState == transition.from, "a refused call changes nothing")
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation in the core tests' helpers).
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
