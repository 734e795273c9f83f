#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The lock user handlers run under, so that ``EventHub/close()`` can promise that no handler
/// starts after it returns.
///
/// A delivery takes the gate, checks `closed`, and calls the handler while holding it; `close()`
/// sets `closed` and then takes and releases the gate once. So when `close()` returns, a delivery
/// either finished before, or will see `closed` and call nothing. The mutex is recursive: a handler
/// may call `close()` (the same thread already holds the gate, and that handler is not waited for).
///
/// `@unchecked Sendable` is safe because the only state is the pthread mutex, used solely through
/// `pthread_mutex_lock`/`unlock`, which are thread-safe by definition.
package final class DeliveryGate: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    package init() {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the gate (re-entrant on the same thread).
    @inline(__always)
    package func withGate<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits until no other thread is inside ``withGate(_:)``.
    package func waitForDeliveries() {
        pthread_mutex_lock(mutex)
        pthread_mutex_unlock(mutex)
    }
}
