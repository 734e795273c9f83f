import Dispatch
import Foundation
import Logging
import Synchronization
import Testing

@testable import NiceICE

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Issue 8: the guarantees at the edges — set-up failures, handlers after close, closes during TURN
/// allocation, blocking work kept off the GLib thread, sends on every transport.
@Suite("Hardening", .timeLimit(.minutes(5)))
struct HardeningTests {
    // MARK: 5. set-up that fails is not silent

    /// Binds UDP 127.0.0.1:`port` (or any free port for 0); returns the fd and the port.
    static func occupyUDPPort() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// Waits (bounded) for the connection's first state change and returns it. Every change (also
    /// the later ones) is appended to `all`, if given; handlers run on `queue`.
    static func firstChange(
        of pc: IceTransport, queue: DispatchQueue = DispatchQueue(label: "test.setup"),
        recordingInto all: Locked<[IceStateChange]>? = nil, timeout: Duration = .seconds(10)
    ) async -> IceStateChange? {
        let (stream, continuation) = AsyncStream.makeStream(of: IceStateChange.self)
        pc.stateUpdateHandler = { change in
            all?.withLock { $0.append(change) }
            continuation.yield(change)
        }
        pc.start(queue: queue)
        return await withTaskGroup(of: IceStateChange?.self) { group in
            group.addTask {
                var it = stream.makeAsyncIterator()
                return await it.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                continuation.finish()
                return nil
            }
            let first = await group.next() ?? nil
            continuation.finish()
            group.cancelAll()
            return first
        }
    }

