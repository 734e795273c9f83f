import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// Issue 17: what a remote peer may make us do (addresses, candidate counts across restarts),
/// receiving without `start(queue:)`, remote restarts, and the waits' error codes.
@Suite("Remote input, receive buffers, restarts (issue 17)", .timeLimit(.minutes(1)))
struct RemoteInputTests {
    /// Two connected connections driven through streams only: no handler, no `start(queue:)`.
    static func connectedStreamsOnly(
        _ ca: IceTransport.Configuration = Loopback.configuration(.controlling),
        _ cb: IceTransport.Configuration = Loopback.configuration(.controlled)
    ) async throws -> (IceTransport, IceTransport) {
        let a = try IceTransport(configuration: ca)
        let b = try IceTransport(configuration: cb)
        try a.setRemoteParameters(b.localParameters)
        try b.setRemoteParameters(a.localParameters)
        async let sentByA = AsyncApiTests.forward(a, to: b)
        async let sentByB = AsyncApiTests.forward(b, to: a)
        _ = try await (sentByA, sentByB)
        try await a.waitUntilConnected(timeout: .seconds(10))
        try await b.waitUntilConnected(timeout: .seconds(10))
        return (a, b)
    }

    static func expectCode(_ code: IceError.Code, field: String? = nil, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error, expected \(code)", sourceLocation: sourceLocation)
        } catch let error as IceError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            if let field { #expect(error.field == field, "\(error)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("not an IceError: \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: 1. Remote addresses

    @Test("Default policy on a loopback-bound agent: unspecified, multicast, broadcast and link-local candidates refused (addressNotAllowed, field address), never reach libnice")
    func refusedScopesOnLoopback() async throws {
        let pc = try IceTransport(configuration: Loopback.configuration(.controlled))
        defer { pc.close() }
        try pc.setRemoteParameters(IceParameters(usernameFragment: "abcd", password: "0123456789abcdefghijkl"))
        let refused = [
            "0.0.0.0", "0.1.2.3", "::", "224.0.0.251", "239.255.255.250", "255.255.255.255", "ff02::1",
            "169.254.169.254", "fe80::1", "FE80::abcd", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
        ]
        for (i, address) in refused.enumerated() {
            Self.expectCode(.addressNotAllowed, field: "address") {
                try pc.addIceCandidate("candidate:\(i) 1 UDP 2015363327 \(address) \(40_000 + i) typ host")
            }
        }
        // Allowed: loopback (the agent is on 127.0.0.1) and ordinary addresses.
        try pc.addIceCandidate("candidate:a 1 UDP 2015363327 127.0.0.1 40100 typ host")
        try pc.addIceCandidate("candidate:b 1 UDP 2015363327 ::ffff:127.0.0.2 40101 typ host")
        // stats() runs on the context thread after the adds: libnice holds only the allowed ones.
        let remote = await pc.stats().remoteCandidates.map(\.address)
        #expect(!remote.contains { refused.contains($0) || $0.hasPrefix("169.254") || $0.hasPrefix("fe80") }, "\(remote)")
        #expect(remote.contains("127.0.0.1"), "\(remote)")
    }

    @Test("An agent not bound to loopback refuses loopback candidates by default; .strict refuses them even on loopback; .allowAll accepts every scope")
    func loopbackRule() async throws {
        var unbound = IceTransport.Configuration(role: .controlled)  // every interface libnice finds
        unbound.localAddresses = []
        let pc = try IceTransport(configuration: unbound)
        defer { pc.close() }
        for address in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            Self.expectCode(.addressNotAllowed, field: "address") {
                try pc.addIceCandidate("candidate:1 1 UDP 2015363327 \(address) 40200 typ host")
            }
        }
        var strict = Loopback.configuration(.controlled)
        strict.remoteAddressPolicy = .strict
        let s = try IceTransport(configuration: strict)
        defer { s.close() }
        Self.expectCode(.addressNotAllowed, field: "address") {
            try s.addIceCandidate("candidate:1 1 UDP 2015363327 127.0.0.1 40201 typ host")
        }
        var open = Loopback.configuration(.controlled)
        open.remoteAddressPolicy = .allowAll
        let o = try IceTransport(configuration: open)
        defer { o.close() }
        for (i, address) in ["127.0.0.1", "0.0.0.0", "169.254.169.254", "224.0.0.1", "fe80::1"].enumerated() {
            try o.addIceCandidate("candidate:\(i) 1 UDP 2015363327 \(address) \(40_300 + i) typ host")
        }
        var linkLocal = Loopback.configuration(.controlled)
        linkLocal.remoteAddressPolicy = RemoteAddressPolicyCheck.linkLocalOnly
        let l = try IceTransport(configuration: linkLocal)
        defer { l.close() }
        try l.addIceCandidate("candidate:1 1 UDP 2015363327 169.254.1.1 40400 typ host")
        Self.expectCode(.addressNotAllowed, field: "address") {
            try l.addIceCandidate("candidate:2 1 UDP 2015363327 127.0.0.1 40401 typ host")
        }
    }

