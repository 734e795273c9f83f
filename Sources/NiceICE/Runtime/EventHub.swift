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
/// (``IceTransport``, any thread): the state machine, the handlers, the queue, the streams.
///
/// Everything is behind `Mutex`es; user code is never called under a lock or on the GLib thread.
/// Events are enqueued on the user's queue while the lock is held, so they arrive in the order the
/// state machine produced them, whatever thread produced them.
final class EventHub: Sendable {
    struct State: Sendable {
        var machine: IceStateMachine
        var gathering: IceGatheringState = .new
        var queue: DispatchQueue?
        var pending: [HubEvent] = []
        var handlers = Handlers()
        var selectedPairs: [Int: CandidatePair] = [:]
        var localParameters: IceParameters
        var remoteParameters: IceParameters?
        var remoteCandidates: RemoteCandidateBudget
        var candidateErrors: [IceCandidateError] = []
        var stateStreams = StreamRegistry<IceStateChange>()
        var candidateStreams = StreamRegistry<IceCandidate?>()
        var gatheringStreams = StreamRegistry<IceGatheringState>()
        var pairStreams = StreamRegistry<CandidatePair>()
        var errorStreams = StreamRegistry<IceCandidateError>()
        /// The last state change (what a new state stream yields first).
        var lastChange = IceStateChange(state: .new, reason: nil)
        /// Local candidates of the current gathering round, `nil` last once it ended: what a new
        /// candidate stream replays. Reset when a new round (a restart) starts.
        var gathered: [IceCandidate?] = []
        var nextStreamID: UInt64 = 0
        /// Events waiting for the user's queue, delivered by one `queue.async` per batch.
        var outbox: [HubEvent] = []
        var deliveryScheduled = false
        /// Events dropped from `pending` or `outbox` at ``EventHub/pendingLimit``.
        var droppedEvents: UInt64 = 0
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

    let state: Locked<State>
    /// The receive path (its own lock, so datagrams never wait for state work).
    let inbox: DatagramInbox
    /// Set while a layer above ICE (NiceWebRTC's DTLS transport) takes component 1's datagrams.
    let upper = Locked(UpperLayerSlot())
    let hasUpperLayer = Atomic<Bool>(false)
    /// Set once by `close`; read without a lock on every delivery.
    let closed = Atomic<Bool>(false)
    /// Held while a user handler runs (see ``DeliveryGate``).
    let gate = DeliveryGate()
    let logger: Logger
    let context: NiceContext
    let gracePeriod: Duration
    let receiveLimit: Int

    init(
        machine: IceStateMachine, logger: Logger, context: NiceContext, gracePeriod: Duration, receiveLimit: Int,
        receiveByteLimit: Int = DatagramInbox.defaultByteLimit, remoteCandidateLimit: Int = 25
    ) {
        state = Locked(
            State(
                machine: machine, localParameters: IceParameters(usernameFragment: "", password: ""),
                remoteCandidates: RemoteCandidateBudget(limit: remoteCandidateLimit)))
        self.logger = logger
        self.context = context
        self.gracePeriod = gracePeriod
        self.receiveLimit = receiveLimit
        inbox = DatagramInbox(limit: receiveLimit, byteLimit: receiveByteLimit, gate: gate)
    }

    // MARK: Producing events (any thread; normally the GLib thread)

