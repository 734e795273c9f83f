/// What a completed offer/answer exchange decided for one audio or video section: what the
/// runtime needs to send and receive its RTP.
///
/// ```swift
/// for media in negotiation.negotiatedMedia where !media.isRejected {
///     media.mid, media.direction                 // "1", .recvonly (ours)
///     media.codecs.first                         // VP8 with the payload type both sides use
///     media.extensionId(RtpHeaderExtensionParameters.midUri)   // 4
///     media.remoteSsrcs, media.remoteMsid        // who sends to us
/// }
/// ```
public struct NegotiatedMedia: Sendable, Hashable {
    /// The section's mid.
    public var mid: String
    /// Its m-line index.
    public var mLineIndex: Int
    /// Audio or video.
    public var kind: MediaKind
    /// The local transceiver it belongs to (``MediaTransceiver/id``), nil when rejected without one.
    public var transceiverId: Int?
    /// Whether the exchange rejected it (port 0, or no common codec).
    public var isRejected: Bool
    /// Our direction: whether we send and receive on it.
    public var direction: RtpTransceiverDirection
    /// The negotiated codecs, RTX included, with the payload types both sides use (the offerer's).
    public var codecs: [RtpCodecParameters]
    /// The negotiated header extensions with their ids.
    public var headerExtensions: [RtpHeaderExtensionParameters]
    /// Whether reduced-size RTCP was negotiated (both sides wrote `a=rtcp-rsize`).
    public var rtcpReducedSize: Bool
    /// Our section as applied.
    public var local: MediaDescription
    /// The peer's section as applied.
    public var remote: MediaDescription

    /// The id of the header extension `uri`, if negotiated.
    public func extensionId(_ uri: String) -> UInt8? { headerExtensions.first { $0.uri == uri }?.id }
    /// The RTX payload types and what they repair.
    public var rtx: [RtxMapping] {
        codecs.compactMap { codec in codec.isRtx ? codec.apt.map { RtxMapping(payloadType: codec.payloadType, apt: $0) } : nil }
    }
    /// The SSRCs of the peer's `a=ssrc` lines.
    public var remoteSsrcs: [UInt32] { remote.ssrcs }
    /// The peer's `(media, rtx)` SSRC pairs (`a=ssrc-group:FID`).
    public var remoteFidGroups: [(media: UInt32, rtx: UInt32)] { remote.fidGroups }
    /// The peer's `a=msid` (stream and track ids of the remote track).
    public var remoteMsid: [MediaStreamId] { remote.msid }
    /// The peer's `a=rid` values, raw (simulcast is not negotiated yet).
    public var remoteRids: [String] { remote.rids }
}
