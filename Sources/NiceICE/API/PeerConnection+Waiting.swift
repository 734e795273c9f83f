extension PeerConnection {
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
    ///   `closed` when the connection is closed, `timedOut` after `timeout`, `cancelled` when the
    ///   calling task is cancelled.
    public func waitUntilConnected(timeout: Duration) async throws(IceError) {
        let changes = stateChanges()
        let outcome: Result<Void, IceError> = await withTaskGroup(of: Result<Void, IceError>?.self) { group in
            group.addTask { [self] in
                for await change in changes {
                    switch change.state {
                    case .connected, .completed:
                        return .success(())
                    case .failed:
                        return .failure(IceError(.connectionFailed, reason: "ICE failed (\(change.reason.map { "\($0)" } ?? "no reason"))", state: change))
                    case .closed:
                        return .failure(IceError(.closed, reason: "the connection is closed", state: change))
                    case .new, .checking, .disconnected:
                        continue
                    }
                }
                if Task.isCancelled { return nil }
                return .failure(IceError(.closed, reason: "the connection is closed", state: currentChange))
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(Task.isCancelled
                ? IceError(.cancelled, reason: "the waiting task was cancelled", state: currentChange)
                : IceError(.timedOut, reason: "not connected within \(timeout)", state: currentChange))
        }
        try outcome.get()
    }

    /// The current state with the reason of the change that led to it.
    var currentChange: IceStateChange { hub.state.withLock { $0.lastChange } }
}
