import NiceICE
import NiceWebRTCCore

extension PeerConnection {
    /// W3C `createDataChannel(label, options)`. A channel created before the association is up
    /// opens once it is (its id follows the DTLS role); the first one makes `negotiationneeded`
    /// fire when the session has no data section yet.
    ///
    /// - Throws: ``PeerConnectionError``: `TypeError` for options W3C refuses (both
    ///   `maxPacketLifeTime` and `maxRetransmits`, `negotiated` without an id, an id out of
    ///   range, a label over 65,535 bytes), `OperationError` for an id in use or no stream
    ///   left, `InvalidStateError` when closed.
    public func createDataChannel(_ label: String, options: DataChannelOptions = DataChannelOptions()) throws(PeerConnectionError) -> DataChannel {
        try core.createChannel(label: label, options: options)
    }

    /// W3C `ondatachannel`: each channel the peer opens, on the handler queue. Channels opened
    /// before a handler or stream listened are kept for the first one (at most 1,024).
    public var dataChannelHandler: (@Sendable (DataChannel) -> Void)? {
        get { core.hub.handler(\.dataChannel) }
        set {
            let hub = core.hub
            guard !hub.isClosed else { return }
            hub.setHandlers { $0.dataChannel = newValue }
            guard let newValue else {
                core.sctp.dataChannelHandler = nil
                return
            }
            // Delivered under the connection's gate and only while it is open, as its own events.
            core.sctp.dataChannelHandler = { channel in
                hub.gate.withGate {
                    guard !hub.isClosed else { return }
                    newValue(channel)
                }
            }
        }
    }

    /// A new stream of the channels the peer opens (first those nobody took yet); finishes when
    /// the association ends.
    public func incomingDataChannels() -> AsyncStream<DataChannel> { core.sctp.incomingDataChannels() }
}
