/// Waits on a state stream with a deadline, for every layer's `waitUntil…`: one place decides
/// what a timeout and a cancellation are, so the layers report them alike (NiceICE maps them to
/// ``IceError/Code/timedOut`` and ``IceError/Code/cancelled``).
package enum StateWait {
    /// How a wait ended.
    package enum Outcome<Failure: Error & Sendable>: Sendable {
        /// `decide` returned success.
        case succeeded
        /// `decide` returned this failure.
        case failed(Failure)
        /// The stream finished first (the object was closed) and the task was not cancelled.
        case finished
        /// `timeout` passed first.
        case timedOut
        /// The waiting task was cancelled, before or during the wait.
        case cancelled
    }

    /// Reads `stream` until `decide` returns a result, the stream finishes, `timeout` passes or the
    /// calling task is cancelled, whichever comes first. A task cancelled before the call waits for
    /// nothing and gets `cancelled`.
    package static func wait<Element: Sendable, Failure: Error & Sendable>(
        on stream: AsyncStream<Element>, timeout: Duration,
        decide: @escaping @Sendable (Element) -> Result<Void, Failure>?
    ) async -> Outcome<Failure> {
        if Task.isCancelled { return .cancelled }
        return await withTaskGroup(of: Outcome<Failure>?.self) { group in
            group.addTask {
                for await element in stream {
                    switch decide(element) {
                    case .success?: return .succeeded
                    case .failure(let error)?: return .failed(error)
                    case nil: continue
                    }
                }
                // A stream ends early when its reading task is cancelled: not a close then.
                return Task.isCancelled ? nil : .finished
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return nil }
                return .timedOut
            }
            // A child only returns nil once cancelled, and before `cancelAll` only the caller's
            // cancellation reaches them.
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .cancelled
        }
    }
}
