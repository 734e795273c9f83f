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

/// Where a ``PeerConnection``'s runtime meets the user: the session's layer of the shared hub shape
/// (``HubCore``): the current values of every state the events report, the handlers, the streams,
/// and the ordered outbox drained on the handler queue under the gate, only while not closed.
/// ``close()`` sets every state `closed`, drops every handler, finishes every stream and passes
/// the gate once, so no handler starts after it returns (as every layer's hub).
final class PeerConnectionHub: HubLayer, Sendable {
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

    struct Values: Sendable {
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
        /// The `track` events fired so far (a new stream replays them; at most one per transceiver).
        var tracks: [TrackEvent] = []
    }

    let core: HubCore<PeerConnectionHub>
    let queue: DispatchQueue

    init(queue: DispatchQueue) {
        self.queue = queue
        core = HubCore(Values(), queue: queue)
    }

    /// Held while a user handler runs (see ``DeliveryGate``).
    var gate: DeliveryGate { core.gate }

    // MARK: The layer's events

    static var noHandlers: Handlers { Handlers() }

    /// Records `event` in the values; false for a state that did not change (not emitted:
    /// handlers fire only on a real change).
    static func record(_ event: PeerConnectionEvent, in s: inout HubState<PeerConnectionHub>) -> Bool {
        switch event {
        case .signaling(let v):
            guard v != s.values.signaling else { return false }
            s.values.signaling = v
        case .iceConnection(let v):
            guard v != s.values.iceConnection else { return false }
            s.values.iceConnection = v
        case .connection(let v):
            guard v != s.values.connection else { return false }
            s.values.connection = v
        case .gathering(let v):
            guard v != s.values.gathering else { return false }
            s.values.gathering = v
            if v == .gathering {
                s.values.candidates = []
                s.values.candidatesEnded = false
            }
        case .candidate(let c):
            if let c { s.values.candidates.append(c) } else { s.values.candidatesEnded = true }
        case .negotiationNeeded:
            s.values.negotiationNeeded = true
        case .selectedPair(let p):
            // Every selection ICE reports (a restart selects again, even the same addresses).
            s.values.selectedPair = p
        case .dtls(let v):
            guard v != s.values.dtls else { return false }
            s.values.dtls = v
        case .track(let e):
            s.values.tracks.append(e)
        }
        return true
    }

    static func route<Route: HubRoute>(_ event: PeerConnectionEvent, _ route: inout Route) where Route.Handlers == Handlers {
        switch event {
        case .signaling(let v): route.send(v, to: \.signaling)
        case .iceConnection(let v): route.send(v, to: \.iceConnection)
        case .connection(let v): route.send(v, to: \.connection)
        case .gathering(let v): route.send(v, to: \.gathering)
        case .candidate(let c): route.send(c, to: \.candidate)
        case .negotiationNeeded: route.signal(to: \.negotiationNeeded)
        case .selectedPair(let p): route.send(p, to: \.selectedPair)
        case .dtls(let v): route.send(v, to: \.dtls)
        case .track(let e): route.send(e, to: \.track)
        }
    }

    /// The negotiation that `negotiationneeded` asked for happened (back in `stable` with nothing
    /// more to negotiate): a new stream no longer replays it.
    func negotiationSatisfied() {
        withValues { $0.negotiationNeeded = false }
    }

    // MARK: Streams (each first yields the current value or what happened so far)

    func makeSignalingStream() -> AsyncStream<SignalingState> {
        core.makeStream { [$0.values.signaling] }
    }

    func makeIceConnectionStream() -> AsyncStream<IceConnectionState> {
        core.makeStream { [$0.values.iceConnection] }
    }

    func makeConnectionStream() -> AsyncStream<PeerConnectionState> {
        core.makeStream { [$0.values.connection] }
    }

    func makeGatheringStream() -> AsyncStream<IceGatheringState> {
        core.makeStream { [$0.values.gathering] }
    }

    func makeCandidateStream() -> AsyncStream<IceCandidateInit?> {
        core.makeStream { s in s.values.candidates.map { Optional($0) } + (s.values.candidatesEnded ? [nil] : []) }
    }

    func makeNegotiationStream() -> AsyncStream<Void> {
        core.makeStream { s in s.values.negotiationNeeded ? [()] : [] }
    }

    func makePairStream() -> AsyncStream<CandidatePair> {
        core.makeStream { s in s.values.selectedPair.map { [$0] } ?? [] }
    }

    func makeDtlsStream() -> AsyncStream<DtlsTransportStateChange> {
        core.makeStream { [$0.values.dtls] }
    }

    func makeTrackStream() -> AsyncStream<TrackEvent> {
        core.makeStream { $0.values.tracks }
    }

    // MARK: Close

    /// Closes: every state `closed`, no event from now on, handlers dropped, streams finished (a
    /// state stream after yielding `closed`). Returns false if already closed.
    @discardableResult
    func close() -> Bool {
        core.close { s in
            s.values.tracks = []
            s.values.signaling = .closed
            s.values.iceConnection = .closed
            s.values.connection = .closed
            s.streams.yield(SignalingState.closed)
            s.streams.yield(IceConnectionState.closed)
            s.streams.yield(PeerConnectionState.closed)
            // W3C close sets the DTLS transport's state to closed too (no event).
            s.values.dtls = DtlsTransportStateChange(state: .closed, reason: nil)
            s.streams.yield(s.values.dtls)
        }
    }
}
