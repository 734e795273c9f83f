import Dispatch
import Synchronization

/// One hub's state behind its lock: the layer's values, the handlers, the streams, and the outbox.
package struct HubState<Layer: HubLayer>: Sendable {
    /// What waits for the user's queue, in the order it was produced.
    enum Delivery: Sendable {
        /// An event for the handlers (dropped once the hub is closed).
        case event(Layer.Event)
        /// Work of the layer that must keep its place among the events (SCTP's channel events).
        case run(@Sendable () -> Void)
        /// ``HubCore/finish()`` was reached: the handlers are dropped.
        case end
    }

    /// The layer's current values.
    package var values: Layer.Values
    /// The user's handlers, read when an event is delivered (not when it is produced).
    package var handlers = Layer.noHandlers
    /// The live streams.
    package var streams = HubStreams()
    /// Set by close or finish: no event is recorded and no handler set from now on.
    package fileprivate(set) var ended = false
    /// Events dropped from the outbox at ``HubCore/pendingLimit`` (a queue that never started or stalled).
    package fileprivate(set) var droppedEvents: UInt64 = 0
    /// Deliveries waiting for the queue (before ``HubCore/start(queue:)``, or for a stalled queue).
    package var waitingCount: Int { outbox.count }
    fileprivate var queue: DispatchQueue?
    fileprivate var outbox: [Delivery] = []
    fileprivate var deliveryScheduled = false

    init(values: Layer.Values, queue: DispatchQueue?) {
        self.values = values
        self.queue = queue
    }
}

