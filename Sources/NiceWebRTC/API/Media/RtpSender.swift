import NiceWebRTCCore

/// W3C `RTCRtpSender`: sends a ``LocalTrack`` on its transceiver's section.
public final class RtpSender: Sendable {
    let session: MediaSession
    let transceiverId: Int
    /// Audio or video.
    public let kind: MediaKind
    /// The SSRC it sends with (announced in `a=ssrc`; every written packet gets it).
    public let ssrc: UInt32

    init(session: MediaSession, transceiverId: Int, kind: MediaKind, ssrc: UInt32) {
        self.session = session
        self.transceiverId = transceiverId
        self.kind = kind
        self.ssrc = ssrc
    }

    /// The track it sends, nil for none.
    public var track: LocalTrack? { session.localTrack(transceiverId) }

    /// W3C `replaceTrack`: sends `track` from now on (nil: nothing) without renegotiating. The
    /// sequence numbers go on from where the previous track left them.
    ///
    /// - Throws: ``PeerConnectionError`` `TypeError` for a track of the other kind,
    ///   `InvalidStateError` when the connection is closed.
    public func replaceTrack(_ track: LocalTrack?) throws(PeerConnectionError) {
        if let track, track.kind != kind {
            throw PeerConnectionError(.typeError, field: "track", reason: "a \(track.kind.rawValue) track on a \(kind.rawValue) sender")
        }
        guard session.replaceTrack(transceiverId, with: track) else {
            throw PeerConnectionError(.invalidState, reason: "the PeerConnection is closed")
        }
    }

    /// The negotiated codec its track's packets go out with (the payload type the peer expects),
    /// nil before negotiation, without a track, or when the peer did not accept that codec.
    public var codec: RtpCodecParameters? {
        guard let mime = track?.mimeType.lowercased() else { return nil }
        return session.state.withLock { s in
            s.bindings[transceiverId]?.send?.codecs.first { !$0.isRtx && $0.mimeType(kind: kind).lowercased() == mime }
        }
    }
}
