/// The jobs of ``NiceContext/execute(_:)`` waiting for the context thread.
final class JobQueue: Sendable {
    struct State: Sendable {
        var jobs: [@Sendable () -> Void] = []
        var scheduled = false
        var stopped = false
    }

    private let state = Locked(State())

    /// Queues a job and, when no drain is pending, runs `schedule` (which attaches the drain source)
    /// under the same lock as ``stop()``, so no source is attached to a context being freed. After
    /// `stop()` the job is dropped.
    func push(_ job: @escaping @Sendable () -> Void, schedule: () -> Void) {
        state.withLock { s in
            guard !s.stopped else { return }
            s.jobs.append(job)
            guard !s.scheduled else { return }
            s.scheduled = true
            schedule()
        }
    }

    /// The loop has ended: drop what is queued and refuse new jobs.
    func stop() {
        state.withLock { s in
            s.stopped = true
            s.jobs = []
        }
    }

    /// Runs every queued job, in order (context thread). Jobs queued meanwhile schedule a new drain.
    func drain() {
        let batch = state.withLock { s in
            s.scheduled = false
            defer { s.jobs = [] }
            return s.jobs
        }
        for job in batch { job() }
    }
}
