import Foundation
import NiceICECore
import NiceWebRTCCore
import Testing

/// ``Negotiation`` without a data section (issues 19 and 20: WHIP ingest, WHEP playback): a
/// browser's audio+video offer answered, a WHEP viewer's recvonly offer answered with sendonly
/// transceivers, media-only offers of our own (``Negotiation/offersDataSection``), a data
/// section added by a later offer, ICE restarts, candidate routing by the transport section's
/// mid, typed errors, and never a `startSctp` without a data section.
@Suite("Media-only sessions: JSEP without a data section (WHIP, WHEP)")
struct MediaOnlyNegotiationTests {
    /// Chrome's offer (Fuzz/seed/sdp-chromeOffer.sdp) without its data section, as a WHIP
    /// publisher sends it: audio and video, `direction` (sendonly), BUNDLE 0 1.
    static func whipOffer(direction: String = "sendonly") throws -> String {
        let chrome = try sampleSDP("chromeOffer")
        let media = try #require(chrome.range(of: "m=application")).lowerBound
        return String(chrome[..<media])
            .replacing("a=group:BUNDLE 0 1 2", with: "a=group:BUNDLE 0 1")
            .replacing("a=sendrecv", with: "a=\(direction)")
    }

    /// A WHEP viewer's offer: recvonly audio and video, no msid or SSRC (it sends nothing).
    static func whepOffer() throws -> String {
        try whipOffer(direction: "recvonly").split(separator: "\r\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("a=msid:") && !$0.hasPrefix("a=ssrc:") }.joined(separator: "\r\n")
    }

    /// A WHIP endpoint: remote audio and video accepted receive-only.
    static func ingest(_ tag: String, seed: UInt8) throws -> Negotiation {
        var pc = try Jsep.peer(tag, seed: seed)
        pc.remoteMediaPolicy = .accept(direction: .recvonly)
        return pc
    }

    static func answer(_ pc: inout Negotiation, _ sdp: String) throws -> (remote: [NegotiationEffect], local: [NegotiationEffect], answer: SessionDescription) {
        let remote = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: sdp))
        let answer = try pc.createAnswer()
        let local = try pc.setLocalDescription(answer)
        return (remote, local, answer)
    }

    static func startsSctp(_ effects: [NegotiationEffect]) -> Bool {
        effects.contains { if case .startSctp = $0 { true } else { false } }
    }

    /// The lines of each `m=` section of `sdp` (the session part left out).
    static func sections(_ sdp: String) -> [[String]] {
        var result: [[String]] = []
        for line in sdp.split(separator: "\r\n").map(String.init) {
            if line.hasPrefix("m=") { result.append([line]) } else if !result.isEmpty { result[result.count - 1].append(line) }
        }
        return result
    }

    static func count(_ prefix: String, in section: [String]) -> Int {
        section.filter { $0.hasPrefix(prefix) }.count
    }

    @Test("WHIP: Chrome's audio+video offer answered recvonly, BUNDLE 0 1, ICE and DTLS lines per section, no SCTP", .timeLimit(.minutes(1)))
    func whip() throws {
        var pc = try Self.ingest("w", seed: 3)
        let gathered = try IceCandidate(parsing: Jsep.hostCandidate)
        let offer = try Self.whipOffer()
        let remote = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: offer))
        let answer = try pc.createAnswer(candidates: [gathered], endOfCandidates: true)
        let local = try pc.setLocalDescription(answer)
        #expect(Jsep.lines(answer.sdp, "m=") == ["m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=video 9 UDP/TLS/RTP/SAVPF 96 97"])
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 1"])
        let sections = Self.sections(answer.sdp)
        for section in sections {
            #expect(Self.count("a=ice-ufrag:uwxxxx", in: section) == 1 && Self.count("a=ice-pwd:", in: section) == 1)
            #expect(Self.count("a=fingerprint:", in: section) == 1 && section.filter { $0 == "a=setup:active" }.count == 1)
            #expect(Self.count("a=rtcp-mux", in: section) == 1 && Self.count("a=recvonly", in: section) == 1)
        }
        // Candidates in the transport section (mid 0) only.
        #expect(Self.count("a=candidate:", in: sections[0]) == 1 && Self.count("a=end-of-candidates", in: sections[0]) == 1)
        #expect(Self.count("a=candidate:", in: sections[1]) == 0)
        #expect(!answer.sdp.contains("m=application") && !answer.sdp.contains("a=sctp-port"))

        // Effects: ICE from the offer's transport section (mid 0), DTLS client, no SCTP.
        #expect(remote.first == .startIce(role: .controlled))
        guard case .setRemoteIce(let ice, let candidates, _, let lite)? = remote.last else { Issue.record("no setRemoteIce"); return }
        #expect(ice == IceParameters(usernameFragment: "EsAw", password: "bP+XJMM09aR8AiX1jdukzR6Y") && !lite)
        #expect(candidates.count == 4 && candidates.allSatisfy { $0.sdpMid == "0" && $0.sdpMLineIndex == 0 })
        guard case .startDtls(let role, let offerer)? = local.first else { Issue.record("no startDtls"); return }
        #expect(role == .client && offerer.role == .auto && offerer.fingerprints.count == 1)
        #expect(local.count == 1 && !Self.startsSctp(remote + local))
        #expect(pc.dataMid == nil && pc.dataMLineIndex == nil && pc.dtlsRole == .client && pc.signalingState == .stable)

        let media = pc.negotiatedMedia
        #expect(media.map(\.mid) == ["0", "1"] && media.allSatisfy { !$0.isRejected && $0.direction == .recvonly })
        #expect(media[0].codecs.map(\.payloadType) == [111] && media[1].codecs.map(\.payloadType) == [96, 97])
        #expect(media[0].remoteSsrcs == [1001])
        #expect(pc.transceivers.map(\.mid) == ["0", "1"] && pc.transceivers.allSatisfy { $0.currentDirection == .recvonly && $0.createdByRemoteOffer })
        #expect(pc.trickled(gathered)?.sdpMid == "0" && pc.trickled(gathered)?.sdpMLineIndex == 0)
    }

    @Test("WHIP: Firefox's audio+video offer (session-level fingerprint) answered, BUNDLE 0 1", .timeLimit(.minutes(1)))
    func whipFirefox() throws {
        let firefox = try sampleSDP("firefoxOffer")
        let offer = String(firefox[..<(try #require(firefox.range(of: "m=application")).lowerBound)])
            .replacing("a=group:BUNDLE 0 1 2", with: "a=group:BUNDLE 0 1")
        var pc = try Self.ingest("f", seed: 4)
        let (remote, local, answer) = try Self.answer(&pc, offer)
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 1"])
        #expect(Jsep.lines(answer.sdp, "a=setup:") == ["a=setup:active", "a=setup:active"])
        #expect(Jsep.lines(answer.sdp, "a=fingerprint:").count == 2 && Jsep.lines(answer.sdp, "a=ice-ufrag:").count == 2)
        #expect(pc.negotiatedMedia.map(\.codecs.first?.name) == ["opus", "VP8"])
        guard case .setRemoteIce(let ice, let candidates, let end, _)? = remote.last else { Issue.record("no setRemoteIce"); return }
        #expect(ice.usernameFragment == "58142170" && candidates.count == 5 && end)
        guard case .startDtls(_, let offerer)? = local.first else { Issue.record("no startDtls"); return }
        #expect(offerer.fingerprints.first?.digest.first == 0xA6)  // the session-level fingerprint
        #expect(!Self.startsSctp(remote + local))
    }

    @Test("WHEP: a viewer's recvonly offer answered by the server's sendonly transceivers (msid, SSRCs)", .timeLimit(.minutes(1)))
    func whep() throws {
        var server = try Jsep.peer("s", seed: 5)
        let audio = try server.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .sendonly, streamIds: ["live"], trackId: "a", ssrc: 5001, cname: "srv"))
        let video = try server.addTransceiver(
            MediaTransceiverInit(kind: .video, direction: .sendonly, streamIds: ["live"], trackId: "v", ssrc: 6001, rtxSsrc: 6002, cname: "srv"))
        let (remote, local, answer) = try Self.answer(&server, try Self.whepOffer())
        let sections = try MediaDescription.sections(of: answer.sdp)
        #expect(sections[0]?.direction == .sendonly && sections[1]?.direction == .sendonly)
        #expect(sections[0]?.msid == [MediaStreamId(streamId: "live", trackId: "a")] && sections[0]?.cname(of: 5001) == "srv")
        #expect(sections[1]?.fidGroups.first?.media == 6001 && sections[1]?.fidGroups.first?.rtx == 6002)
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 1"])
        #expect(server.transceivers.map(\.id) == [audio, video] && server.transceivers.map(\.mid) == ["0", "1"])
        #expect(server.transceivers.allSatisfy { $0.currentDirection == .sendonly })
        #expect(server.negotiatedMedia.map(\.direction) == [.sendonly, .sendonly] && server.negotiatedMedia.allSatisfy { $0.remoteSsrcs.isEmpty })
        #expect(!Self.startsSctp(remote + local) && server.dataMid == nil)
    }

    @Test("a data-only offer keeps its bytes: offersDataSection nil or true writes what DataChannelOffer writes", .timeLimit(.minutes(1)))
    func dataOnlyBytes() throws {
        for setting in [nil, true] as [Bool?] {
            var pc = try Jsep.peer("d", seed: 6)
            pc.offersDataSection = setting
            let expected = try DataChannelOffer(
                ice: Jsep.ice("d"), dtls: DtlsParameters(role: .auto, fingerprints: [try Jsep.fingerprint(6)]), maxMessageSize: 262_144,
                sessionId: 7, sessionVersion: 2)
            #expect(try pc.createOffer().sdp == expected.sdp)
        }
    }

    @Test("two Negotiation values media-only both ways; a later offer appends a data section and brings startSctp", .timeLimit(.minutes(1)))
    func twoPeers() throws {
        // a: a WHIP client (publishes), no data channel; b: the endpoint.
        var a = try Jsep.peer("a", seed: 1)
        var b = try Self.ingest("b", seed: 2)
        a.offersDataSection = false
        try a.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .sendonly, streamIds: ["s"], ssrc: 11))
        try a.addTransceiver(MediaTransceiverInit(kind: .video, direction: .sendonly, streamIds: ["s"], ssrc: 21, rtxSsrc: 22))
        let offer = try a.createOffer()
        #expect(Jsep.lines(offer.sdp, "m=").map { String($0.prefix(7)) } == ["m=audio", "m=video"])
        #expect(Jsep.lines(offer.sdp, "a=group:") == ["a=group:BUNDLE 0 1"] && Jsep.lines(offer.sdp, "a=setup:") == ["a=setup:actpass", "a=setup:actpass"])
        #expect(Jsep.lines(offer.sdp, "a=ice-ufrag:").count == 2 && Jsep.lines(offer.sdp, "a=fingerprint:").count == 2)
        let effects = try Jsep.handshake(&a, &b)
        #expect(effects[0] == [.startIce(role: .controlling)])
        #expect(effects[1].first == .startIce(role: .controlled))
        #expect(effects[2].count == 1 && effects[3].count == 2)  // startDtls; setRemoteIce + startDtls
        #expect(!effects.contains { Self.startsSctp($0) })
        #expect(a.dtlsRole == .server && b.dtlsRole == .client && a.remoteIce == b.local.ice && b.remoteIce == a.local.ice)
        #expect(a.negotiatedMedia.map(\.direction) == [.sendonly, .sendonly] && b.negotiatedMedia.map(\.direction) == [.recvonly, .recvonly])
        #expect(b.negotiatedMedia[1].remoteSsrcs == [21, 22] && a.dataMid == nil && b.dataMid == nil)

        // b re-offers (offersDataSection nil: no data section added), a answers.
        let reoffer = try b.createOffer()
        #expect(!reoffer.sdp.contains("m=application") && Jsep.lines(reoffer.sdp, "a=group:") == ["a=group:BUNDLE 0 1"])
        let again = try Jsep.handshake(&b, &a)
        #expect(again.allSatisfy { $0.isEmpty })
        #expect(a.negotiatedMedia.map(\.direction) == [.sendonly, .sendonly] && b.signalingState == .stable)

        // a wants a data channel now: its next offer appends a bundled data section.
        a.offersDataSection = true
        let withData = try a.createOffer()
        #expect(Jsep.lines(withData.sdp, "m=").map { String($0.prefix(13)) } == ["m=audio 9 UDP", "m=video 9 UDP", "m=application"])
        #expect(Jsep.lines(withData.sdp, "a=group:") == ["a=group:BUNDLE 0 1 2"] && Jsep.lines(withData.sdp, "a=mid:") == ["a=mid:0", "a=mid:1", "a=mid:2"])
        let added = try Jsep.handshake(&a, &b)
        #expect(added[2] == [.startSctp(remotePort: 5000, remoteMaxMessageSize: 262_144)])
        #expect(added[3] == [.startSctp(remotePort: 5000, remoteMaxMessageSize: 262_144)])
        #expect(a.dataMid == "2" && b.dataMid == "2" && a.dataMLineIndex == 2 && b.dataMLineIndex == 2)
        #expect(Jsep.lines(try #require(b.localDescription).sdp, "a=group:") == ["a=group:BUNDLE 0 1 2"])
        // Once: a further exchange has no SCTP effect, and the data section stays.
        a.offersDataSection = false
        let later = try Jsep.handshake(&b, &a)
        let kept = try #require(a.localDescription).sdp
        #expect(later.allSatisfy { $0.isEmpty } && kept.contains("m=application"))
    }

    @Test("a WHEP client: our recvonly media-only offer, answered by a sendonly server", .timeLimit(.minutes(1)))
    func whepClient() throws {
        var viewer = try Jsep.peer("v", seed: 1)
        var server = try Jsep.peer("s", seed: 2)
        viewer.offersDataSection = false
        try viewer.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .recvonly))
        try viewer.addTransceiver(MediaTransceiverInit(kind: .video, direction: .recvonly))
        try server.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .sendonly, streamIds: ["live"], ssrc: 7))
        try server.addTransceiver(MediaTransceiverInit(kind: .video, direction: .sendonly, streamIds: ["live"], ssrc: 8))
        let effects = try Jsep.handshake(&viewer, &server)
        #expect(!effects.contains { Self.startsSctp($0) })
        #expect(viewer.negotiatedMedia.map(\.direction) == [.recvonly, .recvonly] && viewer.negotiatedMedia.map(\.remoteSsrcs) == [[7], [8]])
        #expect(server.negotiatedMedia.map(\.direction) == [.sendonly, .sendonly])
    }

    @Test("ICE restart in a media-only session: new credentials in every section, roles by who offers, stale candidates ignored", .timeLimit(.minutes(1)))
    func restart() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Self.ingest("b", seed: 2)
        a.offersDataSection = false
        try a.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .sendonly, ssrc: 1))
        try a.addTransceiver(MediaTransceiverInit(kind: .video, direction: .sendonly, ssrc: 2))
        try Jsep.handshake(&a, &b)
        let old = a.local.ice

        // b (the WHIP endpoint, controlled) restarts: it offers, so it controls.
        let needed = b.restartIce()
        #expect(needed)
        let offer = try b.createOffer(newIce: Jsep.ice("r1"))
        #expect(Jsep.ufrags(offer) == ["ur1xxxx", "ur1xxxx"])
        let e1 = try b.setLocalDescription(offer)
        #expect(e1 == [.startIce(role: .controlling), .useLocalIce(Jsep.ice("r1"))])
        let e2 = try a.setRemoteDescription(offer)
        #expect(e2.first == .startIce(role: .controlled))
        guard case .setRemoteIce(let ice, _, _, _)? = e2.last else { Issue.record("no setRemoteIce"); return }
        #expect(ice == Jsep.ice("r1") && a.needsNewLocalIceForAnswer)
        let answer = try a.createAnswer(newIce: Jsep.ice("r2"))
        #expect(Jsep.ufrags(answer) == ["ur2xxxx", "ur2xxxx"])
        #expect(try a.setLocalDescription(answer) == [.useLocalIce(Jsep.ice("r2"))])
        guard case .setRemoteIce(let theirs, _, _, _)? = try b.setRemoteDescription(answer).first else { Issue.record("no setRemoteIce"); return }
        #expect(theirs == Jsep.ice("r2") && !b.restartPending)
        #expect(!Self.startsSctp(e1 + e2) && a.dtlsRole == .server && b.dtlsRole == .client)

        // A candidate of a's old generation is ignored; one of the new is added on mid 0.
        let stale = IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0", usernameFragment: old.usernameFragment)
        #expect(Self.ignored(try b.route(stale)))
        let fresh = try #require(a.trickled(try IceCandidate(parsing: Jsep.srflxCandidate)))
        #expect(fresh.usernameFragment == "ur2xxxx" && fresh.sdpMid == "0")
        #expect(Self.added(try b.route(fresh))?.sdpMid == "0")
    }

    @Test("candidates route by the transport section's mid: mid 0, or mid 1 once the answer rejects audio", .timeLimit(.minutes(1)))
    func routing() throws {
        var pc = try Self.ingest("c", seed: 7)
        _ = try Self.answer(&pc, try Self.whipOffer())
        let added = try #require(Self.added(try pc.route(IceCandidateInit(candidate: Jsep.srflxCandidate, sdpMLineIndex: 0))))
        #expect(added.sdpMid == "0" && added.sdpMLineIndex == 0)
        #expect(Self.ignored(try pc.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "1"))))
        #expect(try pc.route(IceCandidateInit(candidate: "", sdpMid: "0")) == .endOfCandidates)
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "2")) } == .operationError)
        #expect(Jsep.code { _ = try pc.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0", usernameFragment: "nope")) } == .operationError)

        // Audio with no codec we support: rejected, so the transport is the video section's.
        var video = try Self.ingest("v", seed: 8)
        let (_, _, answer) = try Self.answer(&video, try Self.whipOffer().replacing("a=rtpmap:111 opus/48000/2", with: "a=rtpmap:111 ilbc/8000"))
        #expect(Jsep.lines(answer.sdp, "m=") == ["m=audio 0 UDP/TLS/RTP/SAVPF 111", "m=video 9 UDP/TLS/RTP/SAVPF 96 97"])
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 1"])
        #expect(video.trickled(nil)?.sdpMid == "1" && video.trickled(nil)?.sdpMLineIndex == 1)
        #expect(Self.added(try video.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "1")))?.sdpMLineIndex == 1)
        #expect(Self.ignored(try video.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0"))))
        #expect(Self.sections(answer.sdp)[1].contains("a=setup:active") && Self.sections(answer.sdp)[0].count == 3)
    }

    @Test("malformed or unusable media-only descriptions: typed errors, state unchanged", .timeLimit(.minutes(1)))
    func errors() throws {
        let whip = try Self.whipOffer()
        let noUfrag = whip.split(separator: "\r\n").filter { !$0.hasPrefix("a=ice-ufrag") }.joined(separator: "\r\n") + "\r\n"
        let noFingerprint = whip.split(separator: "\r\n").filter { !$0.hasPrefix("a=fingerprint") }.joined(separator: "\r\n") + "\r\n"
        let noSetup = whip.split(separator: "\r\n").filter { !$0.hasPrefix("a=setup") }.joined(separator: "\r\n") + "\r\n"
        let allRejected = whip.replacing("m=audio 54321", with: "m=audio 0").replacing("m=video 9", with: "m=video 0")
        let cases: [(String, SdpError.Code, String)] = [
            (noUfrag, .missing, "a=ice-ufrag"), (noFingerprint, .missing, "a=fingerprint"), (noSetup, .missing, "a=setup"),
            (allRejected, .unsupported, "m="),
        ]
        for (sdp, code, field) in cases {
            var pc = try Self.ingest("e", seed: 9)
            let error = Jsep.error { _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: sdp)) }
            #expect(error?.code == .operationError && error?.sdpError?.code == code && error?.field == field, "\(field)")
            if code == .missing { #expect(error?.sdpError?.line == 8) }  // the audio section's m= line
            #expect(pc.signalingState == .stable && pc.remoteDescription == nil && pc.transceivers.isEmpty)
        }

        // A data-only session (remote media rejected) cannot answer an offer without a data section.
        var dataOnly = try Jsep.peer("o", seed: 10)
        let refused = Jsep.error { _ = try dataOnly.setRemoteDescription(SessionDescription(type: .offer, sdp: whip)) }
        #expect(refused?.code == .operationError && refused?.field == "m=" && refused?.sdpError?.code == .unsupported)
        #expect(dataOnly.signalingState == .stable && dataOnly.transceivers.isEmpty && dataOnly.iceRole == nil)

        // Every transceiver that took the offer's sections stopped before the answer: nothing to answer with.
        var stopping = try Self.ingest("t", seed: 14)
        _ = try stopping.setRemoteDescription(SessionDescription(type: .offer, sdp: whip))
        for transceiver in stopping.transceivers { try stopping.stopTransceiver(transceiver.id) }
        let unanswerable = Jsep.error { _ = try stopping.createAnswer() }
        #expect(unanswerable?.code == .operationError && unanswerable?.field == "m=")

        // Nothing to offer: no data section and no transceiver.
        var empty = try Jsep.peer("n", seed: 11)
        empty.offersDataSection = false
        #expect(Jsep.error { _ = try empty.createOffer() }?.field == "m=")
        let stopped = try empty.addTransceiver(MediaTransceiverInit(kind: .audio))
        try empty.stopTransceiver(stopped)
        #expect(Jsep.code { _ = try empty.createOffer() } == .operationError)

        // A re-offer that puts a data section on an m-line of the media-only session (the video
        // section's) instead of appending it: InvalidAccessError.
        var pc = try Self.ingest("x", seed: 12)
        _ = try Self.answer(&pc, whip)
        let video = try #require(whip.range(of: "m=video"))
        let recycled = String(whip[..<video.lowerBound]) + [
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=ice-ufrag:EsAw", "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y",
            "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
            "a=setup:actpass", "a=mid:1", "a=sctp-port:5000", "",
        ].joined(separator: "\r\n")
        let moved = Jsep.error { _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: recycled)) }
        #expect(moved?.code == .invalidAccess && moved?.field == "m=application")
        #expect(pc.signalingState == .stable)
    }

    @Test("a browser's re-offer that appends a data section to a media-only session: accepted, startSctp on our answer", .timeLimit(.minutes(1)))
    func remoteAddsData() throws {
        var pc = try Self.ingest("r", seed: 13)
        let whip = try Self.whipOffer()
        _ = try Self.answer(&pc, whip)
        let chrome = try sampleSDP("chromeOffer")
        let data = String(chrome[(try #require(chrome.range(of: "m=application"))).lowerBound...])
        let reoffer = whip.replacing("a=group:BUNDLE 0 1", with: "a=group:BUNDLE 0 1 2") + data
        let (remote, local, answer) = try Self.answer(&pc, reoffer)
        #expect(remote.isEmpty && local == [.startSctp(remotePort: 5000, remoteMaxMessageSize: 262_144)])
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 1 2"] && pc.dataMid == "2" && pc.dataMLineIndex == 2)
        #expect(pc.negotiatedMedia.map(\.isRejected) == [false, false])
    }

    static func added(_ route: CandidateRoute) -> IceCandidate? {
        if case .add(let candidate) = route { return candidate }
        return nil
    }

    static func ignored(_ route: CandidateRoute) -> Bool {
        if case .ignore = route { return true }
        return false
    }
}
