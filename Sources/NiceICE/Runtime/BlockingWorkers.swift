import Dispatch
import Foundation
import Logging

/// A small, bounded pool of threads for the blocking work set-up needs (DNS lookups) and the TURN
/// probes, so none of it runs on — and stalls — a context's GLib thread, and a burst of failing
/// TURN servers cannot spawn a thread each.
///
/// Threads start lazily, at most ``limit`` of them, and join the context's network namespace first
/// (a lookup or a probe must see the namespace's routes and resolver). Jobs run in submission order,
/// up to ``limit`` at once. The threads end when the pool is stopped (the context is released).
final class BlockingWorkers: Sendable {
    struct State: Sendable {
        var jobs: [@Sendable () -> Void] = []
        var threads = 0
        /// Threads parked after a job that no submitted job has claimed yet.
        var idle = 0
        var stopping = false
    }

    let limit: Int
    let name: String
    let namespace: String?
    private let state = Locked(State())
    /// One signal per queued job (and `limit` more on stop). GCD semaphores are visible to TSan.
    private let available = DispatchSemaphore(value: 0)
    private static let logger = Logger(label: "NiceICE.workers")

    init(name: String, namespace: String?, limit: Int = 4) {
        self.name = name
        self.namespace = namespace
        self.limit = limit
    }

    /// Queues `job`; starts a thread if none is idle and the limit allows.
    func submit(_ job: @escaping @Sendable () -> Void) {
        let startThread = state.withLock { s -> Bool in
            guard !s.stopping else { return false }
            s.jobs.append(job)
            // Claim a parked thread if there is one, else start one while under the limit;
            // otherwise the job waits for the next thread that finishes.
            if s.idle > 0 {
                s.idle -= 1
                return false
            }
            guard s.threads < limit else { return false }
            s.threads += 1
            return true
        }
        available.signal()
        if startThread { spawn() }
    }

    /// Lets every thread finish its current job and end. Queued jobs that have not started are dropped.
    func stop() {
        let n = state.withLock { s -> Int in
            s.stopping = true
            s.jobs = []
            return s.threads
        }
        for _ in 0..<n { available.signal() }
    }

    private func spawn() {
        let thread = Thread { [self] in
            LibNice.nameCurrentThread(name)
            if let namespace, LibNice.enterNetworkNamespace(namespace) != 0 {
                Self.logger.warning("a worker thread cannot join network namespace \(namespace)")
            }
            run()
        }
        thread.name = name
        thread.start()
    }

    private func run() {
        while true {
            available.wait()
            let job = state.withLock { s -> (@Sendable () -> Void)? in
                if s.stopping {
                    s.threads -= 1
                    return nil
                }
                return s.jobs.isEmpty ? nil : s.jobs.removeFirst()
            }
            guard let job else {
                if state.withLock({ $0.stopping }) { return }
                continue
            }
            job()
            state.withLock { $0.idle += 1 }
        }
    }
}
