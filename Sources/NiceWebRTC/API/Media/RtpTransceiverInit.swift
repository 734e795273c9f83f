import NiceWebRTCCore

/// W3C `RTCRtpTransceiverInit`: what ``PeerConnection/addTransceiver(_:_:)`` creates.
public struct RtpTransceiverInit: Sendable, Hashable {
    /// The direction wanted (W3C default `sendrecv`).
    public var direction: RtpTransceiverDirection
    /// The stream ids of what the sender sends (`a=msid`), at most 4.
    public var streamIds: [String]

    /// Creates the values.
    public init(direction: RtpTransceiverDirection = .sendrecv, streamIds: [String] = []) {
        self.direction = direction
        self.streamIds = streamIds
    }
}
