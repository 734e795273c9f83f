import Dispatch
import NiceICE
import NiceWebRTCCore

/// One event of a ``PeerConnection``, as the hub delivers it.
enum PeerConnectionEvent: Sendable {
    case signaling(SignalingState)
    case iceConnection(IceConnectionState)
    case connection(PeerConnectionState)
    case gathering(IceGatheringState)
    /// A local candidate; nil after the last one (W3C's `null` candidate).
    case candidate(IceCandidateInit?)
    case negotiationNeeded
}

/// The streams of one element type: continuations by id.
struct StreamSet<Element: Sendable>: Sendable {
    var continuations: [UInt64: AsyncStream<Element>.Continuation] = [:]

    func yield(_ element: Element) {
        for k in continuations.values { k.yield(element) }
    }

    /// Finishes every stream. Call it outside the hub's lock: finishing runs the stream's
    /// `onTermination`, which takes that lock.
    func finishAll() {
        for k in continuations.values { k.finish() }
    }
}

/// Where a ``PeerConnection``'s runtime meets the user: the current values of every state the
/// events report, the handlers, the streams, and an ordered outbox drained on the handler queue.
///
/// Events are appended to the outbox under the lock in the order they were produced, whatever
/// thread produced them, and one `queue.async` drains each burst; handlers run under ``gate`` and
/// only while not closed. ``close()`` sets `closed`, drops every handler, finishes every stream and
/// passes the gate once, so no handler starts after it returns (as NiceICE's `EventHub`).
final class PeerConnectionHub: Sendable {
    struct Handlers: Sendable {
        var signaling: (@Sendable (SignalingState) -> Void)?
        var iceConnection: (@Sendable (IceConnectionState) -> Void)?
        var connection: (@Sendable (PeerConnectionState) -> Void)?
        var gathering: (@Sendable (IceGatheringState) -> Void)?
        var candidate: (@Sendable (IceCandidateInit?) -> Void)?
        var negotiationNeeded: (@Sendable () -> Void)?
        /// The user's `ondatachannel`, as set (the SCTP transport holds a gated wrapper of it).
        var dataChannel: (@Sendable (DataChannel) -> Void)?
    }

    struct State: Sendable {
        var handlers = Handlers()
        var closed = false
        var signaling: SignalingState = .stable
        var iceConnection: IceConnectionState = .new
        var connection: PeerConnectionState = .new
        var gathering: IceGatheringState = .new
        /// The candidates of the current gathering round released so far (what a new candidate
        /// stream replays), and whether the round ended (its nil).
        var candidates: [IceCandidateInit] = []
        var candidatesEnded = false
        /// A `negotiationneeded` not followed by a return to `stable` yet (a new stream replays it).
        var negotiationNeeded = false
        var outbox: [PeerConnectionEvent] = []
        var drainScheduled = false
        var nextID: UInt64 = 0
        var signalingStreams = StreamSet<SignalingState>()
        var iceStreams = StreamSet<IceConnectionState>()
        var connectionStreams = StreamSet<PeerConnectionState>()
        var gatheringStreams = StreamSet<IceGatheringState>()
        var candidateStreams = StreamSet<IceCandidateInit?>()
        var negotiationStreams = StreamSet<Void>()
    }

    let queue: DispatchQueue
    let gate = DeliveryGate()
    let state = Locked(State())

    init(queue: DispatchQueue) {
        self.queue = queue
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: Producing

    /// Records an event, yields it to the streams and queues it for the handlers. A state event
    /// that repeats the current value is dropped (handlers fire only on a real change). Nothing
    /// after close.
    func emit(_ event: PeerConnectionEvent) {
        let schedule = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            switch event {
            case .signaling(let v):
                guard v != s.signaling else { return false }
                s.signaling = v
                s.signalingStreams.yield(v)
            case .iceConnection(let v):
                guard v != s.iceConnection else { return false }
                s.iceConnection = v
                s.iceStreams.yield(v)
            case .connection(let v):
                guard v != s.connection else { return false }
                s.connection = v
                s.connectionStreams.yield(v)
            case .gathering(let v):
                guard v != s.gathering else { return false }
                s.gathering = v
                s.gatheringStreams.yield(v)
                if v == .gathering {
                    s.candidates = []
                    s.candidatesEnded = false
                }
            case .candidate(let c):
                if let c { s.candidates.append(c) } else { s.candidatesEnded = true }
                s.candidateStreams.yield(c)
            case .negotiationNeeded:
                s.negotiationNeeded = true
                s.negotiationStreams.yield(())
            }
            s.outbox.append(event)
            defer { s.drainScheduled = true }
            return !s.drainScheduled
        }
        if schedule { queue.async { [self] in drain() } }
    }

