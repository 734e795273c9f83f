import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

// A two-peer harness for the network tests, generalized from Support/Loopback.swift: each peer
// has its own NiceContext (so its own network namespace), signalling goes through the public API
// only, and one scenario log records every peer's events with milliseconds since the scenario
// started, for the test log (issue 4, item 7).

/// What a peer's handlers delivered, or a note the test made.
enum NetEvent: Sendable, CustomStringConvertible {
    case state(IceConnectionState, IceStateChangeReason?)
    case pair(CandidatePair)
    case candidate(IceCandidate?)
    case candidateError(IceCandidateError)
    case note(String)

    var description: String {
        switch self {
        case .state(let s, let r): "state \(s)" + (r.map { " (\($0))" } ?? "")
        case .pair(let p): "selected \(p)"
        case .candidate(let c?): "candidate \(c.type.rawValue) \(c.transport.rawValue) \(c.address):\(c.port)" + (c.tcpType.map { " \($0.rawValue)" } ?? "")
        case .candidate(nil): "end-of-candidates"
        case .candidateError(let e): "candidate error \(e)"
        case .note(let n): "-- \(n)"
        }
    }
}

/// Every event of one scenario, in order, with milliseconds since it started.
final class ScenarioLog: Sendable {
    let title: String
    let origin = ContinuousClock.now
    let entries = Locked<[(ms: Int, who: String, event: NetEvent)]>([])

    init(_ title: String) { self.title = title }

    var elapsedMs: Int {
        let (s, atto) = (ContinuousClock.now - origin).components
        return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
    }

    func record(_ who: String, _ event: NetEvent) {
        let ms = elapsedMs
        entries.withLock { $0.append((ms, who, event)) }
    }

    func note(_ text: String) { record("test", .note(text)) }

    /// The state timeline (state, reason, ms) with pairs, candidate errors and notes; candidates
    /// are summarized unless `candidates` is true.
    func render(candidates: Bool = false) -> String {
        var lines = ["=== \(title)"]
        for e in entries.withLock({ $0 }) {
            if case .candidate = e.event, !candidates { continue }
            lines.append(String(format: "  %7d ms  %-5@ %@", e.ms, e.who as NSString, e.event.description as NSString))
        }
        return lines.joined(separator: "\n")
    }

    func print(candidates: Bool = false) { Swift.print(render(candidates: candidates)) }
}

/// One `IceTransport` in a namespace, with a recorder of what its handlers delivered.
final class NetPeer: Sendable {
    let name: String
    let pc: IceTransport
    let context: NiceContext
    let queue: DispatchQueue
    let log: ScenarioLog
    let seen = Locked<[NetEvent]>([])
    let datagrams = Locked<[Datagram]>([])
    /// Signalling held back until the peer has this side's current parameters (an ordered
    /// signalling channel, as in Support/Loopback.swift).
    let signalling = OrderedSignalling()

    /// `namespace` nil: a context in the test process's own namespace.
    init(_ name: String, namespace: String?, _ configuration: IceTransport.Configuration, log: ScenarioLog) throws {
        self.name = name
        self.log = log
        if let namespace {
            context = try NiceContext(name: "net.\(name)", networkNamespace: namespace)
        } else {
            context = NiceContext(name: "net.\(name)")
        }
        pc = try IceTransport(configuration: configuration, context: context)
        queue = DispatchQueue(label: "net.\(name)")
    }

    var states: [IceConnectionState] {
        seen.withLock { $0.compactMap { if case .state(let s, _) = $0 { s } else { nil } } }
    }

    var changes: [IceStateChange] {
        seen.withLock { $0.compactMap { if case .state(let s, let r) = $0 { IceStateChange(state: s, reason: r) } else { nil } } }
    }

    var localCandidates: [IceCandidate] {
        seen.withLock { $0.compactMap { if case .candidate(let c?) = $0 { c } else { nil } } }
    }

    var candidateErrors: [IceCandidateError] {
        seen.withLock { $0.compactMap { if case .candidateError(let e) = $0 { e } else { nil } } }
    }

    var endOfCandidatesCount: Int {
        seen.withLock { $0.filter { if case .candidate(nil) = $0 { true } else { false } }.count }
    }

    /// "new → checking(checksStarted) → …" for assertion messages.
    var timeline: String {
        "\(name): new → " + changes.map { "\($0.state)(\($0.reason.map { "\($0)" } ?? "-"))" }.joined(separator: " → ")
    }

