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
    /// The ICE transport selected a pair for the data component (W3C `selectedcandidatepairchange`).
    case selectedPair(CandidatePair)
    /// The DTLS transport's state changed (W3C `RTCDtlsTransport` `statechange`).
    case dtls(DtlsTransportStateChange)
    /// A section started receiving a remote track (W3C `track`).
    case track(TrackEvent)
}

/// The streams of one element type (see ``StreamRegistry``: their `onTermination` never takes
/// the hub's lock).
typealias StreamSet<Element: Sendable> = StreamRegistry<Element>

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
        var selectedPair: (@Sendable (CandidatePair) -> Void)?
        var dtls: (@Sendable (DtlsTransportStateChange) -> Void)?
        /// The user's `ondatachannel`, as set (the SCTP transport holds a gated wrapper of it).
        var dataChannel: (@Sendable (DataChannel) -> Void)?
        var track: (@Sendable (TrackEvent) -> Void)?
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
        var selectedPair: CandidatePair?
        var dtls = DtlsTransportStateChange(state: .new, reason: nil)
        var outbox: [PeerConnectionEvent] = []
        var drainScheduled = false
        var signalingStreams = StreamSet<SignalingState>()
        var iceStreams = StreamSet<IceConnectionState>()
        var connectionStreams = StreamSet<PeerConnectionState>()
        var gatheringStreams = StreamSet<IceGatheringState>()
        var candidateStreams = StreamSet<IceCandidateInit?>()
        var negotiationStreams = StreamSet<Void>()
        var pairStreams = StreamSet<CandidatePair>()
        var dtlsStreams = StreamSet<DtlsTransportStateChange>()
        /// The `track` events fired so far (a new stream replays them; at most one per transceiver).
        var tracks: [TrackEvent] = []
        var trackStreams = StreamSet<TrackEvent>()
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
        state.withLock { s in
            guard !s.closed, record(event, &s) else { return }
            s.outbox.append(event)
            // Scheduled under the lock (async never runs inline) and before any stream sees the
            // event: whoever saw it in a stream or a property can rely on a `queue.sync {}`
            // delivering it to the handlers.
            if !s.drainScheduled {
                s.drainScheduled = true
                queue.async { [self] in drain() }
            }
            yield(event, &s)
        }
    }

    /// Records `event` in the properties; false for a state that did not change (not emitted).
    private func record(_ event: PeerConnectionEvent, _ s: inout State) -> Bool {
        switch event {
        case .signaling(let v):
            guard v != s.signaling else { return false }
            s.signaling = v
        case .iceConnection(let v):
            guard v != s.iceConnection else { return false }
            s.iceConnection = v
        case .connection(let v):
            guard v != s.connection else { return false }
            s.connection = v
        case .gathering(let v):
            guard v != s.gathering else { return false }
            s.gathering = v
            if v == .gathering {
                s.candidates = []
                s.candidatesEnded = false
            }
        case .candidate(let c):
            if let c { s.candidates.append(c) } else { s.candidatesEnded = true }
        case .negotiationNeeded:
            s.negotiationNeeded = true
        case .selectedPair(let p):
            // Every selection ICE reports (a restart selects again, even the same addresses).
            s.selectedPair = p
        case .dtls(let v):
            guard v != s.dtls else { return false }
            s.dtls = v
        case .track(let e):
            s.tracks.append(e)
        }
        return true
    }

    /// Yields `event` to its streams (under the lock, after the drain was scheduled).
    private func yield(_ event: PeerConnectionEvent, _ s: inout State) {
        switch event {
        case .signaling(let v): s.signalingStreams.yield(v)
        case .iceConnection(let v): s.iceStreams.yield(v)
        case .connection(let v): s.connectionStreams.yield(v)
        case .gathering(let v): s.gatheringStreams.yield(v)
        case .candidate(let c): s.candidateStreams.yield(c)
        case .negotiationNeeded: s.negotiationStreams.yield(())
        case .selectedPair(let p): s.pairStreams.yield(p)
        case .dtls(let v): s.dtlsStreams.yield(v)
        case .track(let e): s.trackStreams.yield(e)
        }
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
                case .selectedPair(let p): handlers.selectedPair?(p)
                case .dtls(let v): handlers.dtls?(v)
                case .track(let e): handlers.track?(e)
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
        let registered: Bool = state.withLock { s in
            for element in initial(s) { k.yield(element) }
            guard !s.closed else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s[keyPath: set].add(k)
            return true
        }
        if !registered { k.finish() }
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

    func makePairStream() -> AsyncStream<CandidatePair> {
        makeStream(\.pairStreams) { s in s.selectedPair.map { [$0] } ?? [] }
    }

    func makeDtlsStream() -> AsyncStream<DtlsTransportStateChange> {
        makeStream(\.dtlsStreams) { [$0.dtls] }
    }

    func makeTrackStream() -> AsyncStream<TrackEvent> {
        makeStream(\.trackStreams) { $0.tracks }
    }

    // MARK: Close

    /// Closes: every state `closed`, no event from now on, handlers dropped, streams finished (a
    /// state stream after yielding `closed`). Returns false if already closed.
    @discardableResult
    func close() -> Bool {
        // Finished outside the lock (a finished stream's consumer may run at once).
        let finishers = state.withLock { s -> [@Sendable () -> Void]? in
            guard !s.closed else { return nil }
            s.closed = true
            s.handlers = Handlers()
            s.outbox = []
            s.tracks = []
            s.signaling = .closed
            s.iceConnection = .closed
            s.connection = .closed
            s.signalingStreams.yield(.closed)
            s.iceStreams.yield(.closed)
            s.connectionStreams.yield(.closed)
            // W3C close sets the DTLS transport's state to closed too (no event).
            s.dtls = DtlsTransportStateChange(state: .closed, reason: nil)
            s.dtlsStreams.yield(s.dtls)
            return [
                s.signalingStreams.removeAllForFinishing(), s.iceStreams.removeAllForFinishing(),
                s.connectionStreams.removeAllForFinishing(), s.gatheringStreams.removeAllForFinishing(),
                s.candidateStreams.removeAllForFinishing(), s.negotiationStreams.removeAllForFinishing(),
                s.pairStreams.removeAllForFinishing(), s.dtlsStreams.removeAllForFinishing(),
                s.trackStreams.removeAllForFinishing(),
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
