import NiceWebRTCCore
import Testing

/// ``MediaNegotiator``: codecs both sides support with the offerer's payload types, H.264
/// profiles (RFC 6184 §8.2.2), RTX following its codec, rtcp-fb and extension intersections,
/// JSEP directions.
@Suite("Media: codec, extension and direction negotiation")
struct MediaNegotiatorTests {
    static func h264(_ payloadType: UInt8, _ profile: String, mode: String = "1", asymmetry: Bool = true) -> RtpCodecParameters {
        var fmtp = [FmtpParameter("packetization-mode", mode), FmtpParameter("profile-level-id", profile)]
        if asymmetry { fmtp.insert(FmtpParameter("level-asymmetry-allowed", "1"), at: 0) }
        return RtpCodecParameters(payloadType: payloadType, name: "H264", clockRate: 90_000, fmtp: fmtp, rtcpFeedback: [.nack, .pli, .fir, .transportCc, RtcpFeedback("goog-remb")])
    }

    static func rtx(_ payloadType: UInt8, apt: UInt8) -> RtpCodecParameters {
        RtpCodecParameters(payloadType: payloadType, name: "rtx", clockRate: 90_000, fmtp: [FmtpParameter("apt", "\(apt)")])
    }

    @Test("H.264: same profile and packetization-mode match; profile mismatch and mode 0 are rejected", .timeLimit(.minutes(1)))
    func h264Profiles() throws {
        let local = MediaCapabilities.default.videoCodecs
        let offered = [
            Self.h264(100, "640032"), Self.rtx(101, apt: 100),  // High: we have none
            Self.h264(120, "42e034", mode: "0"),  // constrained baseline, mode 0
            Self.h264(122, "42e034"), Self.rtx(123, apt: 122),  // constrained baseline 5.2
            Self.h264(124, "4d0032", asymmetry: false),  // main 5.0 without asymmetry
            Self.h264(126, "f4001f"),  // unknown profile
        ]
        let answer = MediaNegotiator.answerCodecs(offered: offered, local: local)
        #expect(answer.map(\.payloadType) == [122, 123, 124])
        #expect(answer[0].parameter("profile-level-id") == "42e01f")  // asymmetry: our level
        #expect(answer[2].parameter("profile-level-id") == "4d001f")  // min(5.0, 3.1)
        #expect(answer[0].rtcpFeedback == [.nack, .pli, .fir, .transportCc])
        #expect(MediaNegotiator.negotiate(offered: Self.h264(1, "640c1f"), local: Self.h264(2, "42e01f")) == nil)
        #expect(H264ProfileLevelId("42e01f")?.profile == .constrainedBaseline && H264ProfileLevelId("42001f")?.profile == .baseline)
        #expect(H264ProfileLevelId("640c1f")?.profile == .constrainedHigh && H264ProfileLevelId("zz0000") == nil)
        #expect(H264ProfileLevelId("42f00b")?.level == 9)
    }

    @Test("Opus and VP8 keep the offerer's payload types; RTX only with its codec; no common codec gives none", .timeLimit(.minutes(1)))
    func payloadTypes() {
        let offered = [
            RtpCodecParameters(payloadType: 98, name: "VP9", clockRate: 90_000), Self.rtx(99, apt: 98),
            RtpCodecParameters(payloadType: 120, name: "vp8", clockRate: 90_000, rtcpFeedback: [.nack, RtcpFeedback("goog-remb")]),
            Self.rtx(121, apt: 120), Self.rtx(122, apt: 77),
        ]
        let answer = MediaNegotiator.answerCodecs(offered: offered, local: MediaCapabilities.default.videoCodecs)
        #expect(answer.map(\.payloadType) == [120, 121] && answer[0].rtcpFeedback == [.nack])
        let audio = MediaNegotiator.answerCodecs(
            offered: [RtpCodecParameters(payloadType: 109, name: "opus", clockRate: 48_000, channels: 2)], local: MediaCapabilities.default.audioCodecs)
        #expect(audio.first?.payloadType == 109 && audio.first?.parameter("useinbandfec") == "1")
        let mono = RtpCodecParameters(payloadType: 109, name: "opus", clockRate: 48_000)
        #expect(MediaNegotiator.answerCodecs(offered: [mono], local: MediaCapabilities.default.audioCodecs).isEmpty)
        #expect(MediaNegotiator.answerCodecs(offered: [Self.rtx(97, apt: 96)], local: MediaCapabilities.default.videoCodecs).isEmpty)
    }

    @Test("header extensions: the supported ones with the offerer's ids", .timeLimit(.minutes(1)))
    func extensions() {
        let offered = [
            RtpHeaderExtensionParameters(id: 1, uri: "urn:ietf:params:rtp-hdrext:toffset"),
            RtpHeaderExtensionParameters(id: 9, uri: RtpHeaderExtensionParameters.midUri, direction: .sendrecv),
            RtpHeaderExtensionParameters(id: 13, uri: RtpHeaderExtensionParameters.transportWideCcUri),
            RtpHeaderExtensionParameters(id: 14, uri: RtpHeaderExtensionParameters.ridUri),
        ]
        let answer = MediaNegotiator.answerHeaderExtensions(offered: offered, local: MediaCapabilities.default.videoHeaderExtensions)
        #expect(answer.map(\.id) == [9, 13, 14] && answer.allSatisfy { $0.direction == nil })
        #expect(MediaNegotiator.answerHeaderExtensions(offered: offered, local: MediaCapabilities.default.audioHeaderExtensions).map(\.id) == [9, 13])
    }

    @Test("JSEP answer directions", .timeLimit(.minutes(1)))
    func directions() {
        typealias D = RtpTransceiverDirection
        let cases: [(D, D, D)] = [
            (.sendrecv, .sendrecv, .sendrecv), (.sendonly, .sendrecv, .recvonly), (.recvonly, .sendrecv, .sendonly),
            (.inactive, .sendrecv, .inactive), (.sendrecv, .recvonly, .recvonly), (.sendrecv, .sendonly, .sendonly),
            (.sendonly, .sendonly, .inactive), (.recvonly, .recvonly, .inactive),
        ]
        for (offered, local, answer) in cases {
            #expect(D.answering(offered, local: local) == answer, "\(offered) + \(local)")
        }
    }
}