    func record(_ e: NetEvent) {
        seen.withLock { $0.append(e) }
        log.record(name, e)
    }

    func post(_ candidate: IceCandidate?, to peer: NetPeer) {
        signalling.post(candidate, from: pc, to: peer.pc)
    }

    func deliverParameters(to peer: NetPeer) throws {
        try signalling.deliverParameters(from: pc, to: peer.pc)
    }

    /// Records, as issues of the current test, the candidates the peer refused since the last call
    /// (see ``OrderedSignalling``). The waits and the pair's closes call it.
    func reportSignallingErrors(sourceLocation: SourceLocation = #_sourceLocation) {
        signalling.reportErrors("\(name) → peer", sourceLocation: sourceLocation)
    }

    /// Polls every 20 ms until `predicate` holds for the states so far, for at most `timeout`
    /// (and not past cancellation, so a test's time limit ends it).
    @discardableResult
    func waitFor(_ timeout: Duration, _ predicate: @Sendable ([IceConnectionState]) -> Bool) async -> Bool {
        defer { reportSignallingErrors() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if predicate(states) { return true }
            try? await Task.sleep(for: .milliseconds(20))  // only throws on cancellation, checked above
        }
        return predicate(states)
    }

    /// Waits until the last state is `state`.
    func waitForState(_ state: IceConnectionState, timeout: Duration) async -> Bool {
        await waitFor(timeout) { $0.last == state }
    }

    /// Waits until the last state is connected or completed.
    func waitForUp(timeout: Duration) async -> Bool {
        await waitFor(timeout) { $0.last == .connected || $0.last == .completed }
    }

    func waitForDatagrams(_ count: Int, timeout: Duration) async -> Bool {
        defer { reportSignallingErrors() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if datagrams.withLock({ $0.count }) >= count { return true }
            try? await Task.sleep(for: .milliseconds(20))  // only throws on cancellation, checked above
        }
        return datagrams.withLock { $0.count } >= count
    }

    /// Waits until a candidate error was delivered.
    func waitForCandidateError(timeout: Duration) async -> Bool {
        defer { reportSignallingErrors() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if !candidateErrors.isEmpty { return true }
            try? await Task.sleep(for: .milliseconds(20))  // only throws on cancellation, checked above
        }
        return !candidateErrors.isEmpty
    }

    /// Waits until end-of-candidates was delivered `count` times (once per gathering).
    func waitForEndOfCandidates(_ count: Int = 1, timeout: Duration) async -> Bool {
        defer { reportSignallingErrors() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline && !Task.isCancelled {
            if endOfCandidatesCount >= count { return true }
            try? await Task.sleep(for: .milliseconds(20))  // only throws on cancellation, checked above
        }
        return endOfCandidatesCount >= count
    }
}

/// Two peers, possibly in different namespaces, wired to each other through the public API.
struct NetPair {
    let a: NetPeer
    let b: NetPeer
    let log: ScenarioLog

    init(
        _ title: String,
        a: (name: String, namespace: String?, configuration: IceTransport.Configuration),
        b: (name: String, namespace: String?, configuration: IceTransport.Configuration),
        forwardCandidates: @escaping @Sendable (NetPeer, IceCandidate) -> Bool = { _, _ in true }
    ) throws {
        log = ScenarioLog(title)
        self.a = try NetPeer(a.name, namespace: a.namespace, a.configuration, log: log)
        self.b = try NetPeer(b.name, namespace: b.namespace, b.configuration, log: log)
        Self.wire(self.a, to: self.b, forwardCandidates)
        Self.wire(self.b, to: self.a, forwardCandidates)
    }

    private static func wire(_ me: NetPeer, to peer: NetPeer, _ forward: @escaping @Sendable (NetPeer, IceCandidate) -> Bool) {
        me.pc.stateUpdateHandler = { me.record(.state($0.state, $0.reason)) }
        me.pc.selectedPairHandler = { me.record(.pair($0)) }
        me.pc.candidateErrorHandler = { me.record(.candidateError($0)) }
        me.pc.candidateHandler = { candidate in
            me.record(.candidate(candidate))
            if let candidate {
                if forward(me, candidate) { me.post(candidate, to: peer) }
            } else {
                me.post(nil, to: peer)
            }
        }
        me.pc.receiveHandler = { datagram in me.datagrams.withLock { $0.append(datagram) } }
    }

