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
    ///   which state and why), `notConnected` on timeout, `invalidState` when the task is cancelled.
    public func waitUntilConnected(timeout: Duration = .seconds(30)) async throws(DtlsError) {
        let stream = connectionStateChanges()
        let dtls = self
        let result: Result<Void, DtlsError> = await withTaskGroup(of: Result<Void, DtlsError>?.self) { group in
            group.addTask {
                for await change in stream {
                    switch change.state {
                    case .connected: return .success(())
                    case .failed, .closed:
                        return .failure(DtlsError(.closed, reason: "the connection is \(change)"))
                    default: continue
                    }
                }
                return .failure(DtlsError(.closed, reason: "the transport closed (\(dtls.lastStateChange))"))
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return nil }
                return .failure(DtlsError(.notConnected, reason: "not connected after \(timeout) (\(dtls.connectionState.rawValue))"))
            }
            var outcome: Result<Void, DtlsError> = .failure(DtlsError(.invalidState, reason: "cancelled"))
            for await r in group {
                if let r {
                    outcome = r
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
        try result.get()
    }
}
