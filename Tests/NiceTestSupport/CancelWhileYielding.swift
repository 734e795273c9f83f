import Dispatch
import Synchronization

/// Issue 18 (echo): cancelling a task suspended in `for await` on a library stream while the
/// library yields to that stream must not deadlock. (Before the fix a hub yielded under its lock
/// and the stream's `onTermination` took the same lock; `swift_task_cancel` holds the task's
/// status-record lock while it runs `onTermination`, and the yield that resumes the task waits for
/// that status-record lock: the emitting thread and the cancelling thread blocked each other.)
///
/// Each round: a task iterates a new stream; once it has received the stream's first element, a
/// thread emits in a loop (at most 2,000 times), and another thread cancels the task after a varying number of
/// emissions. The round must end (task ended, canceller and emitter returned) within `roundLimit`.
/// Everything that may block runs on its own thread and is waited for with a timeout, so a
/// deadlock is reported (the stuck threads are left behind) instead of hanging the test process.
public enum CancelWhileYielding {
    public struct Outcome: Sendable, CustomStringConvertible {
        /// The first round that did not end in time, and what it was waiting for.
        public var stuck: (round: Int, step: String)?
        public var rounds: Int
        /// Elements the iterating tasks received, over every round.
        public var received: Int

        public var description: String {
            if let stuck { return "round \(stuck.round) of \(rounds) stuck waiting for \(stuck.step)" }
            return "\(rounds) rounds, \(received) elements received"
        }
    }

    /// Atomics shared between the threads of a run.
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Atomics shared between the threads of a round.
    private final class Flags: Sendable {
        let stop = Atomic<Bool>(false)
        let emitted = Atomic<Int>(0)
    }

    /// Runs the rounds on a dedicated thread (it blocks on semaphores) and returns how they went.
    public static func run<Element: Sendable>(
        rounds: Int, roundLimit: DispatchTimeInterval = .seconds(20),
        makeStream: @escaping @Sendable (_ round: Int) -> AsyncStream<Element>,
        emit: @escaping @Sendable (_ round: Int, _ i: Int) -> Void
    ) async -> Outcome {
        await withCheckedContinuation { (k: CheckedContinuation<Outcome, Never>) in
            DispatchQueue(label: "cancel-while-yielding.driver").async {
                k.resume(returning: drive(rounds: rounds, roundLimit: roundLimit, makeStream: makeStream, emit: emit))
            }
        }
    }

    private static func drive<Element: Sendable>(
        rounds: Int, roundLimit: DispatchTimeInterval,
        makeStream: @escaping @Sendable (Int) -> AsyncStream<Element>,
        emit: @escaping @Sendable (Int, Int) -> Void
    ) -> Outcome {
        let received = Counter()
        let emitter = DispatchQueue(label: "cancel-while-yielding.emitter")
        let canceller = DispatchQueue(label: "cancel-while-yielding.canceller")
        func stuck(_ round: Int, _ step: String) -> Outcome {
            Outcome(stuck: (round, step), rounds: rounds, received: received.value.load(ordering: .relaxed))
        }
        for round in 0..<rounds {
            let stream = makeStream(round)
            let first = DispatchSemaphore(value: 0)
            let ended = DispatchSemaphore(value: 0)
            let task = Task.detached {
                var signalled = false
                for await _ in stream {
                    received.value.add(1, ordering: .relaxed)
                    if !signalled {
                        signalled = true
                        first.signal()
                    }
                }
                ended.signal()
            }
            if first.wait(timeout: .now() + roundLimit) == .timedOut { return stuck(round, "the first element") }
            let flags = Flags()
            let emitterEnded = DispatchSemaphore(value: 0)
            emitter.async {
                var i = 0
                // Bounded, so a slow round does not pile up events in the hub's queue.
                while !flags.stop.load(ordering: .acquiring) && i < 2000 {
                    emit(round, i)
                    i += 1
                    flags.emitted.store(i, ordering: .releasing)
                }
                emitterEnded.signal()
            }
            let cancelled = DispatchSemaphore(value: 0)
            let after = round % 64
            canceller.async {
                while flags.emitted.load(ordering: .acquiring) < after {}
                task.cancel()
                cancelled.signal()
            }
            if cancelled.wait(timeout: .now() + roundLimit) == .timedOut { return stuck(round, "Task.cancel()") }
            if ended.wait(timeout: .now() + roundLimit) == .timedOut { return stuck(round, "the iterating task to end") }
            flags.stop.store(true, ordering: .releasing)
            if emitterEnded.wait(timeout: .now() + roundLimit) == .timedOut { return stuck(round, "the emitter") }
        }
        return Outcome(stuck: nil, rounds: rounds, received: received.value.load(ordering: .relaxed))
    }
}