    @Test("No free port in portRange: failed (setupFailed) with a typed error naming portRange, delivered as an event")
    func noFreePort() async throws {
        let (fd, port) = try Self.occupyUDPPort()
        defer { close(fd) }
        var c = Loopback.configuration(.controlling)
        c.portRange = .init(port, port)
        let pc = try IceTransport(configuration: c)
        defer { pc.close() }
        let queue = DispatchQueue(label: "test.setup")
        let all = Locked<[IceStateChange]>([])
        let change = await Self.firstChange(of: pc, queue: queue, recordingInto: all)
        #expect(change == IceStateChange(state: .failed, reason: .setupFailed))
        #expect(pc.iceConnectionState == .failed)
        let error = try #require(pc.setupError)
        #expect(error.code == .agentFailure && error.field == "portRange", "\(error)")
        #expect(error.reason.contains("\(port)"), "\(error)")
        #expect(pc.iceGatheringState == .complete)
        #expect(throws: IceError.self) { try pc.restartIce() }
        #expect(throws: IceError.self) { try pc.send([1]) }
        // Nothing brings it back: after a round trip through the context thread and a marker on
        // the handler queue (a barrier), the one change is all there was.
        _ = await pc.stats()
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in queue.async { k.resume() } }
        #expect(pc.iceConnectionState == .failed)
        #expect(all.withLock { $0 } == [IceStateChange(state: .failed, reason: .setupFailed)])
    }

    @Test("An interface name without an address: failed (setupFailed), error names localAddresses")
    func missingInterface() async throws {
        var c = Loopback.configuration(.controlling)
        c.localAddresses = ["no-such-if0"]
        let pc = try IceTransport(configuration: c)
        defer { pc.close() }
        let change = await Self.firstChange(of: pc)
        #expect(change?.state == .failed && change?.reason == .setupFailed)
        let error = try #require(pc.setupError)
        #expect(error.code == .invalidConfiguration && error.field == "localAddresses", "\(error)")
    }

    @Test("A STUN host name that does not resolve: failed (setupFailed), error names the host; init did not wait")
    func unresolvableStunHost() async throws {
        let gate = DispatchSemaphore(value: 0)
        // A resolver that blocks until the test lets it go: init must return before it answers.
        let context = NiceContext(name: "t-unres", namespace: nil, resolver: HostResolver { _ in
            gate.wait()
            return nil
        })
        var c = Loopback.configuration(.controlling)
        c.iceServers = [IceServer(url: "stun:stun.invalid:3478")]
        let pc = try IceTransport(configuration: c, context: context)
        defer { pc.close() }
        #expect(pc.iceConnectionState == .new && pc.setupError == nil)
        gate.signal()
        let change = await Self.firstChange(of: pc)
        #expect(change?.state == .failed && change?.reason == .setupFailed)
        let error = try #require(pc.setupError)
        #expect(error.code == .invalidIceServer && error.field == "host" && error.reason.contains("stun.invalid"), "\(error)")
    }

    @Test("Reducer: setupFailed gives one failed(setupFailed) change; later inputs change nothing; close still closes")
    func reducerSetupFailed() {
        var m = IceStateMachine(streams: [1], components: 2)
        let out = m.handle(.setupFailed)
        #expect(out.changes == [IceStateChange(state: .failed, reason: .setupFailed)])
        #expect(m.state == .failed)
        let key = ComponentKey(stream: 1, component: 1)
        for input: IceStateMachine.Input in [.componentState(key, .connecting), .componentState(key, .ready), .restart,
                                            .localGatheringDone(stream: 1), .remoteEndOfCandidates(stream: 1), .setupFailed] {
            #expect(m.handle(input).changes.isEmpty, "\(input)")
            #expect(m.state == .failed)
        }
        #expect(m.handle(.close).changes.isEmpty)
        #expect(m.state == .closed)
    }

    // MARK: 3. handlers after close

    @Test("No handler starts (or still runs) after close() returns: 10,000 closes from a third thread against a busy queue")
    func noHandlerAfterClose() async throws {
        let context = NiceContext.default
        let busy = DispatchQueue(label: "test.busy")
        let violations = Atomic<Int>(0)
        let delivered = Atomic<Int>(0)
        let closer = DispatchQueue(label: "test.closer")
        for i in 0..<10_000 {
            let hub = EventHub(
                machine: IceStateMachine(streams: [1], components: 1), logger: Logger(label: "test"), context: context,
                gracePeriod: .seconds(20), receiveLimit: 64)
            let closeReturned = Atomic<Bool>(false)
            let running = Atomic<Int>(0)
            let handler: @Sendable () -> Void = {
                running.add(1, ordering: .sequentiallyConsistent)
                if closeReturned.load(ordering: .sequentiallyConsistent) { violations.add(1, ordering: .relaxed) }
                delivered.add(1, ordering: .relaxed)
                // Sometimes stay inside the handler so close() overlaps a running one.
                if i % 3 == 0 { for _ in 0..<(i % 200) { _ = running.load(ordering: .relaxed) } }
                running.subtract(1, ordering: .sequentiallyConsistent)
            }
            hub.state.withLock {
                $0.handlers.candidate = { _ in handler() }
                $0.handlers.gathering = { _ in handler() }
            }
            hub.inbox.handler = { _ in handler() }
            hub.start(queue: busy)
            // Keep the queue busy so deliveries pile up behind other work.
            busy.async { for _ in 0..<(i % 50) { _ = closeReturned.load(ordering: .relaxed) } }
            hub.emit(.candidate(nil))
            hub.emit(.gathering(i % 2 == 0 ? .gathering : .complete))
            [UInt8](repeating: 1, count: 16).withUnsafeBytes { hub.received($0, component: 1) }
            await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
                closer.async {
                    _ = hub.close()
                    closeReturned.store(true, ordering: .sequentiallyConsistent)
                    // close() waited for a handler running on the busy queue.
                    if running.load(ordering: .sequentiallyConsistent) != 0 { violations.add(1, ordering: .relaxed) }
                    k.resume()
                }
            }
        }
        // Drain the busy queue: every delivery queued before close has run (or been skipped).
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in busy.async { k.resume() } }
        #expect(violations.load(ordering: .relaxed) == 0)
        // The race was real: many deliveries happened before their close.
        #expect(delivered.load(ordering: .relaxed) > 0)
    }

    @Test("close() from inside a handler returns at once (no self-deadlock) and nothing runs after it")
    func closeInsideHandler() async throws {
        let pair = try Loopback()
        let after = Atomic<Int>(0)
        let closedInside = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        pair.left.pc.candidateHandler = { [pc = pair.left.pc] _ in
            if closedInside.load(ordering: .acquiring) { after.add(1, ordering: .relaxed) }
            pc.close()
            closedInside.store(true, ordering: .releasing)
            done.signal()
        }
        // Only the left side runs: its first host candidate closes it from inside the handler.
        pair.left.pc.start(queue: pair.left.queue)
        #expect(done.wait(timeout: .now() + 10) == .success)
        // Barrier: whatever libnice had produced before (more candidates) has been through the
        // context thread and any handler call for it would have run on the queue by now.
        await pair.left.settle()
        #expect(after.load(ordering: .relaxed) == 0)
        #expect(pair.left.pc.iceConnectionState == .closed)
        await pair.closeBoth()
    }

    // MARK: 6. nothing blocks the GLib thread

    @Test("50 connections keep consent and data flowing on one context while another connection's STUN host takes 5 s to resolve",
          .timeLimit(.minutes(2)))
    func slowResolverDoesNotStall() async throws {
        // The lookup of slow.stun.test blocks until the test lets it go (at least 5 s, at most 60 s).
        let release = DispatchSemaphore(value: 0)
        let resolving = Atomic<Bool>(false)
        let slow = HostResolver { host in
            if host == "slow.stun.test" {
                resolving.store(true, ordering: .sequentiallyConsistent)
                _ = release.wait(timeout: .now() + 60)
                resolving.store(false, ordering: .sequentiallyConsistent)
                return "127.0.0.1"
            }
            return LibNice.resolve(host)
        }
        let context = NiceContext(name: "t-slowdns", namespace: nil, resolver: slow)
        var pairs: [Loopback] = []
        for _ in 0..<25 {
            pairs.append(try Loopback(leftContext: context, rightContext: context))
        }
        // 25 pairs: 50 connections on the context.
        for p in pairs { try p.start() }
        for p in pairs {
            #expect(await p.left.waitForState(.completed, timeout: .seconds(20)))
            #expect(await p.right.waitForState(.completed, timeout: .seconds(20)))
        }
        var c = Loopback.configuration(.controlling)
        c.iceServers = [IceServer(url: "stun:slow.stun.test:3478")]
        let started = ContinuousClock.now
        let stalled = try IceTransport(configuration: c, context: context)
        // init returned while the lookup had not even necessarily begun; wait until it blocks.
        let lookupDeadline = ContinuousClock.now + .seconds(10)
        while !resolving.load(ordering: .sequentiallyConsistent) && ContinuousClock.now < lookupDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let lookupStarted = resolving.load(ordering: .sequentiallyConsistent)
        #expect(lookupStarted, "the lookup never started")
        // While the lookup blocks, every connection on the context keeps carrying data: one round
        // at once, one after 5 s (past libnice's consent checks), each datagram within 5 s.
        for round in 0..<2 {
            if round == 1 {
                let wait = started + .seconds(5) - ContinuousClock.now
                if wait > .zero { try await Task.sleep(for: wait) }
            }
            for (n, p) in pairs.enumerated() {
                let before = p.right.datagrams.withLock { $0.count }
                try p.left.pc.send([UInt8(n), UInt8(round)])
                #expect(await p.right.waitForDatagrams(before + 1, timeout: .seconds(5)), "pair \(n) stalled in round \(round)")
            }
            let stillResolving = resolving.load(ordering: .sequentiallyConsistent)
            #expect(stillResolving, "the lookup ended before round \(round) finished")
        }
        release.signal()
        #expect(stalled.iceConnectionState == .new)
        for p in pairs {
            #expect(p.left.pc.iceConnectionState == .completed && p.right.pc.iceConnectionState == .completed)
        }
        await stalled.closeAndWait()
        for p in pairs { await p.closeBoth() }
    }
}

