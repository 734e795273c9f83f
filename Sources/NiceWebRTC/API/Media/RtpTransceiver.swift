import NiceWebRTCCore

/// W3C `RTCRtpTransceiver`: one audio or video m-section, with its sender and receiver.
///
/// Created by ``PeerConnection/addTransceiver(_:_:)`` and ``PeerConnection/addTrack(_:streamIds:)``,
/// or for a remote offer's section when ``PeerConnection/Configuration/remoteMediaPolicy``
/// accepts it. Its properties read the connection's negotiation (any thread).
public final class RtpTransceiver: Sendable {
    /// The negotiation's transceiver id.
    let id: Int
    /// Audio or video.
    public let kind: MediaKind
    /// What sends our track.
    public let sender: RtpSender
    /// What receives the peer's track.
    public let receiver: RtpReceiver
    // Strong: the MediaSession's bindings hold the transceiver and the core holds the session;
    // PeerConnectionCore.close() (the PeerConnection's close or deinit) drops the bindings.
    let core: PeerConnectionCore

    init(id: Int, kind: MediaKind, ssrc: UInt32, core: PeerConnectionCore) {
        self.id = id
        self.kind = kind
        self.core = core
        sender = RtpSender(session: core.media, transceiverId: id, kind: kind, ssrc: ssrc)
        receiver = RtpReceiver(session: core.media, transceiverId: id)
    }

    private var negotiated: MediaTransceiver? { core.negotiation { $0.transceivers.first { [id] in $0.id == id } } }

    /// W3C `mid`: the mid of its section, once an offer associated it.
    public var mid: String? { negotiated?.mid }

    /// W3C `direction`: the direction wanted. Setting it runs ``setDirection(_:)`` (an error —
    /// stopped, closed — is ignored; call ``setDirection(_:)`` to see it).
    public var direction: RtpTransceiverDirection {
        get { negotiated?.direction ?? .inactive }
        set { try? setDirection(newValue) }
    }

    /// W3C `direction = …`: when it differs from ``currentDirection``, `negotiationneeded` fires.
    ///
    /// - Throws: ``PeerConnectionError`` `InvalidStateError` when stopped or closed.
    public func setDirection(_ direction: RtpTransceiverDirection) throws(PeerConnectionError) {
        try core.setDirection(direction, transceiver: id)
    }

    /// W3C `currentDirection`: what the last completed exchange decided, nil before one (or
    /// once stopped).
    public var currentDirection: RtpTransceiverDirection? { negotiated?.currentDirection }

    /// Whether it was stopped (``stop()``, or its section rejected).
    public var isStopped: Bool { negotiated?.isStopped ?? true }

    /// W3C `stop()`: the next offer or answer rejects its section; `negotiationneeded` fires.
    ///
    /// - Throws: ``PeerConnectionError`` `InvalidStateError` when the connection is closed.
    public func stop() throws(PeerConnectionError) {
        try core.stopTransceiver(id)
    }
}
