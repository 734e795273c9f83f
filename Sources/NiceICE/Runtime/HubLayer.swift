/// What one layer (ICE, DTLS, SCTP, the peer connection) puts into the shared hub shape: its event
/// type, its handler slots, its current values, and three mappings from an event (record it, yield
/// it to its stream, hand it to its handler).
///
/// Everything else is ``HubCore``'s and the same for every layer: the lock, the ordered outbox
/// drained on the user's queue, the ``DeliveryGate``, the streams that replay what they missed,
/// `close()` and `finish()`. A layer's hub is a type conforming to this protocol that owns a
/// `HubCore<Self>` and adds only what is its own (ICE's state machine, SCTP's unclaimed channels).
package protocol HubLayer: AnyObject, Sendable {
    /// One event, as the handlers receive it.
    associatedtype Event: Sendable
    /// The user's handler slots (one optional closure per event kind).
    associatedtype Handlers: Sendable
    /// The layer's current values: what its properties read and its streams replay.
    associatedtype Values: Sendable

    /// No handler set (what a hub starts with and what close leaves).
    static var noHandlers: Handlers { get }

    /// Records `event` in `s.values`, under the hub's lock. False drops it (no handler, no stream
    /// sees it): a state that did not change, or an event the layer keeps aside.
    static func record(_ event: Event, in s: inout HubState<Self>) -> Bool

    /// Yields `event` to its streams, under the hub's lock, after its delivery to the handlers was
    /// scheduled (so whoever saw it in a stream can rely on a `queue.sync {}` delivering it).
    static func yield(_ event: Event, to streams: inout HubStreams)

    /// Calls the handler `event` is for: on the user's queue, under the gate, with no lock held.
    static func deliver(_ event: Event, to handlers: Handlers)

    /// The hub core this layer's hub owns.
    var core: HubCore<Self> { get }
}

extension HubLayer {
    /// Records `event` and schedules it for the handlers and the streams.
    package func emit(_ event: Event) { core.emit(event) }

    /// Runs `body` on the layer's values under the hub's lock.
    package func withValues<R>(_ body: (inout Values) -> R) -> R { core.state.withLock { body(&$0.values) } }

    /// The handler in `slot`.
    package func handler<H>(_ slot: KeyPath<Handlers, H?>) -> H? { core.handler(slot) }

    /// Changes the handlers; ignored once the hub ended (nothing would call them, and what they
    /// capture stays free).
    package func setHandlers(_ change: (inout Handlers) -> Void) { core.setHandlers(change) }

    /// Whether the hub was closed by the user (read without the lock).
    package var isClosed: Bool { core.isClosed }
}
