import Dispatch
import NiceICE
import NiceWebRTCCore

/// Where the DTLS owner (``DtlsCore``, any thread) meets the user: the DTLS layer of the shared hub
/// shape (``HubCore``: the DTLS and connection state events, their handlers on the user's queue
/// under the gate, their streams, close), plus the inbox of decrypted datagrams.
///
/// Events are queued under the lock, so they reach the queue in the order the owner produced
/// them; handlers run on the user's queue under the transport's ``DeliveryGate``, never on the
/// context thread and never under a lock.
final class DtlsHub: HubLayer, Sendable {
    enum Event: Sendable {
        case dtls(DtlsTransportStateChange)
        case connection(PeerConnectionStateChange)
    }

    struct Handlers: Sendable {
        var dtls: (@Sendable (DtlsTransportStateChange) -> Void)?
        var connection: (@Sendable (PeerConnectionStateChange) -> Void)?
    }

    struct Values: Sendable {
        var dtls = DtlsTransportStateChange(state: .new, reason: nil)
        var connection: PeerConnectionStateChange
        /// The peer connection's hub, told of every event as it is recorded (see ``setTap(_:)``).
        var tap: (@Sendable (Event) -> Void)?
    }

    let core: HubCore<DtlsHub>
    let inbox: DatagramInbox

    init(receiveLimit: Int, context: NiceContext) {
        let ice = IceStateChange(state: .new, reason: nil)
        let dtls = DtlsTransportStateChange(state: .new, reason: nil)
        core = HubCore(Values(connection: PeerConnectionStateChange(state: .new, ice: ice, dtls: dtls)))
        inbox = DatagramInbox(limit: receiveLimit, gate: core.gate, deferFlush: { [context] job in context.runAfterIteration(job) })
    }

    // MARK: The layer's events

    static var noHandlers: Handlers { Handlers() }

    static func record(_ event: Event, in s: inout HubState<DtlsHub>) -> Bool {
        switch event {
        case .dtls(let c): s.values.dtls = c
        case .connection(let c): s.values.connection = c
        }
        s.values.tap?(event)
        return true
    }

    static func route<Route: HubRoute>(_ event: Event, _ route: inout Route) where Route.Handlers == Handlers {
        switch event {
        case .dtls(let c): route.send(c, to: \.dtls)
        case .connection(let c): route.send(c, to: \.connection)
        }
    }

    // MARK: User side

    func start(queue: DispatchQueue) {
        core.start(queue: queue)
        inbox.start(queue: queue)
    }

    /// Sets what is told of each event in the critical section that records it, on the owner's
    /// thread, before the handlers' queue sees it (issue 18: the peer connection's
    /// `connectionState` follows the DTLS state without a queue hop, so it is `connected` before
    /// SCTP can connect). `tap` runs under this hub's lock: it must only take leaf locks (the peer
    /// connection's hub) and never call user code. Ignored once closed.
    func setTap(_ tap: (@Sendable (Event) -> Void)?) {
        core.state.withLock { s in
            guard !s.ended else { return }
            s.values.tap = tap
        }
    }

    /// Final: the states become `closed` without an event (as W3C `close()`), handlers are dropped,
    /// the streams yield `closed` and finish; no handler starts after this returns.
    func close(ice: IceStateChange) {
        core.close { s in
            let dtls = DtlsTransportStateChange(state: .closed, reason: nil)
            let connection = PeerConnectionStateChange(state: .closed, ice: ice, dtls: dtls)
            s.values.tap = nil
            s.values.dtls = dtls
            s.values.connection = connection
            s.streams.yield(dtls)
            s.streams.yield(connection)
        } afterLock: {
            inbox.close()
        }
    }

    /// Yields the current DTLS state first, then every change.
    func makeDtlsStream() -> AsyncStream<DtlsTransportStateChange> {
        core.makeStream { [$0.values.dtls] }
    }

    /// Yields the current connection state first, then every change.
    func makeConnectionStream() -> AsyncStream<PeerConnectionStateChange> {
        core.makeStream { [$0.values.connection] }
    }
}
