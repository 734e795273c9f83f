import NiceWebRTCCore

/// What a ``MediaSession`` keeps for one transceiver: the objects, what the last completed
/// exchange negotiated for sending and receiving, and the per-binding rewrite state.
struct MediaBinding: Sendable {
    /// What sending needs, from ``NegotiatedMedia`` (nil: the section does not send).
    struct Send: Sendable, Hashable {
        var mid: String
        /// The negotiated codecs (RTX included).
        var codecs: [RtpCodecParameters]
        /// Negotiated payload types by lower-cased MIME type (`video/vp8`), the first of each.
        var payloadTypes: [String: UInt8]
        /// The negotiated `sdes:mid` extension id, if any.
        var midExtensionId: UInt8?
        /// The negotiated transport-wide-cc extension id, if any (each packet then carries the
        /// session's next transport-wide sequence number).
        var transportCcExtensionId: UInt8?
    }

    /// What receiving needs (nil: the section does not receive).
    struct Receive: Sendable, Hashable {
        var mid: String
        /// The negotiated codecs (RTX included).
        var codecs: [RtpCodecParameters]
        /// Non-RTX payload types.
        var payloadTypes: Set<UInt8>
        /// RTX payload type → the payload type it repairs.
        var rtx: [UInt8: UInt8]
        var midExtensionId: UInt8?
        /// The peer's `a=ssrc` SSRCs and FID pairs.
        var remoteSsrcs: [UInt32]
        var fid: [UInt32: UInt32]  // rtx → media
    }

    /// W3C `inbound-rtp` / `outbound-rtp` counters for one SSRC.
    struct Counts: Sendable, Hashable {
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
    }

    let transceiver: RtpTransceiver
    let kind: MediaKind
    /// Our SSRC (announced in `a=ssrc` when we add the transceiver).
    let ssrc: UInt32
    var localTrack: LocalTrack?
    var remoteTrack: RemoteTrack?
    var send: Send?
    var receive: Receive?
    /// The next sequence number written on this binding: continuous whatever the track writes,
    /// across ``RtpSender/replaceTrack(_:)`` too.
    var nextSequenceNumber: UInt16
    /// The media SSRC the peer sends with (learnt from the first packet routed here).
    var remoteMediaSsrc: UInt32?
    /// The packetizer and RTP clock of ``LocalTrack/write(frame:duration:)`` (made at the first
    /// frame, remade when the codec changes).
    var frameSender: FrameSender?
    /// The source of the NACK history's references to the track's shared history (reused while
    /// the track and the rewrite stay the same).
    var sharedSource: RtpSharedSource?
    var sent = Counts()
    var received: [UInt32: Counts] = [:]
    /// Whether the `track` event fired for the current remote track.
    var trackAnnounced = false
}

/// Drop counters of one ``MediaSession`` (package-visible for tests and stats).
package struct MediaCounters: Sendable, Hashable {
    /// RTP that did not parse.
    package var malformedRtp: UInt64 = 0
    /// RTCP compounds that did not parse.
    package var malformedRtcp: UInt64 = 0
    /// RTP whose SSRC no receiver has and could not be learnt (no mid extension, cap reached).
    package var unknownSsrc: UInt64 = 0
    /// RTP for a receiver that does not receive, or with a payload type not negotiated.
    package var notReceived: UInt64 = 0
    /// RTX packets unwrapped to their original packet.
    package var rtxUnwrapped: UInt64 = 0
    /// RTX packets too short to carry an original sequence number.
    package var rtxDropped: UInt64 = 0
    /// Writes dropped: no binding sends, or no payload type for the track's MIME type.
    package var writesDropped: UInt64 = 0
    /// Packets SRTP refused to send (not keyed yet, closed, ICE refused).
    package var sendFailures: UInt64 = 0
}
