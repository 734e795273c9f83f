import NiceICE
import NiceWebRTCCore

extension DtlsTransport {
    /// The current DTLS state first, then every change; after ``close()`` it yields `closed` and
    /// finishes. Each call makes a new stream.
    public func stateChanges() -> AsyncStream<DtlsTransportStateChange> { core.hub.makeDtlsStream() }

    /// The current connection state first, then every change; after ``close()`` it yields
    /// `closed` and finishes.
    public func connectionStateChanges() -> AsyncStream<PeerConnectionStateChange> { core.hub.makeConnectionStream() }

    /// Decrypted datagrams from now on (no replay), at most
    /// ``Configuration/receiveBufferLimit`` buffered; finishes after ``close()``.
    public func receivedDatagrams() -> AsyncStream<Datagram> { core.hub.inbox.makeStream() }

    /// Waits until ``connectionState`` is `connected`.
    ///
    /// - Throws: ``DtlsError`` `closed` when the transport fails or closes first (the reason says
    ///   which state and why), `timedOut` after `timeout`, `cancelled` when the waiting task is
    ///   cancelled: the same scheme as every layer's `waitUntil…`.
    public func waitUntilConnected(timeout: Duration = .seconds(30)) async throws(DtlsError) {
        try await waitForState(
            connectionStateChanges(), timeout: timeout, ended: "the transport closed (\(lastStateChange))",
            notYet: "not connected (\(connectionState.rawValue))"
        ) { (change: PeerConnectionStateChange) -> Result<Void, DtlsError>? in
            switch change.state {
            case .connected: return .success(())
            case .failed, .closed: return .failure(DtlsError(.closed, reason: "the connection is \(change)"))
            default: return nil
            }
        }
    }
}