/// Issue 8 item 4: `closeAndWait()` always finishes, even while a TURN allocation is under way.
@Suite(
    "Close during TURN allocation", .serialized, .timeLimit(.minutes(5)),
    .enabled(if: ProbeCoturn.binary != nil, "turnserver (Debian package coturn) is not installed; skipped"))
struct CloseDuringAllocationTests {
    /// Over UDP the TURN server's replies come through a proxy that delays them by 30 ms, so most
    /// closes land while an Allocate is in flight (on plain loopback the reply takes ~0.1 ms and the
    /// race is rarely hit). TCP goes to coturn directly. Port ranges lie below the ephemeral range
    /// (32768–60999), so no socket of a test running in parallel can be counted.
    @Test("200 closes in a row during TURN allocation each return with libnice done; no socket or thread left",
          arguments: [(IceServerURL.Transport.udp, UInt16(21_100)), (.tcp, UInt16(21_300))])
    func closesDuringAllocation(transport: IceServerURL.Transport, basePort: UInt16) async throws {
        let server = try ProbeCoturn()
        defer { server.stop() }
        let proxy = transport == .udp ? try DelayingUDPProxy(to: server.port, delay: .milliseconds(30)) : nil
        defer { proxy?.stop() }
        let turnPort = proxy?.port ?? server.port
        let ports = basePort...(basePort + 99)
        let name = "t-tc-\(transport.rawValue)"
        var context: NiceContext? = NiceContext(name: name)
        var c = Loopback.configuration(.controlling)
        c.portRange = .init(ports.lowerBound, ports.upperBound)
        c.iceServers = [IceServer(url: "turn:127.0.0.1:\(turnPort)?transport=\(transport.rawValue)", username: "alice", credential: "secret")]
        var relays = 0
        var timedOut = 0
        for i in 0..<200 {
            let pc = try IceTransport(configuration: c, context: try #require(context))
            let sawRelay = Atomic<Bool>(false)
            pc.candidateHandler = { if $0?.type == .relay { sawRelay.store(true, ordering: .relaxed) } }
            pc.start(queue: DispatchQueue(label: "t"))
            // Close at a different point of the allocation each time: before the agent exists,
            // while the Allocate is in flight, after the relay candidate.
            if i % 20 == 19 {
                let deadline = ContinuousClock.now + .seconds(3)
                while !sawRelay.load(ordering: .relaxed) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(1))
                }
            } else if i % 20 != 0 {
                try await Task.sleep(for: .microseconds((transport == .udp ? 4000 : 400) * (i % 20)))
            }
            await pc.closeAndWait()
            if !pc.hub.withValues({ $0.teardownDone }) { timedOut += 1 }
            if sawRelay.load(ordering: .relaxed) { relays += 1 }
        }
        #expect(timedOut == 0, "\(timedOut) closes returned by their 5 s bound instead of libnice finishing")
        // The sweep covered closes after an allocation too (not only before any socket existed).
        #expect(relays > 0, "no iteration got as far as a relay candidate")
        #expect(openSockets(localPorts: ports).isEmpty, "\(openSockets(localPorts: ports))")
        if transport == .tcp {
            #expect(openSockets(remotePort: server.port).isEmpty, "\(openSockets(remotePort: server.port))")
        }
        #expect(threadNames().contains(name), "the context's thread should be visible by name: \(threadNames())")
        context = nil
        let deadline = ContinuousClock.now + .seconds(10)
        while threadNames().contains(where: { $0.hasPrefix(name) }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!threadNames().contains(where: { $0.hasPrefix(name) }), "\(threadNames())")
    }

    /// The window of the 0.1.21 close hang read from agent.c: one allocation is done (its refresh is
    /// pruned with a deallocation that takes a round trip) while a second TURN server's Allocate is
    /// still in flight, so its reply lands during the close and adds a refresh after the prune pass.
    /// Two proxies answer 30 and 60 ms late; the close comes right after the first relay
    /// candidate. (Here libnice 0.1.21 finished such closes in about 2 s even without removing the
    /// stream first; the test pins that the close returns with libnice done, not by its bound.)
    @Test("Close between two TURN allocations (the 0.1.21 close hang) returns with libnice done, 5 times")
    func closeBetweenAllocations() async throws {
        let server = try ProbeCoturn()
        defer { server.stop() }
        let fast = try DelayingUDPProxy(to: server.port, delay: .milliseconds(30))
        let slow = try DelayingUDPProxy(to: server.port, delay: .milliseconds(60))
        defer {
            fast.stop()
            slow.stop()
        }
        var c = Loopback.configuration(.controlling)
        c.iceServers = [fast, slow].map {
            IceServer(url: "turn:127.0.0.1:\($0.port)?transport=udp", username: "alice", credential: "secret")
        }
        var durations: [Duration] = []
        for _ in 0..<5 {
            let pc = try IceTransport(configuration: c)
            let relays = Atomic<Int>(0)
            pc.candidateHandler = { if $0?.type == .relay { relays.add(1, ordering: .relaxed) } }
            pc.start(queue: DispatchQueue(label: "t"))
            let deadline = ContinuousClock.now + .seconds(3)
            while relays.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(relays.load(ordering: .relaxed) == 1, "the close must land between the two allocations")
            let start = ContinuousClock.now
            await pc.closeAndWait()
            durations.append(ContinuousClock.now - start)
            #expect(pc.hub.withValues { $0.teardownDone }, "close() returned by its bound; libnice never finished")
        }
        print("close between two TURN allocations: \(durations.map { "\($0.milliseconds) ms" })")
    }
}