/// The shape every layer's hub shares: where the layer's owner (any thread, often under its own
/// lock) meets the user (handlers on a queue, `AsyncStream`s, properties).
///
/// - **Handlers.** One slot per event kind in `Layer.Handlers`, read when an event is delivered;
///   setting one is ignored once the hub ended (nothing would call it, and what it captures stays
///   free).
/// - **Serial delivery.** ``publish(_:_:)`` records the event, appends it to the outbox under the
///   lock (so events keep the order they were produced in, whatever thread produced them) and
///   schedules the queue before any stream sees it. Batched hubs drain a burst with one
///   `queue.async`; unbatched ones (SCTP, whose channels share the queue with their own
///   `queue.async` work) hop once per item, so nothing else on the queue is overtaken. Handlers run
///   under ``gate`` and only while the hub is not closed. Before ``start(queue:)`` events wait,
///   at most ``pendingLimit`` (the oldest are dropped and counted; the streams and properties still
///   have everything).
/// - **Streams that miss nothing.** ``makeStream(replayAfterEnd:replay:)`` yields the layer's replay
///   (the current state, the candidates so far) and registers the stream under the same lock that
///   records events, so nothing falls between replay and live events.
/// - **Close** (the user's: W3C `close()`): ended at once, queued events dropped, handlers dropped,
///   every stream finished exactly once (after the layer yielded its final values), and the gate
///   passed, so no handler starts after `close()` returns. **Finish** (the layer ended by itself,
///   as an SCTP association does): no new events, every stream finished, but what was queued is
///   still delivered and the handlers are dropped after it.
///
/// `HubCore` is `Sendable` because all of its mutable state is in `state` (a pthread mutex) and the
/// `closed` atomic.
package final class HubCore<Layer: HubLayer>: Sendable {
    /// The values, handlers, streams and outbox.
    package let state: Locked<HubState<Layer>>
    /// Held while a user handler runs (see ``DeliveryGate``).
    package let gate = DeliveryGate()
    private let closed = Atomic<Bool>(false)
    private let batching: Bool

    /// Most events kept for the handlers before ``start(queue:)``, and waiting for a stalled queue
    /// after it (batched hubs).
    package static var pendingLimit: Int { 1024 }

    /// A hub whose handlers run on `queue` (nil: once ``start(queue:)`` gives one), one
    /// `queue.async` per burst of events when `batching`, else one per event.
    package init(_ values: Layer.Values, queue: DispatchQueue? = nil, batching: Bool = true) {
        state = Locked(HubState(values: values, queue: queue))
        self.batching = batching
    }

    /// Whether ``close()`` ran (read without the lock).
    package var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// The queue handlers run on, once known.
    package var queue: DispatchQueue? { state.withLock { $0.queue } }

    // MARK: Producing (any thread)

    /// Records `event` and schedules it for the handlers and the streams (see ``publish(_:_:)``).
    package func emit(_ event: Layer.Event) {
        state.withLock { publish(event, &$0) }
    }

    /// Under the lock (inside `state.withLock`): records `event`, queues it for the handlers, then
    /// yields it to the streams. Nothing once the hub ended, or when the layer drops it.
    package func publish(_ event: Layer.Event, _ s: inout HubState<Layer>) {
        guard !s.ended, Layer.record(event, in: &s) else { return }
        enqueue(.event(event), &s)
        // The table is moved out while the route yields to it, so it is not copied.
        var route = StreamRoute<Layer.Handlers>(streams: HubStreams())
        swap(&route.streams, &s.streams)
        Layer.route(event, &route)
        swap(&route.streams, &s.streams)
    }

    /// Queues `event` for the handlers only (events recorded earlier and kept aside, such as SCTP's
    /// unclaimed channels once a handler is set). Under the lock.
    package func deliverLater(_ event: Layer.Event, _ s: inout HubState<Layer>) {
        guard !s.ended else { return }
        enqueue(.event(event), &s)
    }

    /// Runs `body` on the queue, in order with the events (also after ``finish()``).
    package func post(_ body: @escaping @Sendable () -> Void) {
        state.withLock { enqueue(.run(body), &$0) }
    }

    /// Must hold the lock: keeps the order of events across threads. The queue is scheduled here,
    /// under the lock (async never runs inline).
    private func enqueue(_ delivery: HubState<Layer>.Delivery, _ s: inout HubState<Layer>) {
        if batching && s.outbox.count >= Self.pendingLimit {
            let excess = s.outbox.count - Self.pendingLimit + 1
            s.outbox.removeFirst(excess)
            s.droppedEvents &+= UInt64(excess)
        }
        s.outbox.append(delivery)
        guard let queue = s.queue else { return }
        if batching {
            guard !s.deliveryScheduled else { return }
            s.deliveryScheduled = true
            queue.async { [self] in drain() }
        } else {
            queue.async { [self] in drain() }
        }
    }

    /// Delivers the burst that waits (batched) or the next item (unbatched), in order.
    private func drain() {
        let items = state.withLock { s -> [HubState<Layer>.Delivery] in
            guard batching else { return s.outbox.isEmpty ? [] : [s.outbox.removeFirst()] }
            s.deliveryScheduled = false
            defer { s.outbox.removeAll(keepingCapacity: true) }
            return s.outbox
        }
        for item in items {
            switch item {
            case .event(let event):
                gate.withGate {
                    guard !isClosed else { return }
                    // Read per event: a handler replaced by an earlier handler applies at once.
                    var route = HandlerRoute(handlers: state.withLock { $0.handlers })
                    Layer.route(event, &route)
                }
            case .run(let body):
                body()
            case .end:
                state.withLock { $0.handlers = Layer.noHandlers }
            }
        }
    }

    // MARK: User side

    /// Starts delivering to `queue` what waits and what comes (a hub made without a queue); later
    /// calls are ignored.
    package func start(queue: DispatchQueue) {
        state.withLock { s in
            guard s.queue == nil else { return }
            s.queue = queue
            guard !s.outbox.isEmpty else { return }
            if batching {
                s.deliveryScheduled = true
                queue.async { [self] in drain() }
            } else {
                for _ in s.outbox { queue.async { [self] in drain() } }
            }
        }
    }

    /// The handler in `slot`.
    package func handler<H>(_ slot: KeyPath<Layer.Handlers, H?>) -> H? {
        state.withLock { $0.handlers[keyPath: slot] }
    }

    /// Changes the handlers; ignored once the hub ended.
    package func setHandlers(_ change: (inout Layer.Handlers) -> Void) {
        state.withLock { s in
            guard !s.ended else { return }
            change(&s.handlers)
        }
    }

    /// A new stream of `Element` that first yields `replay` (read under the lock that registers it,
    /// so nothing produced in between is missed or repeated). Once the hub ended it is finished at
    /// once, after the replay when `replayAfterEnd` (a state stream still says `closed`).
    package func makeStream<Element: Sendable>(
        replayAfterEnd: Bool = true, replay: (inout HubState<Layer>) -> [Element]
    ) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .unbounded)
        let registered: Bool = state.withLock { s in
            if !s.ended || replayAfterEnd {
                for element in replay(&s) { continuation.yield(element) }
            }
            guard !s.ended else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s.streams.add(continuation)
            return true
        }
        if !registered { continuation.finish() }
        return stream
    }

    // MARK: End

    /// The user's close: `final` sets the layer's closed values (and may yield them to the
    /// streams) under the lock; then the queued events and the handlers are dropped and every
    /// stream finishes (after `afterLock`, run with no lock held). When it returns, no handler runs
    /// on another thread and none will start (a handler may call it: the gate is recursive).
    /// False when the hub had ended already.
    @discardableResult
    package func close(_ final: (inout HubState<Layer>) -> Void = { _ in }, afterLock: () -> Void = {}) -> Bool {
        defer { gate.waitForDeliveries() }
        let finish = state.withLock { s -> (@Sendable () -> Void)? in
            guard !s.ended else { return nil }
            s.ended = true
            closed.store(true, ordering: .releasing)
            final(&s)
            s.handlers = Layer.noHandlers
            s.outbox = []
            return s.streams.removeAllForFinishing()
        }
        guard let finish else { return false }
        afterLock()
        finish()
        return true
    }

    /// The layer ended by itself (`final` drops what the layer kept aside): no new events, every stream finishes now (after what it was
    /// yielded), what is queued is still delivered, and then the handlers are dropped, so a handler
    /// that captures its own object never keeps it alive.
    package func finish(_ final: (inout HubState<Layer>) -> Void = { _ in }) {
        let finish = state.withLock { s -> (@Sendable () -> Void)? in
            guard !s.ended else { return nil }
            s.ended = true
            final(&s)
            enqueue(.end, &s)
            return s.streams.removeAllForFinishing()
        }
        finish?()
    }
}
