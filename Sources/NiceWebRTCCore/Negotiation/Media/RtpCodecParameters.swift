/// One `a=fmtp` parameter (`name=value`; a parameter without `=`, such as telephone-event's
/// `0-15`, has a nil value). Order is kept as written.
public struct FmtpParameter: Sendable, Hashable {
    /// The parameter's name (for `0-15`, the whole text).
    public var name: String
    /// The value after `=`, nil when there is none.
    public var value: String?

    /// Creates a parameter.
    public init(_ name: String, _ value: String?) {
        self.name = name
        self.value = value
    }

    /// `name=value`, or `name` alone.
    public var text: String { value.map { "\(name)=\($0)" } ?? name }
}

/// One `a=rtcp-fb` entry of a codec (RFC 4585 §4.2): a type (`nack`, `ccm`, `transport-cc`,
/// `goog-remb`) and an optional parameter (`pli`, `fir`).
public struct RtcpFeedback: Sendable, Hashable {
    /// `nack`, `ccm`, `transport-cc`, `goog-remb`, …
    public var type: String
    /// `pli` (for `nack`), `fir` (for `ccm`), or nil.
    public var parameter: String?

    /// Creates an entry.
    public init(_ type: String, _ parameter: String? = nil) {
        self.type = type
        self.parameter = parameter
    }

    /// `nack` (RFC 4585 generic NACK).
    public static let nack = RtcpFeedback("nack")
    /// `nack pli` (picture loss indication).
    public static let pli = RtcpFeedback("nack", "pli")
    /// `ccm fir` (full intra request, RFC 5104).
    public static let fir = RtcpFeedback("ccm", "fir")
    /// `transport-cc` (transport-wide congestion control feedback).
    public static let transportCc = RtcpFeedback("transport-cc")

    /// `type` or `type parameter`, as in the attribute.
    public var text: String { parameter.map { "\(type) \($0)" } ?? type }
}

/// A codec of a media section with its payload type (W3C `RTCRtpCodecParameters`): the
/// `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines of one payload type. RTX (RFC 4588) is a codec
/// named `rtx` whose `apt` parameter names the payload type it repairs.
///
/// ```swift
/// let opus = RtpCodecParameters(payloadType: 111, name: "opus", clockRate: 48_000, channels: 2,
///                               fmtp: [FmtpParameter("minptime", "10"), FmtpParameter("useinbandfec", "1")])
/// opus.mimeType   // "audio/opus" when kind is audio
/// ```
public struct RtpCodecParameters: Sendable, Hashable {
    /// The payload type, 0–127.
    public var payloadType: UInt8
    /// The encoding name as written in `a=rtpmap` (`opus`, `VP8`, `H264`, `rtx`); empty for a
    /// dynamic payload type that has no `a=rtpmap` (kept, never chosen).
    public var name: String
    /// The RTP clock rate (48,000 for Opus, 90,000 for video); 0 when unknown.
    public var clockRate: UInt32
    /// The channel count for audio (`/2` in `a=rtpmap`); nil when absent (1).
    public var channels: UInt8?
    /// The `a=fmtp` parameters in order.
    public var fmtp: [FmtpParameter]
    /// The `a=rtcp-fb` entries for this payload type (`*` entries copied to every codec).
    public var rtcpFeedback: [RtcpFeedback]

    /// Creates a codec.
    public init(
        payloadType: UInt8, name: String, clockRate: UInt32, channels: UInt8? = nil, fmtp: [FmtpParameter] = [],
        rtcpFeedback: [RtcpFeedback] = []
    ) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
        self.rtcpFeedback = rtcpFeedback
    }

    /// `kind/name` as W3C writes a codec's `mimeType` (`audio/opus`, `video/VP8`).
    public func mimeType(kind: MediaKind) -> String { "\(kind.rawValue)/\(name)" }

    /// Whether this is an RTX (retransmission, RFC 4588) payload type.
    public var isRtx: Bool { name.lowercased() == "rtx" }

    /// The first value of the fmtp parameter `name` (case-insensitive), if any.
    public func parameter(_ name: String) -> String? {
        fmtp.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// For RTX: the payload type it repairs (`apt`), when it parses.
    public var apt: UInt8? { parameter("apt").flatMap { UInt8($0) }.flatMap { $0 < 128 ? $0 : nil } }

    /// The `a=rtpmap` value: `name/clockRate[/channels]`.
    var rtpmapValue: String {
        "\(name)/\(clockRate)" + (channels.map { "/\($0)" } ?? "")
    }

    /// Whether two codecs are the same encoding (name case-insensitive, clock rate, channels
    /// with 1 for absent); H.264 profiles and packetization modes are checked by ``MediaNegotiator``.
    func sameEncoding(_ other: RtpCodecParameters) -> Bool {
        name.lowercased() == other.name.lowercased() && clockRate == other.clockRate && (channels ?? 1) == (other.channels ?? 1)
    }

    /// The static payload types of RFC 3551 a section may list without `a=rtpmap`.
    static func staticCodec(_ payloadType: UInt8) -> RtpCodecParameters? {
        switch payloadType {
        case 0: RtpCodecParameters(payloadType: 0, name: "PCMU", clockRate: 8000)
        case 8: RtpCodecParameters(payloadType: 8, name: "PCMA", clockRate: 8000)
        case 9: RtpCodecParameters(payloadType: 9, name: "G722", clockRate: 8000)
        case 13: RtpCodecParameters(payloadType: 13, name: "CN", clockRate: 8000)
        default: nil
        }
    }
}

/// An RTX mapping of a section: the RTX payload type and the payload type it repairs.
public struct RtxMapping: Sendable, Hashable {
    /// The RTX payload type.
    public var payloadType: UInt8
    /// The payload type it repairs (`apt`).
    public var apt: UInt8

    /// Creates a mapping.
    public init(payloadType: UInt8, apt: UInt8) {
        self.payloadType = payloadType
        self.apt = apt
    }
}
