extension IceTransport {
    /// Waits until the connection is usable: ``iceConnectionState`` `connected` or `completed`.
    /// Returns at once if it already is. `disconnected` is waited through (it may recover).
    ///
    /// ```swift
    /// try await pc.waitUntilConnected(timeout: .seconds(10))
    /// ```
    ///
    /// - Throws: ``IceError`` with ``IceError/state`` set to the state (and its reason) at that
    ///   moment: `connectionFailed` when the state becomes `failed` (for example
    ///   ``IceStateChangeReason/checksExhausted`` or ``IceStateChangeReason/setupFailed``),
    ///   `closed` when the connection is closed, `timedOut` (``IceError/Code/timedOut``) after
    ///   `timeout`, `cancelled` (``IceError/Code/cancelled``) when the calling task is cancelled
    ///   before or during the wait. A state that already decides the wait (connected, failed,
    ///   closed) is reported even with a zero timeout or a cancelled task.
    public func waitUntilConnected(timeout: Duration) async throws(IceError) {
        // Decided by the current state first, so a zero timeout or a cancelled task still sees a
        // connection that is already up (or already failed or closed).
        if let decided = Self.connectedOutcome(currentChange) { return try decided.get() }
        let outcome = await StateWait.wait(on: stateChanges(), timeout: timeout) { Self.connectedOutcome($0) }
        switch outcome {
        case .succeeded:
            return
        case .failed(let error):
            throw error
        case .finished:
            throw IceError(.closed, reason: "the connection is closed", state: currentChange)
        case .timedOut:
            throw IceError(.timedOut, reason: "not connected within \(timeout)", state: currentChange)
        case .cancelled:
            throw IceError(.cancelled, reason: "the waiting task was cancelled", state: currentChange)
        }
    }

    /// What a state means for ``waitUntilConnected(timeout:)``: nil to keep waiting.
    static func connectedOutcome(_ change: IceStateChange) -> Result<Void, IceError>? {
        switch change.state {
        case .connected, .completed:
            return .success(())
        case .failed:
            return .failure(IceError(.connectionFailed, reason: "ICE failed (\(change.reason.map { "\($0)" } ?? "no reason"))", state: change))
        case .closed:
            return .failure(IceError(.closed, reason: "the connection is closed", state: change))
        case .new, .checking, .disconnected:
            return nil
        }
    }

    /// The current state with the reason of the change that led to it.
    var currentChange: IceStateChange { hub.withValues { $0.lastChange } }
}