    /// The negotiation that `negotiationneeded` asked for happened (back in `stable` with nothing
    /// more to negotiate): a new stream no longer replays it.
    func negotiationSatisfied() {
        state.withLock { $0.negotiationNeeded = false }
    }

    /// Delivers what the outbox holds, in order, each under the gate and only while open.
    private func drain() {
        let events = state.withLock { s -> [PeerConnectionEvent] in
            s.drainScheduled = false
            defer { s.outbox = [] }
            return s.outbox
        }
        for event in events {
            gate.withGate {
                let handlers = state.withLock { s -> Handlers? in s.closed ? nil : s.handlers }
                guard let handlers else { return }
                switch event {
                case .signaling(let v): handlers.signaling?(v)
                case .iceConnection(let v): handlers.iceConnection?(v)
                case .connection(let v): handlers.connection?(v)
                case .gathering(let v): handlers.gathering?(v)
                case .candidate(let c): handlers.candidate?(c)
                case .negotiationNeeded: handlers.negotiationNeeded?()
                }
            }
        }
    }

    // MARK: Handlers

    func handler<H>(_ path: KeyPath<Handlers, H?>) -> H? {
        state.withLock { $0.handlers[keyPath: path] }
    }

    /// Sets a handler; ignored once closed (nothing would call it, and what it captures stays free).
    func setHandlers(_ change: (inout Handlers) -> Void) {
        state.withLock { s in
            guard !s.closed else { return }
            change(&s.handlers)
        }
    }

    // MARK: Streams

    /// A new stream registered in `set`, first yielding `initial` (read under the same lock, so
    /// nothing produced in between is missed or repeated); finished at once when closed.
    private func makeStream<Element: Sendable>(
        _ set: any WritableKeyPath<State, StreamSet<Element>> & Sendable, initial: @Sendable (State) -> [Element]
    ) -> AsyncStream<Element> {
        let (stream, k) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .unbounded)
        let id: UInt64? = state.withLock { s in
            for element in initial(s) { k.yield(element) }
            guard !s.closed else { return nil }
            s.nextID += 1
            s[keyPath: set].continuations[s.nextID] = k
            return s.nextID
        }
        guard let id else {
            k.finish()
            return stream
        }
        k.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0[keyPath: set].continuations.removeValue(forKey: id) }
        }
        return stream
    }

    func makeSignalingStream() -> AsyncStream<SignalingState> {
        makeStream(\.signalingStreams) { [$0.signaling] }
    }

    func makeIceConnectionStream() -> AsyncStream<IceConnectionState> {
        makeStream(\.iceStreams) { [$0.iceConnection] }
    }

    func makeConnectionStream() -> AsyncStream<PeerConnectionState> {
        makeStream(\.connectionStreams) { [$0.connection] }
    }

    func makeGatheringStream() -> AsyncStream<IceGatheringState> {
        makeStream(\.gatheringStreams) { [$0.gathering] }
    }

    func makeCandidateStream() -> AsyncStream<IceCandidateInit?> {
        makeStream(\.candidateStreams) { s in s.candidates.map { Optional($0) } + (s.candidatesEnded ? [nil] : []) }
    }

    func makeNegotiationStream() -> AsyncStream<Void> {
        makeStream(\.negotiationStreams) { s in s.negotiationNeeded ? [()] : [] }
    }

    // MARK: Close

    /// Closes: every state `closed`, no event from now on, handlers dropped, streams finished (a
    /// state stream after yielding `closed`). Returns false if already closed.
    @discardableResult
    func close() -> Bool {
        // Finished outside the lock: finishing runs a stream's onTermination, which takes it.
        let finishers = state.withLock { s -> [() -> Void]? in
            guard !s.closed else { return nil }
            s.closed = true
            s.handlers = Handlers()
            s.outbox = []
            s.signaling = .closed
            s.iceConnection = .closed
            s.connection = .closed
            s.signalingStreams.yield(.closed)
            s.iceStreams.yield(.closed)
            s.connectionStreams.yield(.closed)
            defer {
                s.signalingStreams = StreamSet()
                s.iceStreams = StreamSet()
                s.connectionStreams = StreamSet()
                s.gatheringStreams = StreamSet()
                s.candidateStreams = StreamSet()
                s.negotiationStreams = StreamSet()
            }
            return [
                s.signalingStreams.finishAll, s.iceStreams.finishAll, s.connectionStreams.finishAll,
                s.gatheringStreams.finishAll, s.candidateStreams.finishAll, s.negotiationStreams.finishAll,
            ]
        }
        guard let finishers else { return false }
        finishers.forEach { $0() }
        // No handler starts after this returns (a handler that called close() holds the gate on
        // this thread: the gate is recursive).
        gate.waitForDeliveries()
        return true
    }
}
