/// One audio or video section of a session description (an `m=audio` / `m=video` section) as a
/// value: what it says about RTP. ICE, DTLS and candidate lines are not part of it (the
/// negotiation writes them around it).
///
/// ```swift
/// let sections = try MediaDescription.sections(of: browserOffer)   // [index: MediaDescription]
/// let audio = sections[0]!
/// audio.kind, audio.mid, audio.direction          // .audio, "0", .sendrecv
/// audio.codecs.first?.name                        // "opus"
/// audio.headerExtensions                          // [1 ssrc-audio-level, …]
/// let text = audio.sdpLines()                     // m=audio 9 … written back, CRLF
/// ```
///
/// Reading rules: every `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` names a payload type of the `m=`
/// line (others are ignored, RFC 4566); `a=rtcp-fb:*` applies to every codec; a static payload
/// type without `a=rtpmap` (0, 8, 9, 13) gets its RFC 3551 encoding; a dynamic one without it is
/// kept with an empty name. Counts are bounded (``maximumFormats``, ``maximumHeaderExtensions``,
/// ``maximumSsrcLines``, ``maximumOtherAttributes``); every failure is an ``SdpError`` with the
/// attribute as field and the 1-based line.
public struct MediaDescription: Sendable, Hashable {
    /// At most this many payload types in the `m=` line.
    public static let maximumFormats = 64
    /// At most this many `a=extmap` lines.
    public static let maximumHeaderExtensions = 32
    /// At most this many `a=ssrc` plus `a=ssrc-group` lines.
    public static let maximumSsrcLines = 64
    /// At most this many other attributes kept raw (`a=rid`, `a=simulcast`, unknown ones).
    public static let maximumOtherAttributes = 64
    /// At most this many `a=fmtp` parameters or `a=rtcp-fb` entries per payload type.
    public static let maximumCodecAttributes = 16

    /// Audio or video.
    public var kind: MediaKind
    /// `a=mid`, nil when absent.
    public var mid: String?
    /// The `m=` port: 0 rejects the section (or, with `a=bundle-only`, rides on the bundle).
    public var port: UInt16
    /// The `m=` protocol (`UDP/TLS/RTP/SAVPF`).
    public var proto: String
    /// `a=sendrecv` / `sendonly` / `recvonly` / `inactive`; sendrecv when absent (RFC 3264).
    public var direction: RtpTransceiverDirection
    /// The codecs in the `m=` line's order, RTX included.
    public var codecs: [RtpCodecParameters]
    /// The `a=extmap` lines in order.
    public var headerExtensions: [RtpHeaderExtensionParameters]
    /// `a=msid` lines (usually one).
    public var msid: [MediaStreamId]
    /// `a=ssrc` lines in order.
    public var ssrcAttributes: [SsrcAttribute]
    /// `a=ssrc-group` lines in order.
    public var ssrcGroups: [SsrcGroup]
    /// `a=rtcp-mux`.
    public var rtcpMux: Bool
    /// `a=rtcp-rsize` (reduced-size RTCP, RFC 5506).
    public var rtcpReducedSize: Bool
    /// Other attributes kept as written, without `a=` (`rid:…`, `simulcast:…`,
    /// `extmap-allow-mixed`, unknown ones); ICE, DTLS, candidate and `rtcp:` lines are not kept.
    public var otherAttributes: [String]

    /// Creates a section.
    public init(
        kind: MediaKind, mid: String?, port: UInt16 = 9, proto: String = "UDP/TLS/RTP/SAVPF", direction: RtpTransceiverDirection = .sendrecv,
        codecs: [RtpCodecParameters] = [], headerExtensions: [RtpHeaderExtensionParameters] = [], msid: [MediaStreamId] = [],
        ssrcAttributes: [SsrcAttribute] = [], ssrcGroups: [SsrcGroup] = [], rtcpMux: Bool = true, rtcpReducedSize: Bool = false,
        otherAttributes: [String] = []
    ) {
        self.kind = kind
        self.mid = mid
        self.port = port
        self.proto = proto
        self.direction = direction
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.msid = msid
        self.ssrcAttributes = ssrcAttributes
        self.ssrcGroups = ssrcGroups
        self.rtcpMux = rtcpMux
        self.rtcpReducedSize = rtcpReducedSize
        self.otherAttributes = otherAttributes
    }

    /// Whether the `m=` port is 0.
    public var isRejected: Bool { port == 0 }

    /// The RTX payload types with the payload type each repairs.
    public var rtx: [RtxMapping] {
        codecs.compactMap { codec in codec.isRtx ? codec.apt.map { RtxMapping(payloadType: codec.payloadType, apt: $0) } : nil }
    }

    /// The sources of the `a=ssrc` lines, each once, in order.
    public var ssrcs: [UInt32] {
        var seen = Set<UInt32>()
        return ssrcAttributes.compactMap { seen.insert($0.ssrc).inserted ? $0.ssrc : nil }
    }

    /// The `cname` of `ssrc`, if an `a=ssrc` line gives one.
    public func cname(of ssrc: UInt32) -> String? {
        ssrcAttributes.first { $0.ssrc == ssrc && $0.name == "cname" }?.value
    }

    /// The `a=rid` lines' values (RFC 8851), raw.
    public var rids: [String] {
        otherAttributes.compactMap { $0.hasPrefix("rid:") ? String($0.dropFirst(4)) : nil }
    }

    /// The `a=simulcast` value (RFC 8853), raw.
    public var simulcast: String? {
        otherAttributes.first { $0.hasPrefix("simulcast:") }.map { String($0.dropFirst(10)) }
    }

    /// The `(media, rtx)` pairs of the `a=ssrc-group:FID` lines.
    public var fidGroups: [(media: UInt32, rtx: UInt32)] {
        ssrcGroups.compactMap { $0.semantics == "FID" && $0.ssrcs.count >= 2 ? ($0.ssrcs[0], $0.ssrcs[1]) : nil }
    }
}
