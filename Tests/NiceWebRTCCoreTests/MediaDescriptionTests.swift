import NiceICECore
import NiceWebRTCCore
import Testing

/// ``MediaDescription``: reading browsers' audio and video sections, writing them back, and the
/// typed errors of malformed lines.
@Suite("Media: m-section model, parse and write")
struct MediaDescriptionTests {
    @Test("Chrome's offer: codecs, static payload types, rtx, extmap, msid, ssrc, rtcp-mux/rsize", .timeLimit(.minutes(1)))
    func chrome() throws {
        let sections = try MediaDescription.sections(of: sampleSDP("chromeOffer"))
        #expect(sections.keys.sorted() == [0, 1])
        let audio = try #require(sections[0])
        #expect(audio.kind == .audio && audio.mid == "0" && audio.port == 54321 && audio.direction == .sendrecv)
        #expect(audio.codecs.map(\.payloadType) == [111, 63, 9, 0, 8, 13, 110, 126])
        let opus = audio.codecs[0]
        #expect(opus.name == "opus" && opus.clockRate == 48_000 && opus.channels == 2 && opus.mimeType(kind: .audio) == "audio/opus")
        #expect(opus.fmtp == [FmtpParameter("minptime", "10"), FmtpParameter("useinbandfec", "1")])
        #expect(opus.rtcpFeedback == [.transportCc])
        #expect(audio.codecs[3].name == "PCMU" && audio.codecs[1].name == "")
        #expect(audio.headerExtensions == [RtpHeaderExtensionParameters(id: 1, uri: "urn:ietf:params:rtp-hdrext:ssrc-audio-level")])
        #expect(audio.msid == [MediaStreamId(streamId: "3b0c3f4e-61b1-4b4f-a0c4-1e6b4f9cdb51", trackId: "f5b2c7de-5a1c-4f9a-9a57-8a3f4c1c9e11")])
        #expect(audio.ssrcs == [1001] && audio.cname(of: 1001) == "Q2Xq0d0dXH9kM0Yw")
        #expect(audio.rtcpMux && !audio.rtcpReducedSize)
        let video = try #require(sections[1])
        #expect(video.rtcpReducedSize && video.rtx == [RtxMapping(payloadType: 97, apt: 96)])
    }

    @Test("Firefox's offer and the stopped-video offer", .timeLimit(.minutes(1)))
    func firefoxAndStopped() throws {
        let firefox = try MediaDescription.sections(of: sampleSDP("firefoxOffer"))
        #expect(firefox[0]?.codecs.first?.fmtp.map(\.name) == ["maxplaybackrate", "stereo", "useinbandfec"])
        #expect(firefox[0]?.msid.first?.streamId == "{5a2a1b6e-94b8-4c56-a3c2-7a3f3f6b1d9e}")
        #expect(firefox[1]?.codecs.map(\.name) == ["VP8", ""])
        let stopped = try MediaDescription.sections(of: sampleSDP("chromeOfferStoppedVideo"))
        #expect(stopped[1]?.isRejected == true && stopped[1]?.direction == .inactive)
    }

    @Test("write then read gives the same value; writing is deterministic", .timeLimit(.minutes(1)))
    func roundTrip() throws {
        for name in ["chromeOffer", "firefoxOffer", "chromeOfferStoppedVideo"] {
            for (_, section) in try MediaDescription.sections(of: sampleSDP(name)) {
                let text = section.sdpLines()
                let again = try MediaDescription(parsing: text)
                #expect(again == section, "\(name) mid \(section.mid ?? "-")")
                #expect(again.sdpLines() == text)
            }
        }
        var built = MediaDescription(
            kind: .video, mid: "v", direction: .sendonly, codecs: MediaCapabilities.default.videoCodecs,
            headerExtensions: [RtpHeaderExtensionParameters(id: 3, uri: RtpHeaderExtensionParameters.midUri, direction: .sendonly)],
            msid: [MediaStreamId(streamId: "s", trackId: "t")], ssrcAttributes: [SsrcAttribute(ssrc: 7, name: "cname", value: "c")],
            ssrcGroups: [SsrcGroup(semantics: "FID", ssrcs: [7, 8])], rtcpReducedSize: true,
            otherAttributes: ["rid:h send", "simulcast:send h"])
        built.codecs.append(RtpCodecParameters(payloadType: 101, name: "telephone-event", clockRate: 8000, fmtp: [FmtpParameter("0-15", nil)]))
        let parsed = try MediaDescription(parsing: built.sdpLines(transport: "a=ice-ufrag:abcd\r\na=setup:actpass\r\n"), firstLineNumber: 5)
        #expect(parsed == built)
        #expect(parsed.rids == ["h send"] && parsed.simulcast == "send h" && parsed.fidGroups.first?.rtx == 8)
    }

