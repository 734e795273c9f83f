import Dispatch
import NiceICE
import NiceWebRTCCore

/// Where the DTLS owner (``DtlsCore``, any thread) meets the user: the DTLS and connection state
/// events, their handlers on the user's queue, their streams, and the inbox of decrypted datagrams.
///
/// Events are appended under the lock, so they reach the queue in the order the owner produced
/// them; handlers run on the user's queue under the transport's ``DeliveryGate``, never on the
/// context thread and never under a lock.
final class DtlsHub: Sendable {
    enum Event: Sendable {
        case dtls(DtlsTransportStateChange)
        case connection(PeerConnectionStateChange)
    }

    struct Handlers: Sendable {
        var dtls: (@Sendable (DtlsTransportStateChange) -> Void)?
        var connection: (@Sendable (PeerConnectionStateChange) -> Void)?
    }

    struct State: Sendable {
        var queue: DispatchQueue?
        var pending: [Event] = []
        var outbox: [Event] = []
        var deliveryScheduled = false
        var handlers = Handlers()
        var dtls = DtlsTransportStateChange(state: .new, reason: nil)
        var connection: PeerConnectionStateChange
        var dtlsStreams = StreamRegistry<DtlsTransportStateChange>()
        var connectionStreams = StreamRegistry<PeerConnectionStateChange>()
        var closed = false
        /// The peer connection's hub, told of every event as it is recorded (see ``setTap(_:)``).
        var tap: (@Sendable (Event) -> Void)?
    }

    let state: Locked<State>
    let gate = DeliveryGate()
    let inbox: DatagramInbox

    init(receiveLimit: Int) {
        let ice = IceStateChange(state: .new, reason: nil)
        state = Locked(
            State(connection: PeerConnectionStateChange(state: .new, ice: ice, dtls: DtlsTransportStateChange(state: .new, reason: nil))))
        inbox = DatagramInbox(limit: receiveLimit, gate: gate)
    }

    // MARK: Producing (the owner, under its lock)

    func emit(_ event: Event) {
        state.withLock { s in
            guard !s.closed else { return }
            switch event {
            case .dtls(let c):
                s.dtls = c
                s.dtlsStreams.yield(c)
            case .connection(let c):
                s.connection = c
                s.connectionStreams.yield(c)
            }
            s.tap?(event)
            guard let queue = s.queue else {
                s.pending.append(event)
                return
            }
            s.outbox.append(event)
            guard !s.deliveryScheduled else { return }
            s.deliveryScheduled = true
            queue.async { [self] in deliverOutbox() }
        }
    }

    private func deliverOutbox() {
        let batch = state.withLock { s in
            s.deliveryScheduled = false
            defer { s.outbox.removeAll(keepingCapacity: true) }
            return s.outbox
        }
        for event in batch {
            gate.withGate {
                let (closed, h) = state.withLock { ($0.closed, $0.handlers) }
                guard !closed else { return }
                switch event {
                case .dtls(let c): h.dtls?(c)
                case .connection(let c): h.connection?(c)
                }
            }
        }
    }

    // MARK: User side

    func setHandlers(_ body: (inout Handlers) -> Void) {
        state.withLock { s in if !s.closed { body(&s.handlers) } }
    }

    func start(queue: DispatchQueue) {
        state.withLock { s in
            guard s.queue == nil else { return }
            s.queue = queue
            s.outbox = s.pending
            s.pending = []
            if !s.outbox.isEmpty {
                s.deliveryScheduled = true
                queue.async { [self] in deliverOutbox() }
            }
        }
        inbox.start(queue: queue)
    }

    /// Sets what is told of each event in the critical section that records it, on the owner's
    /// thread, before the handlers' queue sees it (issue 18: the peer connection's
    /// `connectionState` follows the DTLS state without a queue hop, so it is `connected` before
    /// SCTP can connect). `tap` runs under this hub's lock: it must only take leaf locks (the peer
    /// connection's hub) and never call user code.
    func setTap(_ tap: (@Sendable (Event) -> Void)?) {
        state.withLock { s in
            guard !s.closed else { return }
            s.tap = tap
        }
    }

    /// Final: the states become `closed` without an event (as W3C `close()`), handlers are dropped,
    /// the streams yield `closed` and finish; no handler starts after this returns.
    func close(ice: IceStateChange) {
        defer { gate.waitForDeliveries() }
        let finishers = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.closed else { return [] }
            s.closed = true
            s.tap = nil
            s.handlers = Handlers()
            s.pending = []
            s.outbox = []
            let dtls = DtlsTransportStateChange(state: .closed, reason: nil)
            let connection = PeerConnectionStateChange(state: .closed, ice: ice, dtls: dtls)
            s.dtls = dtls
            s.connection = connection
            var finishers: [@Sendable () -> Void] = []
            for k in s.dtlsStreams.removeAll() { finishers.append { k.yield(dtls); k.finish() } }
            for k in s.connectionStreams.removeAll() { finishers.append { k.yield(connection); k.finish() } }
            return finishers
        }
        inbox.close()
        finishers.forEach { $0() }
    }

    /// Yields the current DTLS state first, then every change.
    func makeDtlsStream() -> AsyncStream<DtlsTransportStateChange> {
        makeStream(\.dtlsStreams) { $0.dtls }
    }

    /// Yields the current connection state first, then every change.
    func makeConnectionStream() -> AsyncStream<PeerConnectionStateChange> {
        makeStream(\.connectionStreams) { $0.connection }
    }

    private func makeStream<Element: Sendable>(
        _ registry: any WritableKeyPath<State, StreamRegistry<Element>> & Sendable,
        current: (State) -> Element
    ) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .unbounded)
        let registered: Bool = state.withLock { s in
            continuation.yield(current(s))
            guard !s.closed else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s[keyPath: registry].add(continuation)
            return true
        }
        if !registered { continuation.finish() }
        return stream
    }
}
