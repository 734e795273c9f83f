import Synchronization

/// Set, lock-free, by a stream's `onTermination`; read by the hub that yields to it.
package final class StreamEnd: Sendable {
    private let ended = Atomic<Bool>(false)

    package init() {}

    package var isEnded: Bool { ended.load(ordering: .acquiring) }

    package func end() { ended.store(true, ordering: .releasing) }
}

/// The live streams of one element type of a hub, kept inside the hub's lock.
///
/// A hub yields to its streams while holding its lock (that is what keeps the order, and what
/// makes a new stream's replay and the live events meet without a gap). So a stream's
/// `onTermination` must never wait for that lock: cancelling a task suspended in `for await` runs
/// `onTermination` while the task's status-record lock is held, and a yield under the hub lock that
/// resumes the same task waits for that status-record lock: the hub's thread (the shared GLib
/// context thread) and the cancelling thread would block each other for ever.
///
/// Here `onTermination` only sets an atomic flag (``StreamEnd``); the hub removes ended streams
/// under its own lock: when it yields (a stream whose `yield` says `.terminated`, or whose flag is
/// set) and when it registers a new stream, so cancelled streams do not pile up.
package struct StreamRegistry<Element: Sendable>: Sendable {
    private struct Entry: Sendable {
        let continuation: AsyncStream<Element>.Continuation
        let end: StreamEnd
    }

    private var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0

    package init() {}

    /// Registers `continuation` (a new one, not yet handed out) and sets its `onTermination`.
    package mutating func add(_ continuation: AsyncStream<Element>.Continuation) {
        prune()
        let end = StreamEnd()
        continuation.onTermination = { _ in end.end() }
        nextID &+= 1
        entries[nextID] = Entry(continuation: continuation, end: end)
    }

    /// Yields `element` to every live stream, and forgets the ended ones.
    package mutating func yield(_ element: Element) {
        var ended: [UInt64] = []
        for (id, entry) in entries {
            if entry.end.isEnded {
                ended.append(id)
            } else if case .terminated = entry.continuation.yield(element) {
                ended.append(id)
            }
        }
        for id in ended { entries.removeValue(forKey: id) }
    }

    /// Yields `element` as ``yield(_:)`` does and returns how many streams dropped an element to
    /// make room (a `bufferingNewest` stream whose buffer was full).
    package mutating func yieldCountingDrops(_ element: Element) -> Int {
        var ended: [UInt64] = []
        var dropped = 0
        for (id, entry) in entries {
            if entry.end.isEnded {
                ended.append(id)
                continue
            }
            switch entry.continuation.yield(element) {
            case .terminated: ended.append(id)
            case .dropped: dropped += 1
            case .enqueued: break
            @unknown default: break
            }
        }
        for id in ended { entries.removeValue(forKey: id) }
        return dropped
    }

    /// Whether a stream that has not ended is registered.
    package var hasLiveStreams: Bool { entries.values.contains { !$0.end.isEnded } }

    /// The registered continuations (to finish them), leaving the registry empty.
    package mutating func removeAll() -> [AsyncStream<Element>.Continuation] {
        defer { entries = [:] }
        return entries.values.map(\.continuation)
    }

    /// Empties the registry; the returned closure finishes the streams it held (call it outside the
    /// hub's lock).
    package mutating func removeAllForFinishing() -> @Sendable () -> Void {
        let continuations = removeAll()
        return { for k in continuations { k.finish() } }
    }

    /// The registered continuations, left registered.
    package var continuations: [AsyncStream<Element>.Continuation] { entries.values.map(\.continuation) }

    private mutating func prune() {
        for (id, entry) in entries where entry.end.isEnded { entries.removeValue(forKey: id) }
    }
}
