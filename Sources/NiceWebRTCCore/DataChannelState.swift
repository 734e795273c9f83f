/// W3C `RTCDataChannelState`.
public enum DataChannelState: String, Sendable, Hashable, CaseIterable {
    /// Created; the SCTP association (or, for a channel the peer opened, nothing) is not ready yet.
    case connecting
    /// Messages can be sent and received.
    case open
    /// ``DataChannel/close()`` was called (or the peer reset its stream): the outgoing stream is
    /// being reset (RFC 8831 §6.7).
    case closing
    /// The channel ended: both streams reset, or the SCTP association, DTLS or the connection ended.
    case closed
}

/// W3C `RTCSctpTransportState`.
public enum SctpTransportState: String, Sendable, Hashable, CaseIterable {
    /// The SCTP association is being set up (waiting for DTLS, then INIT / COOKIE).
    case connecting
    /// The association is up: channels can open.
    case connected
    /// The association ended (SHUTDOWN, ABORT, DTLS closed or failed, ``SctpTransport/close()``).
    case closed
}