    // MARK: 1. Candidate limit across restarts and peer-reflexive candidates

    @Test("Candidate limit: restartIce() resets the count at once, and a late reset on the context thread cannot wipe the new generation's count")
    func limitAcrossLocalRestart() async throws {
        var c = Loopback.configuration(.controlled)
        c.maximumRemoteCandidates = 3
        let pc = try IceTransport(configuration: c)
        defer { pc.close() }
        try pc.setRemoteParameters(IceParameters(usernameFragment: "gen1", password: "0123456789abcdefghijkl"))
        for i in 0..<3 { try pc.addIceCandidate("candidate:\(i) 1 UDP 2015363327 127.0.0.1 \(41_000 + i) typ host") }
        Self.expectCode(.tooManyCandidates, field: "component") {
            try pc.addIceCandidate("candidate:9 1 UDP 2015363327 127.0.0.1 41009 typ host")
        }
        _ = try pc.restartIce()
        try pc.setRemoteParameters(IceParameters(usernameFragment: "gen2", password: "0123456789abcdefghijkl"))
        // The new generation has its full allowance at once.
        for i in 0..<3 { try pc.addIceCandidate("candidate:\(i) 1 UDP 2015363327 127.0.0.1 \(41_100 + i) typ host") }
        // After the restart reached the agent, the count still holds.
        _ = await pc.stats()
        Self.expectCode(.tooManyCandidates, field: "component") {
            try pc.addIceCandidate("candidate:9 1 UDP 2015363327 127.0.0.1 41109 typ host")
        }
        #expect(await pc.stats().remoteCandidates.count <= 3)
    }

    @Test("Candidate limit: candidates tagged for the next generation count, and a remote restart carries them over instead of resetting to zero")
    func limitAcrossRemoteRestart() async throws {
        var c = Loopback.configuration(.controlled)
        c.maximumRemoteCandidates = 3
        let pc = try IceTransport(configuration: c)
        defer { pc.close() }
        let gen1 = IceParameters(usernameFragment: "gen1", password: "0123456789abcdefghijkl")
        let gen2 = IceParameters(usernameFragment: "gen2", password: "abcdefghijkl0123456789")
        try pc.setRemoteParameters(gen1)
        // Early candidates of the peer's next generation (a browser tags them with their ufrag).
        for i in 0..<3 { try pc.addIceCandidate("candidate:\(i) 1 UDP 2015363327 127.0.0.1 \(42_000 + i) typ host ufrag gen2") }
        Self.expectCode(.tooManyCandidates) {
            try pc.addIceCandidate("candidate:8 1 UDP 2015363327 127.0.0.1 42008 typ host ufrag gen2")
        }
        try pc.setRemoteParameters(gen2)  // remote restart: the three waiting ones join gen2
        Self.expectCode(.tooManyCandidates) {
            try pc.addIceCandidate("candidate:9 1 UDP 2015363327 127.0.0.1 42009 typ host")
        }
        // Candidates of the earlier generation are dropped without an error and not counted.
        try pc.addIceCandidate("candidate:7 1 UDP 2015363327 127.0.0.1 42007 typ host ufrag gen1")
        let remote = await pc.stats().remoteCandidates
        #expect(remote.count == 3, "\(remote.map(\.candidateLine))")
        // The restart has reached the agent (stats ran after it): the count still holds.
        Self.expectCode(.tooManyCandidates) {
            try pc.addIceCandidate("candidate:6 1 UDP 2015363327 127.0.0.1 42006 typ host")
        }
    }