@Suite("Send queue staleness", .timeLimit(.minutes(1)))
struct SendQueueStalenessTests {
    /// A datagram a sender appended while a drain ran carries a later time than the drain's
    /// `now`. It must be sent, not dropped as stale (the wrapping difference dropped it; seen as
    /// one lost datagram in three over ICE-TCP in a clean-clone CI run, test 5b).
    @Test("A datagram queued after the drain read the clock is not stale; one older than the limit is")
    func queuedAfterNow() {
        let now: UInt64 = 10_000_000_000
        #expect(!AgentCore.isStale(queued: now + 1, now: now))
        #expect(!AgentCore.isStale(queued: now, now: now))
        #expect(!AgentCore.isStale(queued: now - AgentCore.sendQueueMaxWait, now: now))
        #expect(AgentCore.isStale(queued: now - AgentCore.sendQueueMaxWait - 1, now: now))
    }
}

@Suite("Send queue bounds", .timeLimit(.minutes(1)))
struct SendQueueBoundTests {
    /// Issue 17 §6/§7: the TCP send queue is bounded in bytes, each datagram charged a fixed cost
    /// on top of its payload, not by a count of 4,096 datagrams however small.
    @Test("The ICE send queue is full by bytes: empty datagrams cost 64 B each, 1,200-byte ones their size plus 64 B; taking one makes room")
    func boundedInBytes() {
        var q = AgentCore.SendQueue()
        var empty = 0
        while !q.full {
            q.push([], component: 1, queued: 0)
            empty += 1
        }
        #expect(empty == AgentCore.sendQueueByteLimit / AgentCore.sendQueueItemCost)
        #expect(q.bytes == empty * AgentCore.sendQueueItemCost)

        var large = AgentCore.SendQueue()
        var n = 0
        while !large.full {
            large.push([UInt8](repeating: 7, count: 1200), component: 1, queued: 0)
            n += 1
        }
        let cost = 1200 + AgentCore.sendQueueItemCost
        #expect(n == (AgentCore.sendQueueByteLimit + cost - 1) / cost)
        let head = large.popFirst()
        #expect(head?.bytes.count == 1200)
        #expect(!large.full)
        if let head { large.pushFront(head) }
        #expect(large.full && large.bytes == n * cost)
        while large.popFirst() != nil {}
        #expect(large.bytes == 0 && large.items.isEmpty)
    }
}
