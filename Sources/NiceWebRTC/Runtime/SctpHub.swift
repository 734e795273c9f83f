import Dispatch
import NiceICE
import NiceWebRTCCore

/// Where the association (``SctpCore``, any thread, under its lock) meets the user: the SCTP layer
/// of the shared hub shape (``HubCore``) on one serial queue on which every handler of the
/// transport and of its channels runs, in the order the association produced the events, plus
/// what is SCTP's own: the channels the peer opened before anyone listened.
///
/// Unbatched: the channels' own deliveries (``post(_:)``, and their inboxes' messages) share the
/// queue, so each event takes its own hop and none overtakes them. The association ends by itself
/// (``finish()``): what was queued (every channel's and the transport's `closed`) is still
/// delivered, then the handlers are dropped.
final class SctpHub: HubLayer, Sendable {
    enum Event: Sendable {
        /// A channel the peer opened (W3C `datachannel`).
        case channel(DataChannel)
        case state(SctpTransportState)
    }

    struct Handlers: Sendable {
        var channel: (@Sendable (DataChannel) -> Void)?
        var state: (@Sendable (SctpTransportState) -> Void)?
    }

    struct Values: Sendable {
        var state: SctpTransportState = .connecting
        /// Channels the peer opened before anyone listened (handler or stream): kept for the first
        /// listener, as a browser keeps `datachannel` events until the page's script ran.
        var unclaimed: [DataChannel] = []
    }

    let core: HubCore<SctpHub>
    let queue: DispatchQueue

    /// Channels the peer opened and nobody took yet: beyond this, new ones are refused.
    static let unclaimedLimit = 1024

    init(queue: DispatchQueue) {
        self.queue = queue
        core = HubCore(Values(), queue: queue, batching: false)
    }

    // MARK: The layer's events

    static var noHandlers: Handlers { Handlers() }

    /// A channel nobody listens to yet is kept aside (not an event until a listener comes).
    static func record(_ event: Event, in s: inout HubState<SctpHub>) -> Bool {
        switch event {
        case .channel(let channel):
            guard !listened(s) else { return true }
            if s.values.unclaimed.count < unclaimedLimit { s.values.unclaimed.append(channel) }
            return false
        case .state(let new):
            s.values.state = new
            return true
        }
    }

    static func route<Route: HubRoute>(_ event: Event, _ route: inout Route) where Route.Handlers == Handlers {
        switch event {
        case .channel(let c): route.send(c, to: \.channel)
        case .state(let v): route.send(v, to: \.state)
        }
    }

    private static func listened(_ s: HubState<SctpHub>) -> Bool {
        s.handlers.channel != nil || s.streams.hasLiveStreams(of: DataChannel.self)
    }

    // MARK: Producing (the association, under its lock)

    /// Runs `body` on the queue, after everything posted or emitted before.
    func post(_ body: @escaping @Sendable () -> Void) {
        core.post(body)
    }

    /// Whether a channel the peer opens now would reach anyone: a listener, or room among the
    /// unclaimed. When not, the association refuses the OPEN (issue 17 §9) rather than acknowledge a
    /// channel nobody can ever reach.
    var acceptsChannel: Bool {
        core.state.withLock { s in
            !s.ended && (Self.listened(s) || s.values.unclaimed.count < Self.unclaimedLimit)
        }
    }

    func announce(_ channel: DataChannel) { emit(.channel(channel)) }

    func transportState(_ new: SctpTransportState) { emit(.state(new)) }

    // MARK: User side

    func setChannelHandler(_ handler: (@Sendable (DataChannel) -> Void)?) {
        core.state.withLock { s in
            guard !s.ended else { return }  // nothing would call it; what it captures stays free
            s.handlers.channel = handler
            guard handler != nil else { return }
            for channel in s.values.unclaimed { core.deliverLater(.channel(channel), &s) }
            s.values.unclaimed = []
        }
    }

    func setStateHandler(_ handler: (@Sendable (SctpTransportState) -> Void)?) {
        setHandlers { $0.state = handler }
    }

    /// Replays the channels nobody took yet (they are this stream's now), then every new one.
    func makeChannelStream() -> AsyncStream<DataChannel> {
        core.makeStream { s in
            defer { s.values.unclaimed = [] }
            return s.values.unclaimed
        }
    }

    func makeStateStream() -> AsyncStream<SctpTransportState> {
        core.makeStream { [$0.values.state] }
    }

    /// The association ended: the streams finish (after the `closed` state was yielded), and once
    /// the events queued before (the channels' and the transport's `closed`) were delivered, the
    /// handlers are dropped, so a handler that captures the transport never keeps it alive.
    func finish() {
        core.finish { $0.values.unclaimed = [] }
    }
}
