#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// W3C's operations chain for a ``PeerConnection``: one signalling operation at a time, from
/// applying a description to the negotiation until its effects were handed to ICE, DTLS and SCTP,
/// so two calls from two threads never interleave their effects.
///
/// A plain pthread mutex (ThreadSanitizer sees it), never held while user code runs: the layers'
/// calls made under it only take their own locks and post their events to queues, and nothing
/// they call takes this one, so no cycle exists. Not re-entrant, and needs none: no call under it
/// comes back to a `PeerConnection` method.
///
/// `@unchecked Sendable` is safe because the only state is the mutex, used solely through
/// `pthread_mutex_lock`/`unlock`, which are thread-safe by definition.
final class OperationChain: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` as the only operation in progress.
    func run<R, Failure: Error>(_ body: () throws(Failure) -> R) throws(Failure) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
