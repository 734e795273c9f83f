import NiceWebRTCCore

extension PeerConnection {
    /// W3C `addTransceiver(kind, init)`: a new audio or video transceiver; `negotiationneeded`
    /// fires (the next offer gives it a section, or a remote offer's section of its kind takes it).
    ///
    /// - Throws: ``PeerConnectionError`` `InvalidStateError` when closed, `TypeError` for stream
    ///   ids that cannot go into SDP or more than ``Negotiation/maximumTransceivers``.
    @discardableResult
    public func addTransceiver(_ kind: MediaKind, _ init: RtpTransceiverInit = .init()) throws(PeerConnectionError) -> RtpTransceiver {
        try core.addTransceiver(kind, direction: `init`.direction, streamIds: `init`.streamIds, track: nil)
    }

    /// W3C `addTrack(track, ...streams)`: sends `track`, on a transceiver of its kind that never
    /// sent and has no track (one a remote offer created), else on a new `sendrecv` one;
    /// `negotiationneeded` fires.
    ///
    /// - Parameter streamIds: the `a=msid` stream ids; empty takes the track's ``LocalTrack/streamId``.
    /// - Throws: ``PeerConnectionError`` `InvalidAccessError` when a sender of this connection
    ///   has the track already, `InvalidStateError` when closed, `TypeError` as ``addTransceiver(_:_:)``.
    @discardableResult
    public func addTrack(_ track: LocalTrack, streamIds: [String] = []) throws(PeerConnectionError) -> RtpSender {
        try core.addTrack(track, streamIds: streamIds.isEmpty ? track.streamId.map { [$0] } ?? [] : streamIds)
    }

    /// W3C `getTransceivers()`: in creation order; empty after ``close()`` (the connection lets
    /// them go so they are freed with it).
    public var transceivers: [RtpTransceiver] { core.media.transceivers() }

    /// W3C `getSenders()`.
    public var senders: [RtpSender] { transceivers.map(\.sender) }

    /// W3C `getReceivers()`.
    public var receivers: [RtpReceiver] { transceivers.map(\.receiver) }

    /// W3C `ontrack`: a section started receiving a track from the peer. Fires during
    /// ``setRemoteDescription(_:)`` (the offer for the answerer, the answer for the offerer), on
    /// the handler queue, for each section that receives (`recvonly`/`sendrecv` on our side, the
    /// peer sending), once per track.
    public var trackHandler: (@Sendable (TrackEvent) -> Void)? {
        get { core.hub.handler(\.track) }
        set { core.hub.setHandlers { $0.track = newValue } }
    }

    /// A new stream of `track` events: first those fired so far, then every new one. Finishes on
    /// ``close()``.
    public func trackEvents() -> AsyncStream<TrackEvent> { core.hub.makeTrackStream() }
}