    /// Starts both and exchanges parameters.
    func start() throws {
        log.note("start")
        a.pc.start(queue: a.queue)
        b.pc.start(queue: b.queue)
        try b.deliverParameters(to: a)
        try a.deliverParameters(to: b)
    }

    /// W3C restartIce() on both sides, then the new parameters are exchanged (the re-gathered
    /// candidates follow through the candidate handlers).
    func restartBoth() throws {
        log.note("restartIce() on both")
        try a.pc.restartIce()
        try b.pc.restartIce()
        try b.deliverParameters(to: a)
        try a.deliverParameters(to: b)
    }

    /// Both reached connected or completed.
    func waitForUp(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        let x = await a.waitForUp(timeout: timeout)
        let y = await b.waitForUp(timeout: max(.zero, deadline - ContinuousClock.now))
        return x && y
    }

    /// Sends `count` datagrams each way and waits until each side got them all.
    /// - Parameter waitForRoom: send with `write` (waits while the send queue is full, as after a
    ///   flood) instead of `send` (throws `sendQueueFull`).
    func exchangeData(count: Int = 3, timeout: Duration = .seconds(5), waitForRoom: Bool = false) async -> Bool {
        let before = (a.datagrams.withLock { $0.count }, b.datagrams.withLock { $0.count })
        var sendFailed = false
        for i in 0..<count {
            for (from, text) in [(a, "\(a.name)→\(b.name) \(i)"), (b, "\(b.name)→\(a.name) \(i)")] {
                do {
                    if waitForRoom { try await from.pc.write(Array(text.utf8)) } else { try from.pc.send(Array(text.utf8)) }
                } catch {
                    sendFailed = true
                    log.note("send \(text): \(error)")
                    Issue.record("send \(text) failed: \(error)")
                }
            }
        }
        let gotB = await b.waitForDatagrams(before.1 + count, timeout: timeout)
        let gotA = await a.waitForDatagrams(before.0 + count, timeout: timeout)
        log.note("data: \(a.name) got \(a.datagrams.withLock { $0.count } - before.0), \(b.name) got \(b.datagrams.withLock { $0.count } - before.1) of \(count)")
        if !(gotA && gotB) {
            for p in [a, b] {
                let got = p.datagrams.withLock { $0.map { String(decoding: $0.bytes, as: UTF8.self) } }
                log.note("\(p.name): counters \(p.pc.counters), received \(got)")
            }
        }
        return gotA && gotB && !sendFailed
    }

    /// Closes both without waiting (for `defer`; close is idempotent). Also breaks the
    /// handler → peer → connection cycle.
    func closeNow() {
        a.pc.close()
        b.pc.close()
        a.reportSignallingErrors()
        b.reportSignallingErrors()
    }

    func closeBoth() async {
        await a.pc.closeAndWait()
        await b.pc.closeAndWait()
        a.reportSignallingErrors()
        b.reportSignallingErrors()
    }
}

extension IceTransport.Configuration {
    /// A configuration for a namespaced agent bound to `address` only.
    static func net(
        _ role: IceTransport.Role, bind address: String, servers: [IceServer] = [], grace: Duration = .seconds(3)
    ) -> Self {
        IceTransport.Configuration(role: role, iceServers: servers, localAddresses: [address], disconnectedGracePeriod: grace)
    }
}

extension Internet {
    static var stunServer: IceServer { IceServer(url: "stun:\(turnAddress):\(turnPort)") }

    static func turnServer(transport: String = "udp", password: String = Internet.password) -> IceServer {
        IceServer(url: "turn:\(turnAddress):\(turnPort)?transport=\(transport)", username: user, credential: password)
    }
}

/// The selected pair as `stats()` reports it, with a readable description for messages.
func describe(_ stats: IceStats) -> String {
    "state \(stats.iceConnectionState), selected \(stats.selectedPairs.map(\.description)), pairs \(stats.candidatePairs.map { "\($0.local.type.rawValue)↔\($0.remote.type.rawValue) \($0.state.rawValue)\($0.nominated ? " nominated" : "")" }), local \(stats.localCandidates.map { "\($0.type.rawValue) \($0.address):\($0.port)" }), remote \(stats.remoteCandidates.map { "\($0.type.rawValue) \($0.address):\($0.port)" }), errors \(stats.candidateErrors), sent \(stats.datagramsSent)/\(stats.bytesSent) B, received \(stats.datagramsReceived)/\(stats.bytesReceived) B, components \(stats.componentStates)"
}
