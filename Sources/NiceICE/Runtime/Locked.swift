#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value behind a `pthread_mutex_t`.
///
/// NiceICE uses this instead of `Synchronization.Mutex` because on Linux `Mutex` locks with futexes
/// in precompiled toolchain code that ThreadSanitizer cannot see, so every access it protects is
/// reported as a race; pthread mutexes are intercepted by TSan, which keeps `--sanitize=thread`
/// runs meaningful. (Same design as NIO's `NIOLockedValueBox`.)
///
/// `@unchecked Sendable` is safe because `value` is only read or written inside `withLock`, between
/// `pthread_mutex_lock` and `pthread_mutex_unlock` on the one mutex this instance owns, and `Value`
/// is itself `Sendable`, so what `withLock` returns may cross threads too.
package final class Locked<Value: Sendable>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    package init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value. Never call user code or re-enter from `body`.
    @inline(__always)
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
