import Dispatch
import Synchronization
import Testing

@testable import NiceICE

/// The receive path's batching, driven directly: a `deferFlush` that the test runs by hand stands in
/// for "the end of the context thread's loop iteration".
@Suite("Datagram inbox: wake-ups per loop iteration", .timeLimit(.minutes(1)))
struct DatagramInboxTests {
    /// Holds the deferred flush jobs until the test runs them.
    final class Iteration: Sendable {
        let jobs = Locked<[@Sendable () -> Void]>([])
        let onThread = Atomic<Bool>(true)

        var deferFlush: @Sendable (@escaping @Sendable () -> Void) -> Bool {
            { job in
                guard self.onThread.load(ordering: .relaxed) else { return false }
                self.jobs.withLock { $0.append(job) }
                return true
            }
        }

        /// Ends the "loop iteration": runs what was deferred.
        func end() {
            let pending = jobs.withLock { j in
                defer { j = [] }
                return j
            }
            pending.forEach { $0() }
        }
    }

    static func deliver(_ inbox: DatagramInbox, _ range: Range<Int>) {
        for i in range {
            withUnsafeBytes(of: UInt32(i).bigEndian) { inbox.deliver($0, component: 1) }
        }
    }

    static func index(_ d: Datagram) -> Int { d.bytes.reduce(0) { $0 << 8 | Int($1) } }

    /// Runs `body` on `queue` and waits for it: everything queued there before has run.
    static func barrier(_ queue: DispatchQueue) async {
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in queue.async { k.resume() } }
    }

    /// Polls (1 ms steps, at most 5 s) until a stream reader of `inbox` is suspended waiting.
    static func readerWaits(_ inbox: DatagramInbox) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while inbox.waitingReaders == 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }

    @Test("The handler's batch hops once, at the end of the iteration; a burst of 64 hops at once")
    func handlerBatches() async {
        let iteration = Iteration()
        let inbox = DatagramInbox(limit: 1000, gate: DeliveryGate(), deferFlush: iteration.deferFlush)
        let got = Locked<[Int]>([])
        let queue = DispatchQueue(label: "inbox.test")
        inbox.handler = { d in got.withLock { $0.append(Self.index(d)) } }
        inbox.start(queue: queue)
        Self.deliver(inbox, 0..<10)
        await Self.barrier(queue)
        #expect(got.withLock { $0 }.isEmpty, "delivered before the iteration ended")
        #expect(iteration.jobs.withLock { $0.count } == 1, "one flush per iteration")
        iteration.end()
        await Self.barrier(queue)
        #expect(got.withLock { $0 } == Array(0..<10))

        // A burst: the 64th datagram schedules the hop without waiting for the iteration's end.
        Self.deliver(inbox, 10..<(10 + DatagramInbox.eagerBatch))
        await Self.barrier(queue)
        #expect(got.withLock { $0 } == Array(0..<(10 + DatagramInbox.eagerBatch)))
        iteration.end()

        // Off the producer's thread (deferFlush refuses): at once.
        iteration.onThread.store(false, ordering: .relaxed)
        Self.deliver(inbox, 100..<101)
        await Self.barrier(queue)
        #expect(got.withLock { $0.last } == 100)
        #expect(iteration.jobs.withLock { $0.isEmpty })
        inbox.close()
    }

    @Test("A waiting stream reader is woken at the end of the iteration with the whole burst; close still hands over what is buffered")
    func streamWakes() async {
        let iteration = Iteration()
        let inbox = DatagramInbox(limit: 1000, gate: DeliveryGate(), deferFlush: iteration.deferFlush)
        let stream = inbox.makeStream()
        let got = Locked<[Int]>([])
        let reader = Task {
            for await d in stream { got.withLock { $0.append(Self.index(d)) } }
        }
        #expect(await Self.readerWaits(inbox))
        Self.deliver(inbox, 0..<5)
        // A wake-up would have resumed the reader inside deliver: it still waits.
        #expect(inbox.waitingReaders == 1, "woken before the iteration ended")
        iteration.end()
        // The reader takes the first by wake-up and the other four without suspending.
        let deadline = ContinuousClock.now + .seconds(5)
        while got.withLock({ $0.count }) < 5 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(got.withLock { $0 } == Array(0..<5))

        // Buffered and not yet woken at close: the reader still gets them, then the stream ends.
        #expect(await Self.readerWaits(inbox))
        Self.deliver(inbox, 5..<8)
        #expect(inbox.waitingReaders == 1)
        inbox.close()
        await reader.value
        #expect(got.withLock { $0 } == Array(0..<8))
        iteration.end()
    }
}
