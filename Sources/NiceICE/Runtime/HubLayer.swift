/// What one layer (ICE, DTLS, SCTP, the peer connection) puts into the shared hub shape: its event
/// type, its handler slots, its current values, and two mappings from an event: how it changes the
/// values (``record(_:in:)``) and where it goes (``route(_:_:)``: a payload and a handler slot).
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

    /// Where `event` goes: its payload (the streams of the payload's type get it) and its handler
    /// slot. One mapping serves both the streams (under the hub's lock, after the handlers'
    /// delivery was scheduled) and the handlers (on the user's queue, under the gate, no lock held).
    static func route<Route: HubRoute>(_ event: Event, _ route: inout Route) where Route.Handlers == Handlers

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

/// Where an event goes (see ``HubLayer/route(_:_:)``): to the streams of the payload's type, or to
/// the handler in the slot. A layer's `route` calls one of these per event.
package protocol HubRoute<Handlers> {
    associatedtype Handlers
    /// `value` is the event's payload; `slot` is its handler.
    mutating func send<Value: Sendable>(_ value: Value, to slot: KeyPath<Handlers, (@Sendable (Value) -> Void)?>)
    /// An event without a payload (its streams are of `Void`).
    mutating func signal(to slot: KeyPath<Handlers, (@Sendable () -> Void)?>)
}

/// Routes events to the streams (under the hub's lock).
struct StreamRoute<Handlers>: HubRoute {
    var streams: HubStreams

    mutating func send<Value: Sendable>(_ value: Value, to slot: KeyPath<Handlers, (@Sendable (Value) -> Void)?>) {
        streams.yield(value)
    }

    mutating func signal(to slot: KeyPath<Handlers, (@Sendable () -> Void)?>) {
        streams.yield(())
    }
}

/// Routes events to the handlers (on the user's queue, under the gate).
struct HandlerRoute<Handlers>: HubRoute {
    let handlers: Handlers

    func send<Value: Sendable>(_ value: Value, to slot: KeyPath<Handlers, (@Sendable (Value) -> Void)?>) {
        handlers[keyPath: slot]?(value)
    }

    func signal(to slot: KeyPath<Handlers, (@Sendable () -> Void)?>) {
        handlers[keyPath: slot]?()
    }
}
