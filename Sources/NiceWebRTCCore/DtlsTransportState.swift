/// The W3C `RTCDtlsTransportState`.
public enum DtlsTransportState: String, Sendable, Hashable, CaseIterable {
    /// The handshake has not started (remote parameters missing, or ICE not connected yet).
    case new
    /// The handshake is running.
    case connecting
    /// The handshake completed and the peer's certificate matched a signalled fingerprint.
    case connected
    /// The session ended with close_notify (sent by ``close()`` or received from the peer), or the
    /// connection was closed.
    case closed
    /// The handshake or the session failed (see the change's reason).
    case failed
}

/// Why the DTLS transport changed state.
public enum DtlsTransportStateReason: Sendable, Hashable, CustomStringConvertible {
    /// ICE connected and remote parameters are set: the handshake started.
    case handshakeStarted
    /// The handshake completed; the peer's certificate matched.
    case handshakeCompleted
    /// The peer's certificate matched none of the signalled fingerprints; `presented` is the
    /// sha-256 fingerprint of the certificate it showed.
    case fingerprintMismatch(presented: String)
    /// The peer sent no certificate.
    case noPeerCertificate
    /// The peer sent a fatal alert (its description, e.g. "bad certificate").
    case peerAlert(String)
    /// The handshake did not complete within the configured time.
    case handshakeTimeout
    /// The peer's DTLS did not follow the protocol (OpenSSL's reason, e.g. "no shared cipher").
    case protocolError(String)
    /// The peer sent close_notify.
    case closedByPeer

    public var description: String {
        switch self {
        case .handshakeStarted: "handshake started"
        case .handshakeCompleted: "handshake completed"
        case .fingerprintMismatch(let p): "the peer's certificate (\(p)) matches no signalled fingerprint"
        case .noPeerCertificate: "the peer sent no certificate"
        case .peerAlert(let a): "the peer sent a fatal alert: \(a)"
        case .handshakeTimeout: "the handshake timed out"
        case .protocolError(let e): "DTLS protocol error: \(e)"
        case .closedByPeer: "the peer sent close_notify"
        }
    }
}

/// A change of ``DtlsTransportState`` and why.
public struct DtlsTransportStateChange: Sendable, Hashable, CustomStringConvertible {
    public var state: DtlsTransportState
    public var reason: DtlsTransportStateReason?

    public init(state: DtlsTransportState, reason: DtlsTransportStateReason?) {
        self.state = state
        self.reason = reason
    }

    public var description: String {
        guard let reason else { return state.rawValue }
        return "\(state.rawValue) (\(reason))"
    }
}