    /// Feeds the state machine and delivers what changed.
    func process(_ input: IceStateMachine.Input) {
        let timers = state.withLock { s -> [(key: ComponentKey, token: UInt64)] in
            let out = s.machine.handle(input)
            for change in out.changes {
                logger.debug("iceConnectionState \(change)")
                s.lastChange = change
                s.stateStreams.yield(change)
                s.tap?(.state(change))
                enqueue(.state(change), &s)
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

    /// Delivers a non-state event.
    func emit(_ event: HubEvent) {
        state.withLock { s in
            guard !s.machine.isClosed else { return }
            switch event {
            case .candidate(let c):
                if s.gathered.count < Self.replayLimit { s.gathered.append(c) }
                s.candidateStreams.yield(c)
            case .gathering(let g):
                guard g != s.gathering else { return }
                s.gathering = g
                if g == .gathering { s.gathered = [] }
                s.gatheringStreams.yield(g)
            case .selectedPair(let p):
                s.selectedPairs[p.component] = p
                s.pairStreams.yield(p)
                s.tap?(event)
            case .candidateError(let e):
                if s.candidateErrors.count < Self.replayLimit { s.candidateErrors.append(e) }
                s.errorStreams.yield(e)
            case .state:
                break
            }
            enqueue(event, &s)
        }
    }

    /// Most events kept for the handlers before `start(queue:)`, and waiting for a stalled queue
    /// after it; past it the oldest are dropped (the streams and the state properties still have
    /// everything, and a streams-only connection never starts a queue).
    static let pendingLimit = 1024

    /// Must hold the lock: keeps the order of events across threads. Events produced while a batch
    /// is waiting join it, so a burst (selected pair, connected, completed) costs one queue hop.
    private func enqueue(_ event: HubEvent, _ s: inout State) {
        guard let queue = s.queue else {
            Self.append(event, to: &s.pending, &s.droppedEvents)
            return
        }
        Self.append(event, to: &s.outbox, &s.droppedEvents)
        guard !s.deliveryScheduled else { return }
        s.deliveryScheduled = true
        queue.async { [self] in deliverOutbox() }
    }

    private static func append(_ event: HubEvent, to list: inout [HubEvent], _ dropped: inout UInt64) {
        if list.count >= pendingLimit {
            let excess = list.count - pendingLimit + 1
            list.removeFirst(excess)
            dropped &+= UInt64(excess)
        }
        list.append(event)
    }

    private func deliverOutbox() {
        let batch = state.withLock { s in
            s.deliveryScheduled = false
            defer { s.outbox.removeAll(keepingCapacity: true) }
            return s.outbox
        }
        for event in batch { deliver(event) }
    }

    private func deliver(_ event: HubEvent) {
        gate.withGate {
            guard !closed.load(ordering: .acquiring) else { return }
            // Read per event: a handler replaced by an earlier handler in this batch applies at once.
            let h = state.withLock { $0.handlers }
            switch event {
            case .state(let c): h.state?(c)
            case .gathering(let g): h.gathering?(g)
            case .candidate(let c): h.candidate?(c)
            case .selectedPair(let p): h.selectedPair?(p)
            case .candidateError(let e): h.candidateError?(e)
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

    func handler<H: Sendable>(_ slot: any WritableKeyPath<Handlers, H?> & Sendable) -> H? {
        state.withLock { $0.handlers[keyPath: slot] }
    }

    /// Sets a handler unless the hub is closed (a closed connection stays silent).
    func setHandler<H: Sendable>(_ slot: any WritableKeyPath<Handlers, H?> & Sendable, _ value: H?) {
        state.withLock { s in
            if !s.machine.isClosed { s.handlers[keyPath: slot] = value }
        }
    }

    func start(queue: DispatchQueue) {
        state.withLock { s in
            guard s.queue == nil else { return }
            s.queue = queue
            let pending = s.pending
            s.pending = []
            for e in pending { enqueue(e, &s) }
        }
        inbox.start(queue: queue)
    }

    /// Marks the hub closed: state `closed` (no event), handlers dropped, streams finished. When it
    /// returns, no handler runs on another thread and none will start. Returns false if it was
    /// closed already.
    func close() -> Bool {
        defer { gate.waitForDeliveries() }
        let (first, finishers) = state.withLock { s -> (Bool, [@Sendable () -> Void]) in
            guard !s.machine.isClosed else { return (false, []) }
            closed.store(true, ordering: .releasing)
            _ = s.machine.handle(.close)
            s.tap = nil
            s.lastChange = IceStateChange(state: .closed, reason: nil)
            s.handlers = Handlers()
            s.pending = []
            s.outbox = []
            var finishers: [@Sendable () -> Void] = []
            for c in s.stateStreams.removeAll() { finishers.append { c.finish() } }
            for c in s.candidateStreams.removeAll() { finishers.append { c.finish() } }
            for c in s.gatheringStreams.removeAll() { finishers.append { c.finish() } }
            for c in s.pairStreams.removeAll() { finishers.append { c.finish() } }
            for c in s.errorStreams.removeAll() { finishers.append { c.finish() } }
            return (true, finishers)
        }
        guard first else { return false }
        inbox.close()
        finishers.forEach { $0() }
        notifyUpperLayer()
        return true
    }

    /// Set-up failed: the state becomes `failed` (reason ``IceStateChangeReason/setupFailed``) and
    /// the error is kept for ``IceTransport/setupError``; gathering ends.
    func failSetup(_ error: IceError) {
        logger.error("set-up failed: \(error)")
        state.withLock { s in
            guard !s.machine.isClosed, s.setupError == nil else { return }
            s.setupError = error
        }
        process(.setupFailed)
        emit(.candidate(nil))
        emit(.gathering(.complete))
    }

    func teardownFinished() {
        let waiters = state.withLock { s in
            s.teardownDone = true
            defer { s.teardownWaiters = [:] }
            return s.teardownWaiters
        }
        waiters.values.forEach { $0.resume(returning: true) }
    }

    /// Waits until libnice has released the agent; false when `timeout` passed first.
    func waitForTeardown(timeout: Duration) async -> Bool {
        await withCheckedContinuation { (k: CheckedContinuation<Bool, Never>) in
            let id: UInt64? = state.withLock { s in
                if s.teardownDone { return nil }
                s.nextStreamID += 1
                s.teardownWaiters[s.nextStreamID] = k
                return s.nextStreamID
            }
            guard let id else { return k.resume(returning: true) }
            // Weak: the timer must not keep the hub (and through it the context and its thread)
            // alive for `timeout` after the teardown finished.
            context.schedule(after: timeout) { [weak self] in
                let late = self?.state.withLock { $0.teardownWaiters.removeValue(forKey: id) }
                late?.resume(returning: false)
            }
        }
    }

    // MARK: Streams

    /// Yields the current state first, then every change.
    func makeStateStream() -> AsyncStream<IceStateChange> {
        makeStream(\.stateStreams, replayAfterClose: true) { [$0.lastChange] }
    }

    /// Replays the current gathering round's candidates (and its `nil`), then every new one.
    func makeCandidateStream() -> AsyncStream<IceCandidate?> {
        makeStream(\.candidateStreams) { $0.gathered }
    }

    /// Yields the current gathering state first, then every change.
    func makeGatheringStream() -> AsyncStream<IceGatheringState> {
        makeStream(\.gatheringStreams) { [$0.gathering] }
    }

    /// Yields the selected pair of each component that has one, then every new selection.
    func makePairStream() -> AsyncStream<CandidatePair> {
        makeStream(\.pairStreams) { $0.selectedPairs.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// Replays the candidate errors so far, then every new one.
    func makeErrorStream() -> AsyncStream<IceCandidateError> {
        makeStream(\.errorStreams) { $0.candidateErrors }
    }

    /// A new unbounded stream registered in `registry` until it ends, starting with `replay` (read
    /// under the same lock that registers it, so nothing falls between the replay and the live
    /// events). After close the stream is finished at once (after the replay when
    /// `replayAfterClose`: the state stream still says `closed`).
    private func makeStream<Element: Sendable>(
        _ registry: any WritableKeyPath<State, StreamRegistry<Element>> & Sendable,
        replayAfterClose: Bool = false,
        replay: (State) -> [Element]
    ) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .unbounded)
        let registered: Bool = state.withLock { s in
            if !s.machine.isClosed || replayAfterClose {
                for element in replay(s) { continuation.yield(element) }
            }
            guard !s.machine.isClosed else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s[keyPath: registry].add(continuation)
            return true
        }
        if !registered { continuation.finish() }
        return stream
    }

    func makeDatagramStream() -> AsyncStream<Datagram> { inbox.makeStream() }
}
