import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// What one side of a test saw, in delivery order.
enum Seen: Sendable, Equatable {
    case state(IceConnectionState, IceStateChangeReason?)
    case pair(CandidatePair)
    case candidate(IceCandidate?)
}

/// One `IceTransport` under test with a recorder of everything its handlers delivered.
final class Side: Sendable {
    let name: String
    let pc: IceTransport
    let seen = Locked<[Seen]>([])
    let datagrams = Locked<[Datagram]>([])
    let handlerThreadViolations = Atomic<Int>(0)
    let queue: DispatchQueue
    let start = ContinuousClock.now
    /// This side's outgoing signalling (parameters before the candidates that belong to them).
    let signalling = OrderedSignalling()

    init(_ name: String, _ configuration: IceTransport.Configuration, context: NiceContext = .default) throws {
        self.name = name
        pc = try IceTransport(configuration: configuration, context: context)
        queue = DispatchQueue(label: "test.\(name)")
    }

    /// The states reported so far.
    var states: [IceConnectionState] {
        seen.withLock { $0.compactMap { if case .state(let s, _) = $0 { s } else { nil } } }
    }

    var reasons: [IceStateChangeReason?] {
        seen.withLock { $0.compactMap { if case .state(_, let r) = $0 { r } else { nil } } }
    }

    var localCandidates: [IceCandidate] {
        seen.withLock { $0.compactMap { if case .candidate(let c?) = $0 { c } else { nil } } }
    }

    /// A printable timeline for test logs.
    var timeline: String {
        "\(name): new → " + seen.withLock { $0.compactMap { if case .state(let s, let r) = $0 { "\(s)(\(r.map { "\($0)" } ?? "-"))" } else { nil } } }.joined(separator: " → ")
    }

    /// Sends a candidate to the peer now, or holds it until the peer has our current parameters.
    func post(_ candidate: IceCandidate?, to peer: Side) {
        signalling.post(candidate, from: pc, to: peer.pc)
    }

    /// Gives the peer our current parameters, then whatever was held back.
    func deliverParameters(to peer: Side, _ transform: @Sendable (IceParameters) -> IceParameters = { $0 }) throws {
        try signalling.deliverParameters(from: pc, to: peer.pc, transform)
    }

    /// W3C `close()` without waiting (`pc.close()` works in async code too; kept for older tests).
    func closeNow() { pc.close() }

    func record(_ s: Seen) { seen.withLock { $0.append(s) } }

    /// Records, as issues of the current test, the candidates the peer refused since the last call
    /// (see ``OrderedSignalling``). The waits and `Loopback.closeBoth()` call it.
    func reportSignallingErrors(sourceLocation: SourceLocation = #_sourceLocation) {
        signalling.reportErrors("\(name) → peer", sourceLocation: sourceLocation)
    }

    /// Polls (every 10 ms, bounded by `timeout` and by cancellation) until `condition` holds, then
    /// reports any signalling errors.
    private func poll(_ timeout: Duration, _ sourceLocation: SourceLocation, _ condition: () -> Bool) async -> Bool {
        defer { reportSignallingErrors(sourceLocation: sourceLocation) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))  // only throws on cancellation, checked above
        }
        return condition()
    }

    /// Waits until `predicate` holds for the recorded states.
    @discardableResult
    func waitFor(
        _ timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
        _ predicate: @Sendable ([IceConnectionState]) -> Bool
    ) async -> Bool {
        await poll(timeout, sourceLocation) { predicate(states) }
    }

    func waitForState(
        _ state: IceConnectionState, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Bool {
        await waitFor(timeout, sourceLocation: sourceLocation) { $0.last == state }
    }

    func waitForDatagrams(
        _ count: Int, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Bool {
        await poll(timeout, sourceLocation) { datagrams.withLock { $0.count } >= count }
    }

    /// A barrier for "nothing happened": a round trip through the connection's context thread (so
    /// whatever libnice had queued there before is processed), then a marker posted onto the queue
    /// the handlers run on, after every event that processing produced. When it returns, any
    /// handler call caused by what happened before it has run.
    func settle() async {
        _ = await pc.stats()
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in queue.async { k.resume() } }
    }

    /// Waits until libnice says every component is `ready` (its checks are over: what would make
    /// the connection `completed` has happened, end-of-candidates aside).
    func waitForComponentsReady(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            let states = await pc.stats().componentStates
            if !states.isEmpty && states.values.allSatisfy({ $0 == "ready" }) { return true }
            try? await Task.sleep(for: .milliseconds(10))  // only throws on cancellation, checked above
        }
        return false
    }

    /// Waits until the candidate handler was given end-of-candidates (local gathering is done).
    func waitForEndOfCandidates(timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
        await poll(timeout, sourceLocation) { seen.withLock { $0.contains(.candidate(nil)) } }
    }
}

