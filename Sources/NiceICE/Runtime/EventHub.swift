import Dispatch
import Logging
import Synchronization

/// What the hub delivers to handlers and streams.
enum HubEvent: Sendable {
    case state(IceStateChange)
    case gathering(IceGatheringState)
    case candidate(IceCandidate?)
    case selectedPair(CandidatePair)
    case candidateError(IceCandidateError)
}

/// The user's handlers, read when an event is delivered (not when it is produced).
struct Handlers: Sendable {
    var state: (@Sendable (IceStateChange) -> Void)?
    var gathering: (@Sendable (IceGatheringState) -> Void)?
    var candidate: (@Sendable (IceCandidate?) -> Void)?
    var selectedPair: (@Sendable (CandidatePair) -> Void)?
    var candidateError: (@Sendable (IceCandidateError) -> Void)?
}

/// Where libnice's side (``AgentCore``, on the GLib thread) meets the user's side
/// (``IceTransport``, any thread): the ICE layer of the shared hub shape (``HubCore``: handlers on
/// the user's queue, streams that miss nothing, close), plus what is ICE's own: the state machine
/// and its grace timers, the gathering round, the receive path, the teardown.
///
/// User code is never called under a lock or on the GLib thread. Events are queued for the user's
/// queue while the lock is held, so they arrive in the order the state machine produced them,
/// whatever thread produced them.
final class EventHub: HubLayer, Sendable {
    /// ICE's current values: what the properties read and a new stream replays.
    struct Values: Sendable {
        var machine: IceStateMachine
        var gathering: IceGatheringState = .new
        var selectedPairs: [Int: CandidatePair] = [:]
        var localParameters: IceParameters
        var remoteParameters: IceParameters?
        var remoteCandidates: RemoteCandidateBudget
        var candidateErrors: [IceCandidateError] = []
        /// The last state change (what a new state stream yields first).
        var lastChange = IceStateChange(state: .new, reason: nil)
        /// Local candidates of the current gathering round, `nil` last once it ended: what a new
        /// candidate stream replays. Reset when a new round (a restart) starts.
        var gathered: [IceCandidate?] = []
        var nextWaiterID: UInt64 = 0
        /// Why set-up failed, once it has.
        var setupError: IceError?
        var teardownDone = false
        var teardownWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        /// A layer above (NiceWebRTC's peer connection), told of each state change and selected
        /// pair in the critical section that records it (see ``IceTransport/setTap(_:)``).
        var tap: (@Sendable (HubEvent) -> Void)?
    }

    /// Most candidates and candidate errors kept for replay (libnice gathers far fewer).
    static let replayLimit = 1000

    /// Most events kept for the handlers before `start(queue:)` (see ``HubCore/pendingLimit``).
    static var pendingLimit: Int { HubCore<EventHub>.pendingLimit }

    let core: HubCore<EventHub>
    /// The receive path (its own lock, so datagrams never wait for state work).
    let inbox: DatagramInbox
    /// Set while a layer above ICE (NiceWebRTC's DTLS transport) takes component 1's datagrams.
    let upper = Locked(UpperLayerSlot())
    let hasUpperLayer = Atomic<Bool>(false)
    let logger: Logger
    let context: NiceContext
    let gracePeriod: Duration
    let receiveLimit: Int

    /// The hub's lock and everything it holds.
    var state: Locked<HubState<EventHub>> { core.state }
    /// Held while a user handler runs (see ``DeliveryGate``).
    var gate: DeliveryGate { core.gate }

    init(
        machine: IceStateMachine, logger: Logger, context: NiceContext, gracePeriod: Duration, receiveLimit: Int,
        receiveByteLimit: Int = DatagramInbox.defaultByteLimit, remoteCandidateLimit: Int = 25
    ) {
        core = HubCore(
            Values(
                machine: machine, localParameters: IceParameters(usernameFragment: "", password: ""),
                remoteCandidates: RemoteCandidateBudget(limit: remoteCandidateLimit)))
        self.logger = logger
        self.context = context
        self.gracePeriod = gracePeriod
        self.receiveLimit = receiveLimit
        inbox = DatagramInbox(
            limit: receiveLimit, byteLimit: receiveByteLimit, gate: core.gate,
            deferFlush: { [context] job in context.runAfterIteration(job) })
    }

    // MARK: The layer's events

    static var noHandlers: Handlers { Handlers() }

    static func record(_ event: HubEvent, in s: inout HubState<EventHub>) -> Bool {
        switch event {
        case .state(let change):
            s.values.lastChange = change
            s.values.tap?(event)
        case .candidate(let c):
            if s.values.gathered.count < replayLimit { s.values.gathered.append(c) }
        case .gathering(let g):
            guard g != s.values.gathering else { return false }
            s.values.gathering = g
            if g == .gathering { s.values.gathered = [] }
        case .selectedPair(let p):
            s.values.selectedPairs[p.component] = p
            s.values.tap?(event)
        case .candidateError(let e):
            if s.values.candidateErrors.count < replayLimit { s.values.candidateErrors.append(e) }
        }
        return true
    }

