/// What one side of an SCTP association over DTLS signals (RFC 8841): its SCTP port and the
/// largest message it can receive.
public struct SctpParameters: Sendable, Hashable {
    /// `a=sctp-port`, 5000 by convention.
    public var port: UInt16
    /// `a=max-message-size`: the largest message this side receives; 0 means "no limit".
    public var maxMessageSize: Int

    public init(port: UInt16 = 5000, maxMessageSize: Int = DataChannelDescription.defaultMaxMessageSize) {
        self.port = port
        self.maxMessageSize = maxMessageSize
    }

    /// The parameters an SDP data section carries.
    public init(_ description: DataChannelDescription) {
        self.init(port: description.sctpPort, maxMessageSize: description.maxMessageSize)
    }

    /// The largest message we may send to a peer with these parameters when we can send at most
    /// `localLimit` bytes (W3C `RTCSctpTransport.maxMessageSize`): 0 from the peer means no limit.
    public func sendLimit(localLimit: Int) -> Int {
        maxMessageSize == 0 ? localLimit : min(maxMessageSize, localLimit)
    }
}
