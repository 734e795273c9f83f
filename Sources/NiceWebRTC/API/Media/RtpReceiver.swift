import NiceWebRTCCore

/// W3C `RTCRtpReceiver`: receives the peer's track on its transceiver's section.
public final class RtpReceiver: Sendable {
    let session: MediaSession
    let transceiverId: Int

    init(session: MediaSession, transceiverId: Int) {
        self.session = session
        self.transceiverId = transceiverId
    }

    /// The peer's track, once the `track` event announced it (``PeerConnection/trackHandler``).
    public var track: RemoteTrack? { session.remoteTrack(transceiverId) }
}
