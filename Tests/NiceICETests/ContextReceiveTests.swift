import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// `contextReceiveHandler`: datagrams handed over on the context thread with borrowed bytes, over
/// real libnice agents on loopback.
@Suite("Context-thread receive", .timeLimit(.minutes(1)))
struct ContextReceiveTests {
    /// What a context handler saw: each datagram's index (its first 4 bytes), whether its bytes
    /// matched ``DataPathTests/payload(_:size:)``, and calls made off the context thread.
    final class Recorder: Sendable {
        let indices = Locked<[Int]>([])
        let corrupt = Atomic<Int>(0)
        let offContext = Atomic<Int>(0)

        func record(_ bytes: RawSpan, context: NiceContext) {
            if !context.isCurrent { offContext.add(1, ordering: .relaxed) }
            let copy = bytes.withUnsafeBytes { [UInt8]($0) }
            guard copy.count >= 4 else {
                corrupt.add(1, ordering: .relaxed)
                return
            }
            let i = Int(copy[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            if copy != DataPathTests.payload(i, size: copy.count) { corrupt.add(1, ordering: .relaxed) }
            indices.withLock { $0.append(i) }
        }

        var count: Int { indices.withLock { $0.count } }

        /// Polls (20 ms steps) until `n` datagrams arrived or `timeout` passed.
        func waitFor(_ n: Int, timeout: Duration = .seconds(10)) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while count < n {
                guard ContinuousClock.now < deadline else { return false }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return true
        }
    }

    /// Sends datagrams `range` from `from`, at most `window` ahead of what `received()` reports.
    static func send(_ range: Range<Int>, from: IceTransport, window: Int = 64, received: @Sendable () -> Int) async throws {
        for i in range {
            try from.send(DataPathTests.payload(i))
            let due = i + 1 - range.lowerBound - window
            if due > 0 && i % 16 == 15 {
                let deadline = ContinuousClock.now + .seconds(5)
                while received() < due {
                    guard ContinuousClock.now < deadline else {
                        Issue.record("only \(received()) of the first \(due) datagrams arrived within 5 s")
                        return
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
        }
    }

    @Test("Every datagram arrives on the context thread, in order and intact; receiveHandler gets none until it is unset")
    func deliversOnContextThread() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let recorder = Recorder()
        let context = pair.right.pc.context
        pair.right.pc.contextReceiveHandler = { bytes, component in
            #expect(component == 1)
            recorder.record(bytes, context: context)
        }
        #expect(pair.right.pc.contextReceiveHandler != nil)
        let n = 500
        try await Self.send(0..<n, from: pair.left.pc) { recorder.count }
        #expect(await recorder.waitFor(n))
        #expect(recorder.indices.withLock { $0 } == Array(0..<n), "lost or reordered")
        let corrupt = recorder.corrupt.load(ordering: .relaxed), offContext = recorder.offContext.load(ordering: .relaxed)
        #expect(corrupt == 0)
        #expect(offContext == 0, "called off the context thread")
        #expect(pair.right.pc.counters.datagramsReceived == UInt64(n))
        // Unset: the queued handler gets what follows, the context handler nothing more.
        pair.right.pc.contextReceiveHandler = nil
        try await Self.send(n..<(n + 20), from: pair.left.pc) { pair.right.datagrams.withLock { $0.count } }
        #expect(await pair.right.waitForDatagrams(20))
        await pair.right.settle()
        #expect(pair.right.datagrams.withLock { $0.map { Int($0.bytes[3]) | Int($0.bytes[2]) << 8 } } == Array(n..<(n + 20)))
        #expect(recorder.count == n)
        await pair.closeBoth()
    }

    @Test("The handler may send from inside: an echo of 300 datagrams, no copy, no deadlock")
    func echoFromInside() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let failures = Atomic<Int>(0)
        let right = pair.right.pc
        right.contextReceiveHandler = { [weak right] bytes, component in
            let sent = bytes.withUnsafeBytes { buffer in
                Result { () throws(IceError) in try right?.send(buffer, component: component) }
            }
            if case .failure = sent { failures.add(1, ordering: .relaxed) }
        }
        let n = 300
        try await Self.send(0..<n, from: pair.left.pc) { pair.left.datagrams.withLock { $0.count } }
        #expect(await pair.left.waitForDatagrams(n))
        let echoed = pair.left.datagrams.withLock { $0.map(\.bytes) }
        #expect(echoed == (0..<n).map { DataPathTests.payload($0) })
        let failed = failures.load(ordering: .relaxed)
        #expect(failed == 0)
        await pair.closeBoth()
    }

    @Test("After close() returns no call starts: a running call (another thread) has finished; the handler may close its own connection")
    func closeWaitsAndStops() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let inside = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)
        let entered = DispatchSemaphore(value: 0)
        pair.right.pc.contextReceiveHandler = { _, _ in
            inside.store(true, ordering: .sequentiallyConsistent)
            if calls.add(1, ordering: .sequentiallyConsistent).newValue == 1 {
                entered.signal()
                usleep(200_000)  // holds the first call, so that close() finds it running
            }
            inside.store(false, ordering: .sequentiallyConsistent)
        }
        try pair.left.pc.send(DataPathTests.payload(0))
        let (runningAtClose, runningAfterClose) = await Task.detached {
            guard entered.wait(timeout: .now() + 5) == .success else { return (false, false) }
            let running = inside.load(ordering: .sequentiallyConsistent)
            pair.right.pc.close()
            return (running, inside.load(ordering: .sequentiallyConsistent))
        }.value
        #expect(runningAtClose, "the first call was not running when close() was called")
        #expect(!runningAfterClose, "a call was still running when close() returned")
        let before = calls.load(ordering: .sequentiallyConsistent)
        for i in 1...20 { try? pair.left.pc.send(DataPathTests.payload(i)) }
        // A round trip through the left agent's context thread: what it sent has left.
        _ = await pair.left.pc.stats()
        _ = await pair.right.pc.context.runOnThread { 0 }
        let after = calls.load(ordering: .sequentiallyConsistent)
        #expect(after == before, "a call started after close()")
        #expect(pair.right.pc.contextReceiveHandler == nil, "close() keeps the handler (and what it captures)")

        // The handler closes its own connection on its first datagram.
        let other = try Loopback()
        try other.start()
        #expect(await other.left.waitForState(.completed))
        #expect(await other.right.waitForState(.completed))
        let selfCalls = Atomic<Int>(0)
        let right = other.right.pc
        right.contextReceiveHandler = { [weak right] _, _ in
            selfCalls.add(1, ordering: .relaxed)
            right?.close()
        }
        for i in 0..<20 { try other.left.pc.send(DataPathTests.payload(i)) }
        let deadline = ContinuousClock.now + .seconds(5)
        while right.iceConnectionState != .closed && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(right.iceConnectionState == .closed, "the handler's close() did not close")
        _ = await other.left.pc.stats()
        _ = await right.context.runOnThread { 0 }
        let selfCallCount = selfCalls.load(ordering: .relaxed)
        #expect(selfCallCount == 1)
        await other.closeBoth()
        await pair.closeBoth()
    }

    @Test("A connection whose context handler captures it strongly is freed once closed")
    func freedAfterClose() async throws {
        weak var weakPC: IceTransport?
        weak var weakCore: AgentCore?
        do {
            let pair = try Loopback()
            try pair.start()
            #expect(await pair.left.waitForState(.completed))
            #expect(await pair.right.waitForState(.completed))
            let pc = pair.left.pc
            // A strong cycle: transport → handler → transport. close() breaks it.
            pc.contextReceiveHandler = { bytes, component in
                bytes.withUnsafeBytes { try? pc.send($0, component: component) }
            }
            try pair.right.pc.send(DataPathTests.payload(0))
            #expect(await pair.right.waitForDatagrams(1), "the echo did not come back")
            weakPC = pc
            weakCore = pc.core
            pair.right.pc.candidateHandler = nil
            pair.left.pc.stateUpdateHandler = nil
            pair.left.pc.candidateHandler = nil
            pair.left.pc.receiveHandler = nil
            pair.left.pc.selectedPairHandler = nil
            await pair.closeBoth()
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while (weakPC != nil || weakCore != nil) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(weakPC == nil, "IceTransport still alive")
        #expect(weakCore == nil, "AgentCore still alive")
    }
}
