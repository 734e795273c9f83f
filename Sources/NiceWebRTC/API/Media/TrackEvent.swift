/// W3C `RTCTrackEvent`: a negotiated section started receiving a track from the peer.
public struct TrackEvent: Sendable {
    /// The receiver of the track.
    public let receiver: RtpReceiver
    /// The track.
    public let track: RemoteTrack
    /// The stream ids the peer announced for it (`a=msid`; W3C `streams`, by id).
    public let streamIds: [String]
    /// The transceiver whose section carries it.
    public let transceiver: RtpTransceiver
}