    @Test("a=rtcp-fb:* applies to every codec but RTX; attributes for unlisted payload types are ignored", .timeLimit(.minutes(1)))
    func wildcard() throws {
        let text = "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
            + "a=rtcp-fb:* nack\r\na=rtpmap:99 H264/90000\r\na=fmtp:99 x=y\r\na=rtcp-fb:99 nack pli\r\n"
        let media = try MediaDescription(parsing: text)
        #expect(media.codecs[0].rtcpFeedback == [.nack] && media.codecs[1].rtcpFeedback == [])
        #expect(media.codecs.count == 2 && media.direction == .sendrecv && !media.rtcpMux)
    }

    static let malformed: [(String, SdpError.Code, String, Int)] = [
        ("m=video 9 UDP/TLS/RTP/SAVPF\r\n", .malformed, "m=", 1),
        ("m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n", .invalidValue, "m=", 1),
        ("m=video 9 UDP/TLS/RTP/SAVPF 128\r\n", .invalidValue, "m=", 1),
        ("m=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n", .invalidValue, "m=", 1),
        ("m=text 9 UDP/TLS/RTP/SAVPF 96\r\n", .unsupported, "m=", 1),
        ("m=video 9 P 96\r\na=rtpmap:96 VP8\r\n", .malformed, "a=rtpmap", 2),
        ("m=video 9 P 96\r\na=rtpmap:96 VP8/0\r\n", .malformed, "a=rtpmap", 2),
        ("m=video 9 P 96\r\na=rtpmap:x VP8/90000\r\n", .malformed, "a=rtpmap", 2),
        ("m=video 9 P 96\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:96 VP9/90000\r\n", .malformed, "a=rtpmap", 3),
        ("m=video 9 P 96\r\na=rtpmap:96 opus/48000/0\r\n", .malformed, "a=rtpmap", 2),
        ("m=video 9 P 96\r\na=fmtp:96\r\n", .malformed, "a=fmtp", 2),
        ("m=video 9 P 96\r\na=rtcp-fb:96\r\n", .malformed, "a=rtcp-fb", 2),
        ("m=video 9 P 96\r\na=extmap:0 urn:x\r\n", .invalidValue, "a=extmap", 2),
        ("m=video 9 P 96\r\na=extmap:15 urn:x\r\n", .invalidValue, "a=extmap", 2),
        ("m=video 9 P 96\r\na=extmap:1/sideways urn:x\r\n", .invalidValue, "a=extmap", 2),
        ("m=video 9 P 96\r\na=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", .invalidValue, "a=extmap", 3),
        ("m=video 9 P 96\r\na=extmap:1\r\n", .malformed, "a=extmap", 2),
        ("m=video 9 P 96\r\na=ssrc:4294967296 cname:x\r\n", .malformed, "a=ssrc", 2),
        ("m=video 9 P 96\r\na=ssrc:1\r\n", .malformed, "a=ssrc", 2),
        ("m=video 9 P 96\r\na=ssrc-group:FID\r\n", .malformed, "a=ssrc-group", 2),
        ("m=video 9 P 96\r\na=ssrc-group:FID 1 x\r\n", .malformed, "a=ssrc-group", 2),
        ("m=video 9 P 96\r\na=msid:a b c\r\n", .malformed, "a=msid", 2),
        ("m=video 9 P 96\r\na=mid:a\r\na=mid:b\r\n", .malformed, "a=mid", 3),
        ("m=video 9 P 96\r\na=mid:a b\r\n", .invalidValue, "a=mid", 2),
        ("m=video 9 P 96\r\na=sendonly\r\na=recvonly\r\n", .malformed, "a=recvonly", 3),
        ("m=video 9 P 96\r\na=x:\u{01}\r\n", .malformed, "sdp", 2),
    ]

    @Test("malformed lines: typed errors with the attribute and the line", .timeLimit(.minutes(1)), arguments: malformed.indices)
    func errors(_ index: Int) {
        let (text, code, field, line) = Self.malformed[index]
        do {
            _ = try MediaDescription(parsing: text)
            Issue.record("\(text.debugDescription) parsed")
        } catch {
            #expect(error.code == code && error.field == field && error.line == line, "\(text.debugDescription): \(error)")
        }
    }

    @Test("bounds: too many payload types, extmaps, ssrc lines, other attributes, sections", .timeLimit(.minutes(1)))
    func bounds() throws {
        let formats = (0..<65).map { String($0 + 30) }.joined(separator: " ")
        #expect(throws: SdpError.self) { try MediaDescription(parsing: "m=video 9 P \(formats)\r\n") }
        let extmaps = (1...33).map { "a=extmap:\($0 + 15) urn:x\($0)\r\n" }.joined()
        #expect((try? MediaDescription(parsing: "m=video 9 P 96\r\n" + extmaps)) == nil)
        let ssrcs = (0..<65).map { "a=ssrc:\($0) cname:x\r\n" }.joined()
        #expect((try? MediaDescription(parsing: "m=video 9 P 96\r\n" + ssrcs)) == nil)
        let others = (0..<65).map { "a=x\($0)\r\n" }.joined()
        #expect((try? MediaDescription(parsing: "m=video 9 P 96\r\n" + others)) == nil)
        let sections = (0..<65).map { _ in "m=audio 9 P 0\r\n" }.joined()
        #expect((try? MediaDescription.sections(of: "v=0\r\n" + sections)) == nil)
    }
}
