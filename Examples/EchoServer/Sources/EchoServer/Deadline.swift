// Waiting for work that cannot be cancelled (libnice releasing sockets), at most so long.
import Synchronization

/// Runs `work` on a task of its own and returns true once it finished, or false after `limit`
/// (the work goes on then, unobserved). Unlike a task group this never waits past `limit`, even
/// for work that ignores cancellation.
func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    await withCheckedContinuation { (k: CheckedContinuation<Bool, Never>) in
        let once = ResumeOnce(k)
        let timer = Task {
            try? await Task.sleep(for: limit)
            once.resume(false)
        }
        // The work is not cancelled at the limit: it cannot stop early anyway.
        Task {
            await work()
            once.resume(true)
            timer.cancel()
        }
    }
}

/// A continuation that the first of several racers resumes.
private final class ResumeOnce: Sendable {
    private let slot: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        slot = Mutex(continuation)
    }

    func resume(_ value: Bool) {
        slot.withLock { k in
            k?.resume(returning: value)
            k = nil
        }
    }
}

/// A one-way gate: ``wait()`` returns once ``open()`` was called (at once if it was already).
final class Latch: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.open else { return [] }
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for k in waiters { k.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(k)
                return false
            }
            if now { k.resume() }
        }
    }
}