/// How the test's signalling channel behaves.
struct Signalling: Sendable {
    /// Forward local candidates to the peer.
    var candidates = true
    /// Forward end-of-candidates.
    var endOfCandidates = true
    /// Forward only candidates passing this filter.
    var filter: @Sendable (IceCandidate) -> Bool = { _ in true }
}

/// Two connections on 127.0.0.1 wired through the public API only.
struct Loopback {
    let left: Side
    let right: Side

    static func configuration(_ role: IceTransport.Role, grace: Duration = .seconds(2), components: Int = 1)
        -> IceTransport.Configuration
    {
        var c = IceTransport.Configuration(role: role, localAddresses: ["127.0.0.1"], disconnectedGracePeriod: grace)
        c.componentCount = components
        return c
    }

    init(
        left l: IceTransport.Configuration = Loopback.configuration(.controlling),
        right r: IceTransport.Configuration = Loopback.configuration(.controlled),
        leftContext: NiceContext = .default, rightContext: NiceContext = .default,
        leftToRight: Signalling = Signalling(), rightToLeft: Signalling = Signalling()
    ) throws {
        left = try Side("L", l, context: leftContext)
        right = try Side("R", r, context: rightContext)
        Self.wire(left, to: right, leftToRight)
        Self.wire(right, to: left, rightToLeft)
    }

    private static func wire(_ me: Side, to peer: Side, _ s: Signalling) {
        let queueKey = DispatchSpecificKey<String>()
        me.queue.setSpecific(key: queueKey, value: me.name)
        @Sendable func checkQueue() {
            if DispatchQueue.getSpecific(key: queueKey) != me.name { me.handlerThreadViolations.add(1, ordering: .relaxed) }
        }
        me.pc.stateUpdateHandler = { change in
            checkQueue()
            me.record(.state(change.state, change.reason))
        }
        me.pc.selectedPairHandler = { pair in
            checkQueue()
            me.record(.pair(pair))
        }
        me.pc.candidateHandler = { candidate in
            checkQueue()
            me.record(.candidate(candidate))
            if let candidate {
                if s.candidates && s.filter(candidate) { me.post(candidate, to: peer) }
            } else if s.endOfCandidates {
                me.post(nil, to: peer)
            }
        }
        me.pc.receiveHandler = { datagram in
            checkQueue()
            me.datagrams.withLock { $0.append(datagram) }
        }
    }

    /// Starts both and exchanges parameters (optionally altered).
    func start(
        leftGetsRight: (@Sendable (IceParameters) -> IceParameters)? = { $0 },
        rightGetsLeft: (@Sendable (IceParameters) -> IceParameters)? = { $0 }
    ) throws {
        left.pc.start(queue: left.queue)
        right.pc.start(queue: right.queue)
        if let f = leftGetsRight { try right.deliverParameters(to: left, f) }
        if let f = rightGetsLeft { try left.deliverParameters(to: right, f) }
    }

    func closeBoth(sourceLocation: SourceLocation = #_sourceLocation) async {
        await left.pc.closeAndWait()
        await right.pc.closeAndWait()
        left.reportSignallingErrors(sourceLocation: sourceLocation)
        right.reportSignallingErrors(sourceLocation: sourceLocation)
    }
}

/// A password of the right length that is not the peer's.
@Sendable func wrongPassword(_ p: IceParameters) -> IceParameters {
    IceParameters(usernameFragment: p.usernameFragment, password: String(p.password.reversed()) == p.password ? "x" + p.password.dropFirst() : String(p.password.reversed()))
}

extension NiceContext {
    /// Runs `body` on the context's thread and returns its result (tests only).
    func runOnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (k: CheckedContinuation<T, Never>) in
            execute { k.resume(returning: body()) }
        }
    }
}