    @Test("Peer-reflexive candidates libnice learnt from checks count against maximumRemoteCandidates")
    func peerReflexiveCounted() async throws {
        var cb = Loopback.configuration(.controlled)
        cb.maximumRemoteCandidates = 1
        let a = try IceTransport(configuration: Loopback.configuration(.controlling))
        let b = try IceTransport(configuration: cb)
        defer {
            a.close()
            b.close()
        }
        try a.setRemoteParameters(b.localParameters)
        try b.setRemoteParameters(a.localParameters)
        // Only b's candidates reach a: b learns a's address from a's checks (peer-reflexive).
        _ = try await AsyncApiTests.forward(b, to: a)
        try await b.waitUntilConnected(timeout: .seconds(10))
        let learnt = await b.stats().remoteCandidates
        #expect(learnt.contains { $0.type == .prflx }, "\(learnt.map(\.candidateLine))")
        // The slot is taken by the learnt candidate: one more address is refused...
        Self.expectCode(.tooManyCandidates) {
            try b.addIceCandidate("candidate:9 1 UDP 2015363327 127.0.0.1 43009 typ host")
        }
        // ...while a's real candidate, at the learnt address, is not counted twice.
        let aCandidates = await a.stats().localCandidates
        for candidate in aCandidates { try b.addIceCandidate(candidate) }
    }

    // MARK: 2. Receiving without start(queue:)

    @Test("Streams only, no start(queue:): the stream gets every datagram, receiveDropped stays 0, nothing is kept for a handler")
    func streamsOnlyReceive() async throws {
        var cb = Loopback.configuration(.controlled)
        cb.receiveStreamBufferLimit = 256  // below the number sent: a kept batch would overflow
        let (a, b) = try await Self.connectedStreamsOnly(Loopback.configuration(.controlling), cb)
        defer {
            a.close()
            b.close()
        }
        var received = b.receivedDatagrams().makeAsyncIterator()
        let total = 1000
        var got = 0
        for burst in 0..<(total / 100) {
            for i in 0..<100 { try a.send([UInt8(truncatingIfNeeded: burst), UInt8(truncatingIfNeeded: i)] + [UInt8](repeating: 7, count: 100)) }
            for _ in 0..<100 {
                let d = try #require(await received.next())
                #expect(d.bytes.count == 102)
                got += 1
            }
        }
        #expect(got == total)
        let counters = b.counters
        #expect(counters.datagramsReceived == UInt64(total))
        #expect(counters.receiveDropped == 0)
        let waiting = b.hub.inbox.waitingForHandler
        #expect(waiting.count == 0 && waiting.bytes == 0)
    }

