import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// Open file descriptors and threads of this process, from /proc.
func processResources() -> (fds: Int, threads: Int) {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let threads = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }
        .flatMap { Int($0.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) } ?? -1
    return (fds, threads)
}

@Suite("Lifetime and threading", .serialized, .timeLimit(.minutes(2)))
struct LifetimeTests {
    @Test("1,000 concurrent close() calls on one connection: closed once, no event, streams finish")
    func concurrentClose() async throws {
        let pair = try Loopback()
        let states = pair.left.pc.stateChanges()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        let before = pair.left.seen.withLock { $0.count }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<1000 {
                group.addTask {
                    if i % 2 == 0 { pair.left.closeNow() } else { await pair.left.pc.closeAndWait() }
                }
            }
        }
        #expect(pair.left.pc.iceConnectionState == .closed)
        try await Task.sleep(for: .milliseconds(200))
        #expect(pair.left.seen.withLock { $0.count } == before)
        var streamed: [IceConnectionState] = []
        for await c in states { streamed.append(c.state) }  // finishes because of close
        // The stream starts with the state at the time it was made (`new`), and close adds nothing.
        #expect(streamed == [.new, .checking, .connected, .completed])
        await pair.right.pc.closeAndWait()
    }

    @Test("close() from inside a handler: no further handler runs")
    func closeInsideHandler() async throws {
        let pair = try Loopback()
        let calls = Atomic<Int>(0)
        let left = pair.left
        pair.left.pc.stateUpdateHandler = { change in
            calls.add(1, ordering: .relaxed)
            if change.state == .connected { left.pc.close() }
        }
        try pair.start()
        #expect(await pair.right.waitForState(.completed))
        try await Task.sleep(for: .milliseconds(300))
        #expect(pair.left.pc.iceConnectionState == .closed)
        // checking, connected — and nothing after close (completed would have been next).
        #expect(calls.load(ordering: .relaxed) == 2)
        await pair.right.pc.closeAndWait()
    }

    @Test("Dropping a connected PeerConnection without close() frees it, and its peer sees the loss")
    func dropWithoutClose() async throws {
        weak var weakPC: PeerConnection?
        weak var weakCore: AgentCore?
        let right: Side
        do {
            let pair = try Loopback()
            try pair.start()
            #expect(await pair.left.waitForState(.completed))
            #expect(await pair.right.waitForState(.completed))
            right = pair.right
            weakPC = pair.left.pc
            weakCore = pair.left.pc.core
            // The test's signalling handlers reference the other side: unhook them so only the
            // test's `weak` references remain.
            pair.right.pc.candidateHandler = nil
            pair.left.pc.stateUpdateHandler = nil
            pair.left.pc.candidateHandler = nil
            pair.left.pc.receiveHandler = nil
            pair.left.pc.selectedPairHandler = nil
        }
        // Let queued deliveries (which hold the Side) drain.
        let deadline = ContinuousClock.now + .seconds(5)
        while (weakPC != nil || weakCore != nil) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(weakPC == nil, "PeerConnection still alive")
        #expect(weakCore == nil, "AgentCore still alive after teardown")
        #expect(await right.waitForState(.disconnected, timeout: .seconds(15)), "\(right.timeline)")
        await right.pc.closeAndWait()
    }

    @Test("200 connections created and closed leave no thread or file descriptor behind")
    func noLeaks() async throws {
        // Warm up the default context and Dispatch's pools.
        for _ in 0..<5 { await (try PeerConnection(configuration: Loopback.configuration(.controlling))).closeAndWait() }
        try await Task.sleep(for: .milliseconds(300))
        let before = processResources()
        for i in 0..<200 {
            let pc = try PeerConnection(configuration: Loopback.configuration(i % 2 == 0 ? .controlling : .controlled))
            pc.start(queue: .global())
            if i % 2 == 0 { await pc.closeAndWait() } else { pc.close() }
        }
        // Non-awaited closes finish on the context thread shortly.
        try await Task.sleep(for: .milliseconds(500))
        let after = processResources()
        #expect(after.fds <= before.fds, "fds \(before.fds) -> \(after.fds)")
        // Dispatch's worker pool may grow or shrink by a few threads; NiceICE itself adds none.
        #expect(after.threads <= before.threads + 2, "threads \(before.threads) -> \(after.threads)")
    }

    @Test("A private NiceContext's thread ends when the context and its connections are released")
    func contextThreadEnds() async throws {
        let before = processResources()
        do {
            let context = NiceContext(name: "short-lived")
            let pc = try PeerConnection(configuration: Loopback.configuration(.controlling), context: context)
            #expect(processResources().threads >= before.threads + 1)
            await pc.closeAndWait()
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while processResources().threads > before.threads && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(processResources().threads <= before.threads)
    }
}
