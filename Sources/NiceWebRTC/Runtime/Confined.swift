#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value that is not `Sendable` (an OpenSSL session and what belongs to it) behind a pthread
/// mutex: the DTLS owner's lock.
///
/// `@unchecked Sendable` is safe because `value` is only reachable inside `withLock`, between
/// `pthread_mutex_lock` and `pthread_mutex_unlock` of the one mutex this instance owns, so no two
/// threads ever touch it at once; callers must not let references to its parts escape the closure
/// (``DtlsCore`` returns only `Sendable` results from it). A pthread mutex (not `Mutex`) so that
/// ThreadSanitizer sees every hand-over (see NiceICE's `Locked`).
final class Confined<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access. Never call user code from `body`.
    @inline(__always)
    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// The association's send lock (libdatachannel's `mSendMutex`): it orders every `usrsctp_sendv`
/// and stream reset of one association, and lets the context thread hand its flush to whoever holds
/// it instead of waiting (``tryLock()``). A pthread mutex, so ThreadSanitizer sees it.
///
/// `@unchecked Sendable` is safe: it holds no value, only the mutex it owns; `pthread_mutex_*`
/// calls are thread-safe by definition.
final class SendGate: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Takes the lock only when it is free; true when taken.
    func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }
}