    @Test("Handler set, no start yet: the batch is bounded in bytes with a per-datagram charge (1-byte datagrams are not free), then delivered on start")
    func handlerBatchByteBound() async throws {
        var cb = Loopback.configuration(.controlled)
        cb.receiveBufferByteLimit = 10_000
        let (a, b) = try await Self.connectedStreamsOnly(Loopback.configuration(.controlling), cb)
        defer {
            a.close()
            b.close()
        }
        let handled = Atomic<Int>(0)
        let (done, doneK) = AsyncStream.makeStream(of: Int.self)
        b.receiveHandler = { _ in
            let n = handled.add(1, ordering: .relaxed).newValue
            doneK.yield(n)
        }
        var received = b.receivedDatagrams().makeAsyncIterator()
        let total = 200
        for i in 0..<total {
            try a.send([UInt8(truncatingIfNeeded: i)])
            _ = try #require(await received.next())  // one at a time: the stream never overflows
        }
        let fit = 10_000 / DatagramInbox.cost(1)  // 153
        let waiting = b.hub.inbox.waitingForHandler
        #expect(waiting.count == fit && waiting.bytes <= 10_000, "\(waiting)")
        #expect(b.counters.receiveDropped == UInt64(total - fit))
        b.start(queue: DispatchQueue(label: "t.batch"))
        for await n in done where n == fit { break }
        #expect(b.hub.inbox.waitingForHandler.count == 0)
    }

    @Test("Without start(queue:) the event list stays bounded (300 restarts produce about 1,200 events)")
    func pendingEventsBounded() async throws {
        let pc = try IceTransport(configuration: Loopback.configuration(.controlling))
        defer { pc.close() }
        for await state in pc.gatheringStateChanges() where state == .complete { break }
        for _ in 0..<300 { _ = try pc.restartIce() }
        _ = await pc.stats()  // every restart ran on the context thread
        let pending = pc.hub.state.withLock { $0.waitingCount }
        #expect(pending <= EventHub.pendingLimit, "\(pending)")
        #expect(pc.hub.state.withLock { $0.droppedEvents } > 0)
    }

    // MARK: 3. Remote restart

    @Test("Remote restart: localParameters changes before setRemoteParameters returns, and the agent then uses exactly those credentials")
    func remoteRestartLocalParameters() async throws {
        let pair = try Loopback()
        try pair.start()
        try await pair.left.pc.waitUntilConnected(timeout: .seconds(10))
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let rightBefore = pair.right.pc.localParameters
        let l = try pair.left.pc.restartIce()
        try pair.left.deliverParameters(to: pair.right)  // the offer with the new credentials
        #expect(pair.right.pc.remoteParameters == l)
        let rightAfter = pair.right.pc.localParameters  // what an answer built now carries
        #expect(rightAfter != rightBefore)
        try pair.right.deliverParameters(to: pair.left)  // the answer
        #expect(await pair.left.waitFor { $0.count == 5 && $0.last == .completed }, "\(pair.left.timeline)")
        #expect(await pair.right.waitFor { $0.count == 5 && $0.last == .completed }, "\(pair.right.timeline)")
        #expect(pair.right.pc.localParameters == rightAfter)
        #expect(pair.left.pc.remoteParameters == rightAfter)
        try pair.left.pc.send([1])
        #expect(await pair.right.waitForDatagrams(1))
        await pair.closeBoth()
    }

    // MARK: 4. Waits

    @Test("waitUntilConnected: a task cancelled before the call gets cancelled at once; a zero timeout sees a connection already up (100 times)")
    func waitCodes() async throws {
        let lonely = try IceTransport(configuration: Loopback.configuration(.controlling))
        defer { lonely.close() }
        let cancelledFirst = Task { () -> IceError? in
            withUnsafeCurrentTask { $0?.cancel() }
            do throws(IceError) {
                try await lonely.waitUntilConnected(timeout: .seconds(30))
                return nil
            } catch { return error }
        }
        #expect(await cancelledFirst.value?.code == .cancelled)
        let expired = Task { () -> IceError? in
            do throws(IceError) {
                try await lonely.waitUntilConnected(timeout: .zero)
                return nil
            } catch { return error }
        }
        #expect(await expired.value?.code == .timedOut)

        let pair = try Loopback()
        try pair.start()
        try await pair.left.pc.waitUntilConnected(timeout: .seconds(10))
        for _ in 0..<100 { try await pair.left.pc.waitUntilConnected(timeout: .zero) }
        await pair.closeBoth()
    }
}

enum RemoteAddressPolicyCheck {
    static let linkLocalOnly = IceTransport.RemoteAddressPolicy(allowedScopes: [.linkLocal])
}
