/// One `a=extmap` line (RFC 8285): the id the header extension has in RTP packets, its URI and
/// an optional direction (W3C `RTCRtpHeaderExtensionParameters`).
public struct RtpHeaderExtensionParameters: Sendable, Hashable {
    /// 1–14 for one-byte headers, up to 255 with two-byte headers (15 is reserved).
    public var id: UInt8
    /// The extension's URI.
    public var uri: String
    /// `a=extmap:<id>/<direction>`, nil when absent.
    public var direction: RtpTransceiverDirection?

    /// Creates an entry.
    public init(id: UInt8, uri: String, direction: RtpTransceiverDirection? = nil) {
        self.id = id
        self.uri = uri
        self.direction = direction
    }

    /// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 8843).
    public static let midUri = "urn:ietf:params:rtp-hdrext:sdes:mid"
    /// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852).
    public static let ridUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    /// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852).
    public static let repairedRidUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
    /// Absolute send time (webrtc.org).
    public static let absSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    /// Transport-wide sequence numbers for transport-cc.
    public static let transportWideCcUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
}

/// One `a=ssrc` line (RFC 5576): a source and one of its attributes (`cname`, `msid`, …).
public struct SsrcAttribute: Sendable, Hashable {
    /// The synchronization source.
    public var ssrc: UInt32
    /// `cname`, `msid`, `mslabel`, `label`, …
    public var name: String
    /// The value after `:`, nil when there is none.
    public var value: String?

    /// Creates a line.
    public init(ssrc: UInt32, name: String, value: String?) {
        self.ssrc = ssrc
        self.name = name
        self.value = value
    }
}

/// One `a=ssrc-group` line (RFC 5576 §4.2): `FID` (a source and its RTX source), `SIM`, `FEC-FR`.
public struct SsrcGroup: Sendable, Hashable {
    /// `FID`, `SIM`, …
    public var semantics: String
    /// The sources, in order (for `FID`: media, then RTX).
    public var ssrcs: [UInt32]

    /// Creates a group.
    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }
}

/// `a=msid` (RFC 8830): the stream id and the track id of what the section sends.
public struct MediaStreamId: Sendable, Hashable {
    /// The stream id (`-` for no stream).
    public var streamId: String
    /// The track id (appdata), nil when absent.
    public var trackId: String?

    /// Creates a value.
    public init(streamId: String, trackId: String?) {
        self.streamId = streamId
        self.trackId = trackId
    }
}
