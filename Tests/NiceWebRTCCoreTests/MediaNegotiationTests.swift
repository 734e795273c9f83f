import NiceICECore
import NiceWebRTCCore
import Testing

/// ``Negotiation`` with audio and video sections: browsers' offers answered (codecs both
/// support, the offerer's payload types and extension ids, one BUNDLE group with the data
/// section), rejected sections, two Negotiation values with media both ways, rollback.
@Suite("Media: JSEP offers and answers with audio and video")
struct MediaNegotiationTests {
    /// A peer that accepts remote media with a receive-only transceiver.
    static func receiver(_ tag: String, seed: UInt8) throws -> Negotiation {
        var pc = try Jsep.peer(tag, seed: seed)
        pc.remoteMediaPolicy = .accept(direction: .recvonly)
        return pc
    }

    static func answer(_ pc: inout Negotiation, _ sdp: String) throws -> (effects: [NegotiationEffect], answer: SessionDescription) {
        let effects = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: sdp))
        let answer = try pc.createAnswer()
        _ = try pc.setLocalDescription(answer)
        return (effects, answer)
    }

    @Test("Chrome's offer: audio and video accepted recvonly, PTs kept, BUNDLE 0 1 2, transport = mid 0", .timeLimit(.minutes(1)))
    func chrome() throws {
        var pc = try Self.receiver("c", seed: 3)
        let (effects, answer) = try Self.answer(&pc, sampleSDP("chromeOffer"))
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 1 2"])
        let sections = try MediaDescription.sections(of: answer.sdp)
        #expect(sections[0]?.codecs.map(\.payloadType) == [111] && sections[0]?.direction == .recvonly)
        #expect(sections[0]?.codecs.first?.fmtp == [FmtpParameter("minptime", "10"), FmtpParameter("useinbandfec", "1")])
        #expect(sections[1]?.codecs.map(\.payloadType) == [96, 97] && sections[1]?.rtcpReducedSize == true)
        #expect(sections[0]?.headerExtensions == [])  // ssrc-audio-level: not ours
        guard case .setRemoteIce(_, let candidates, _, _)? = effects.last else { Issue.record("no setRemoteIce"); return }
        #expect(candidates.count == 4 && candidates.allSatisfy { $0.sdpMid == "0" })
        let media = pc.negotiatedMedia
        #expect(media.map(\.mid) == ["0", "1"] && media.allSatisfy { !$0.isRejected && $0.direction == .recvonly })
        #expect(media[0].remoteSsrcs == [1001] && media[0].remoteMsid.first?.trackId == "f5b2c7de-5a1c-4f9a-9a57-8a3f4c1c9e11")
        #expect(media[1].rtx == [RtxMapping(payloadType: 97, apt: 96)])
        #expect(pc.transceivers.map(\.mid) == ["0", "1"] && pc.transceivers.allSatisfy { $0.currentDirection == .recvonly })
        #expect(pc.trickled(nil)?.sdpMid == "0" && pc.trickled(nil)?.sdpMLineIndex == 0)
        guard case .add = try pc.route(IceCandidateInit(candidate: Jsep.hostCandidate, sdpMid: "0")) else {
            Issue.record("a candidate for the transport's mid is not added"); return
        }
    }

    @Test("Firefox's offer: Opus 109 and VP8 120 kept, 124 without rtpmap dropped", .timeLimit(.minutes(1)))
    func firefox() throws {
        var pc = try Self.receiver("f", seed: 4)
        let (_, answer) = try Self.answer(&pc, sampleSDP("firefoxOffer"))
        let sections = try MediaDescription.sections(of: answer.sdp)
        #expect(sections[0]?.codecs.map(\.payloadType) == [109] && sections[1]?.codecs.map(\.payloadType) == [120])
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 1 2"])
        #expect(Jsep.lines(answer.sdp, "a=setup:") == ["a=setup:active", "a=setup:active", "a=setup:active"])
        #expect(pc.negotiatedMedia.map(\.codecs.first?.name) == ["opus", "VP8"])
    }

    @Test("Chrome's offer with stopped video: video rejected with its mid, BUNDLE 0 2", .timeLimit(.minutes(1)))
    func stoppedVideo() throws {
        var pc = try Self.receiver("s", seed: 5)
        let (_, answer) = try Self.answer(&pc, sampleSDP("chromeOfferStoppedVideo"))
        #expect(Jsep.lines(answer.sdp, "m=") == [
            "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=video 0 UDP/TLS/RTP/SAVPF 96", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        ])
        #expect(Jsep.lines(answer.sdp, "a=mid:") == ["a=mid:0", "a=mid:1", "a=mid:2"])
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 2"])
        #expect(pc.negotiatedMedia.map(\.isRejected) == [false, true])
    }

    @Test("extmap ids and H.264 payload types are the offerer's; a local sendrecv transceiver sends back", .timeLimit(.minutes(1)))
    func extmapAndH264() throws {
        var pc = try Jsep.peer("h", seed: 6)
        try pc.addTransceiver(MediaTransceiverInit(kind: .video, streamIds: ["cam"], trackId: "v1", ssrc: 1111, rtxSsrc: 2222, cname: "srv"))
        let offer = try sampleSDP("chromeOffer")
            .replacing("m=video 9 UDP/TLS/RTP/SAVPF 96 97", with: "m=video 9 UDP/TLS/RTP/SAVPF 96 97 127 125")
            .replacing("a=fmtp:97 apt=96\r\n", with: "a=fmtp:97 apt=96\r\na=rtpmap:127 H264/90000\na=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\na=rtpmap:125 rtx/90000\r\na=fmtp:125 apt=127\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n")
        let (_, answer) = try Self.answer(&pc, offer)
        let video = try #require(try MediaDescription.sections(of: answer.sdp)[1])
        #expect(video.codecs.map(\.payloadType) == [96, 97, 127, 125])
        #expect(video.codecs[2].parameter("profile-level-id") == "42001f")
        #expect(video.headerExtensions.map(\.id) == [4, 10, 3])
        #expect(video.direction == .sendrecv && video.msid == [MediaStreamId(streamId: "cam", trackId: "v1")])
        #expect(video.fidGroups.first?.media == 1111 && video.fidGroups.first?.rtx == 2222 && video.cname(of: 1111) == "srv")
        // The audio section (the offer's BUNDLE tag) has no transceiver and the policy rejects it:
        // the answer's group starts with the first section it accepts.
        #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 1 2"])
        #expect(pc.negotiatedMedia[1].extensionId(RtpHeaderExtensionParameters.midUri) == 4)
        #expect(pc.trickled(nil)?.sdpMid == "1")
    }

    @Test("no common codec or an H.264 profile mismatch: the section is rejected with port 0 and its mid", .timeLimit(.minutes(1)))
    func noCommonCodec() throws {
        for video in ["a=rtpmap:96 VP9/90000", "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=640032"] {
            var pc = try Self.receiver("n", seed: 7)
            let offer = try sampleSDP("chromeOffer").replacing("a=rtpmap:96 VP8/90000", with: video)
            let (_, answer) = try Self.answer(&pc, offer)
            #expect(Jsep.lines(answer.sdp, "m=video") == ["m=video 0 UDP/TLS/RTP/SAVPF 96"])
            #expect(Jsep.lines(answer.sdp, "a=group:") == ["a=group:BUNDLE 0 2"])
            #expect(pc.negotiatedMedia.map(\.isRejected) == [false, true])
            #expect(pc.transceivers.count == 1)
        }
    }

    @Test("a remote offer with a malformed media line: operationError with the attribute and line", .timeLimit(.minutes(1)))
    func malformedOffer() throws {
        var pc = try Self.receiver("m", seed: 8)
        let offer = try sampleSDP("chromeOffer").replacing("a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 VP8")
        let error = Jsep.error { _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: offer)) }
        #expect(error?.code == .operationError && error?.sdpError?.field == "a=rtpmap" && error?.sdpError?.line != nil)
        #expect(pc.signalingState == .stable)
    }

    @Test("two Negotiation values: audio both ways, video one way, then a re-offer from the other side", .timeLimit(.minutes(1)))
    func twoPeers() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Self.receiver("b", seed: 2)
        try a.addTransceiver(MediaTransceiverInit(kind: .audio, streamIds: ["s"], ssrc: 11))
        try a.addTransceiver(MediaTransceiverInit(kind: .video, direction: .sendonly, streamIds: ["s"], ssrc: 21, rtxSsrc: 22))
        try b.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .sendrecv, ssrc: 31))
        let offer = try a.createOffer()
        #expect(Jsep.lines(offer.sdp, "a=group:") == ["a=group:BUNDLE 0 1 2"])
        #expect(Jsep.lines(offer.sdp, "m=").map { $0.prefix(9) } == ["m=audio 9", "m=video 9", "m=applica"])
        try Jsep.handshake(&a, &b)
        #expect(a.dataMid == "2" && b.dataMid == "2" && a.dataMLineIndex == 2)
        #expect(a.negotiatedMedia.map(\.direction) == [.sendrecv, .sendonly])
        #expect(b.negotiatedMedia.map(\.direction) == [.sendrecv, .recvonly])
        #expect(b.negotiatedMedia[1].remoteSsrcs == [21, 22] && b.negotiatedMedia[1].remoteFidGroups.first?.rtx == 22)
        #expect(a.negotiatedMedia[0].remoteSsrcs == [31])
        #expect(a.negotiatedMedia.map(\.codecs) == b.negotiatedMedia.map(\.codecs))
        #expect(a.negotiatedMedia[1].codecs.map(\.payloadType) == [96, 97, 102, 103, 104, 105, 106, 107, 108, 109])
        #expect(a.negotiatedMedia[0].extensionId(RtpHeaderExtensionParameters.midUri) == 1)
        #expect(a.transceivers.map(\.mid) == ["0", "1"] && b.transceivers.map(\.mid) == ["0", "1"])

        // b re-offers: same sections, same payload types; a adds a second audio transceiver first.
        try a.addTransceiver(MediaTransceiverInit(kind: .audio, direction: .recvonly))
        try Jsep.handshake(&b, &a)
        #expect(a.signalingState == .stable && b.signalingState == .stable)
        #expect(b.negotiatedMedia.map(\.mid) == ["0", "1"] && a.negotiatedMedia[1].direction == .sendonly)
        // a re-offers with its new transceiver: a fourth section.
        try Jsep.handshake(&a, &b)
        // b's policy makes a recvonly transceiver: recvonly against recvonly is inactive (JSEP).
        #expect(a.negotiatedMedia.map(\.mid) == ["0", "1", "3"] && a.negotiatedMedia[2].direction == .inactive)
        #expect(b.negotiatedMedia[2].direction == .inactive && !b.negotiatedMedia[2].isRejected)
        let third = try #require(b.transceiver(mid: "3")?.id)
        #expect(try b.setDirection(.sendrecv, ofTransceiver: third))
        try Jsep.handshake(&b, &a)
        #expect(a.negotiatedMedia[2].direction == .recvonly && b.negotiatedMedia[2].direction == .sendonly)
        #expect(Jsep.lines(try #require(a.localDescription).sdp, "a=group:") == ["a=group:BUNDLE 0 1 2 3"])
    }

    @Test("rollback of a remote offer removes the transceivers it created and frees the mids it took", .timeLimit(.minutes(1)))
    func rollback() throws {
        var pc = try Self.receiver("r", seed: 9)
        let mine = try pc.addTransceiver(MediaTransceiverInit(kind: .audio))
        _ = try pc.setRemoteDescription(SessionDescription(type: .offer, sdp: sampleSDP("chromeOffer")))
        #expect(pc.transceivers.map(\.mid) == ["0", "1"])
        _ = try pc.setRemoteDescription(SessionDescription(type: .rollback, sdp: ""))
        #expect(pc.transceivers.map(\.id) == [mine] && pc.transceivers[0].mid == nil)
    }

    @Test("a data-only answerer rejects a media offer's sections; the offerer's media are stopped", .timeLimit(.minutes(1)))
    func dataOnlyAnswerer() throws {
        var a = try Jsep.peer("a", seed: 1)
        var b = try Jsep.peer("b", seed: 2)
        try a.addTransceiver(MediaTransceiverInit(kind: .video))
        try Jsep.handshake(&a, &b)
        #expect(a.negotiatedMedia.map(\.isRejected) == [true] && a.transceivers[0].isStopped)
        #expect(Jsep.lines(try #require(b.localDescription).sdp, "a=group:") == ["a=group:BUNDLE 1"])
        // The answerer's transport is the data section: our candidates go there, and it adds them.
        let trickled = try #require(a.trickled(try IceCandidate(parsing: Jsep.hostCandidate)))
        #expect(trickled.sdpMid == "1" && trickled.sdpMLineIndex == 1)
        guard case .add = try b.route(trickled) else { Issue.record("the answerer does not add our candidate"); return }
        try Jsep.handshake(&a, &b)
        #expect(Jsep.lines(try #require(a.localDescription).sdp, "m=video") == ["m=video 0 UDP/TLS/RTP/SAVPF 96"])
    }
}
