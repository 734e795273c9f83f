/// What we can send and receive, per kind: the codecs (with the payload types our offers use)
/// and the header extensions (with the ids our offers use). An answer keeps the offerer's
/// payload types and ids and takes from here only what matches.
///
/// The default: Opus 48000/2 (`minptime=10;useinbandfec=1`, transport-cc); VP8 and H.264
/// packetization-mode 1 with profile-level-ids 42e01f, 42001f, 4d001f and 640c1f, each with
/// `nack`, `nack pli`, `ccm fir`, `transport-cc` and an RTX payload type; the extensions mid,
/// abs-send-time and transport-wide-cc (both kinds), rtp-stream-id and repaired-rtp-stream-id
/// (video).
public struct MediaCapabilities: Sendable, Hashable {
    /// Audio codecs, in preference order.
    public var audioCodecs: [RtpCodecParameters]
    /// Video codecs, in preference order, RTX included (an RTX codec's `apt` names its codec).
    public var videoCodecs: [RtpCodecParameters]
    /// Audio header extensions.
    public var audioHeaderExtensions: [RtpHeaderExtensionParameters]
    /// Video header extensions.
    public var videoHeaderExtensions: [RtpHeaderExtensionParameters]

    /// Creates capabilities.
    public init(
        audioCodecs: [RtpCodecParameters], videoCodecs: [RtpCodecParameters], audioHeaderExtensions: [RtpHeaderExtensionParameters],
        videoHeaderExtensions: [RtpHeaderExtensionParameters]
    ) {
        self.audioCodecs = audioCodecs
        self.videoCodecs = videoCodecs
        self.audioHeaderExtensions = audioHeaderExtensions
        self.videoHeaderExtensions = videoHeaderExtensions
    }

    /// The codecs of `kind`.
    public func codecs(_ kind: MediaKind) -> [RtpCodecParameters] { kind == .audio ? audioCodecs : videoCodecs }
    /// The header extensions of `kind`.
    public func headerExtensions(_ kind: MediaKind) -> [RtpHeaderExtensionParameters] {
        kind == .audio ? audioHeaderExtensions : videoHeaderExtensions
    }

    /// The video feedback every default video codec has.
    public static let videoFeedback: [RtcpFeedback] = [.nack, .pli, .fir, .transportCc]

    /// The default capabilities (see the type's description).
    public static let `default`: MediaCapabilities = {
        let opus = RtpCodecParameters(
            payloadType: 111, name: "opus", clockRate: 48_000, channels: 2,
            fmtp: [FmtpParameter("minptime", "10"), FmtpParameter("useinbandfec", "1")], rtcpFeedback: [.transportCc])
        var video: [RtpCodecParameters] = []
        func add(_ payloadType: UInt8, _ name: String, _ fmtp: [FmtpParameter]) {
            video.append(RtpCodecParameters(payloadType: payloadType, name: name, clockRate: 90_000, fmtp: fmtp, rtcpFeedback: videoFeedback))
            video.append(RtpCodecParameters(payloadType: payloadType + 1, name: "rtx", clockRate: 90_000, fmtp: [FmtpParameter("apt", "\(payloadType)")]))
        }
        add(96, "VP8", [])
        for (payloadType, profile) in [(UInt8(102), "42e01f"), (104, "42001f"), (106, "4d001f"), (108, "640c1f")] {
            add(payloadType, "H264", [
                FmtpParameter("level-asymmetry-allowed", "1"), FmtpParameter("packetization-mode", "1"),
                FmtpParameter("profile-level-id", profile),
            ])
        }
        let common = [
            RtpHeaderExtensionParameters(id: 1, uri: RtpHeaderExtensionParameters.midUri),
            RtpHeaderExtensionParameters(id: 2, uri: RtpHeaderExtensionParameters.absSendTimeUri),
            RtpHeaderExtensionParameters(id: 3, uri: RtpHeaderExtensionParameters.transportWideCcUri),
        ]
        let videoOnly = [
            RtpHeaderExtensionParameters(id: 4, uri: RtpHeaderExtensionParameters.ridUri),
            RtpHeaderExtensionParameters(id: 5, uri: RtpHeaderExtensionParameters.repairedRidUri),
        ]
        return MediaCapabilities(audioCodecs: [opus], videoCodecs: video, audioHeaderExtensions: common, videoHeaderExtensions: common + videoOnly)
    }()
}
