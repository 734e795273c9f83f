import NiceWebRTC

/// Waits for a connection's local candidates of the current ICE generation (after a local
/// description was applied), up to a timeout: a WHIP/WHEP answer carries what was gathered.
enum Gathering {
    struct Result: Sendable {
        var candidates: [IceCandidateInit] = []
        /// Gathering completed (the end-of-candidates candidate came) within the timeout.
        var complete = false
    }

    static func candidates(of connection: PeerConnection, timeout: Duration) async -> Result {
        let stream = connection.iceCandidates()
        let collected = LockedValue(Result())
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await candidate in stream {
                    guard let candidate, !candidate.isEndOfCandidates else {
                        collected.withLock { $0.complete = true }
                        return
                    }
                    collected.withLock { $0.candidates.append(candidate) }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return collected.value
    }
}