    static func route<Route: HubRoute>(_ event: HubEvent, _ route: inout Route) where Route.Handlers == Handlers {
        switch event {
        case .state(let c): route.send(c, to: \.state)
        case .gathering(let g): route.send(g, to: \.gathering)
        case .candidate(let c): route.send(c, to: \.candidate)
        case .selectedPair(let p): route.send(p, to: \.selectedPair)
        case .candidateError(let e): route.send(e, to: \.candidateError)
        }
    }

    // MARK: Producing events (any thread; normally the GLib thread)

    /// Feeds the state machine and delivers what changed.
    func process(_ input: IceStateMachine.Input) {
        let timers = state.withLock { s -> [(key: ComponentKey, token: UInt64)] in
            let out = s.values.machine.handle(input)
            for change in out.changes {
                logger.debug("iceConnectionState \(change)")
                core.publish(.state(change), &s)
            }
            return out.graceTimers
        }
        notifyUpperLayer()
        for (key, token) in timers {
            logger.debug("component \(key) disconnected; failed in \(gracePeriod) unless it recovers")
            context.schedule(after: gracePeriod) { [weak self] in
                self?.process(.graceExpired(key, token: token))
            }
        }
    }

    // MARK: Receive path (GLib thread)

    func received(_ bytes: UnsafeRawBufferPointer, component: Int) {
        if component == 1, hasUpperLayer.load(ordering: .acquiring), let layer = upper.withLock({ $0.layer }) {
            layer.iceDidReceive(bytes)
            return
        }
        inbox.deliver(bytes, component: component)
    }

    /// Tells the layer above ICE, if any, that `iceConnectionState` may have changed (no lock held).
    private func notifyUpperLayer() {
        guard hasUpperLayer.load(ordering: .acquiring) else { return }
        upper.withLock { $0.layer }?.iceStateDidChange()
    }

    // MARK: User side

    func start(queue: DispatchQueue) {
        core.start(queue: queue)
        inbox.start(queue: queue)
    }

    /// Marks the hub closed: state `closed` (no event), handlers dropped, streams finished. When it
    /// returns, no handler runs on another thread and none will start. Returns false if it was
    /// closed already.
    func close() -> Bool {
        let first = core.close { s in
            _ = s.values.machine.handle(.close)
            s.values.tap = nil
            s.values.lastChange = IceStateChange(state: .closed, reason: nil)
        } afterLock: {
            inbox.close()
        }
        guard first else { return false }
        notifyUpperLayer()
        return true
    }

    /// Set-up failed: the state becomes `failed` (reason ``IceStateChangeReason/setupFailed``) and
    /// the error is kept for ``IceTransport/setupError``; gathering ends.
    func failSetup(_ error: IceError) {
        logger.error("set-up failed: \(error)")
        withValues { s in
            guard !s.machine.isClosed, s.setupError == nil else { return }
            s.setupError = error
        }
        process(.setupFailed)
        emit(.candidate(nil))
        emit(.gathering(.complete))
    }

    func teardownFinished() {
        let waiters = withValues { s in
            s.teardownDone = true
            defer { s.teardownWaiters = [:] }
            return s.teardownWaiters
        }
        waiters.values.forEach { $0.resume(returning: true) }
    }

    /// Waits until libnice has released the agent; false when `timeout` passed first.
    func waitForTeardown(timeout: Duration) async -> Bool {
        await withCheckedContinuation { (k: CheckedContinuation<Bool, Never>) in
            let id: UInt64? = withValues { s in
                if s.teardownDone { return nil }
                s.nextWaiterID += 1
                s.teardownWaiters[s.nextWaiterID] = k
                return s.nextWaiterID
            }
            guard let id else { return k.resume(returning: true) }
            // Weak: the timer must not keep the hub (and through it the context and its thread)
            // alive for `timeout` after the teardown finished.
            context.schedule(after: timeout) { [weak self] in
                let late = self?.withValues { $0.teardownWaiters.removeValue(forKey: id) }
                late?.resume(returning: false)
            }
        }
    }

    // MARK: Streams

    /// Yields the current state first, then every change (after close: `closed`, then the end).
    func makeStateStream() -> AsyncStream<IceStateChange> {
        core.makeStream { [$0.values.lastChange] }
    }

    /// Replays the current gathering round's candidates (and its `nil`), then every new one.
    func makeCandidateStream() -> AsyncStream<IceCandidate?> {
        core.makeStream(replayAfterEnd: false) { $0.values.gathered }
    }

    /// Yields the current gathering state first, then every change.
    func makeGatheringStream() -> AsyncStream<IceGatheringState> {
        core.makeStream(replayAfterEnd: false) { [$0.values.gathering] }
    }

    /// Yields the selected pair of each component that has one, then every new selection.
    func makePairStream() -> AsyncStream<CandidatePair> {
        core.makeStream(replayAfterEnd: false) { $0.values.selectedPairs.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// Replays the candidate errors so far, then every new one.
    func makeErrorStream() -> AsyncStream<IceCandidateError> {
        core.makeStream(replayAfterEnd: false) { $0.values.candidateErrors }
    }

    func makeDatagramStream() -> AsyncStream<Datagram> { inbox.makeStream() }
}
