import Dispatch
import Synchronization

/// Where received datagrams wait for the user: a handler called on the user's queue in batches, and
/// any number of `AsyncStream`s. Used by ``EventHub`` for ICE datagrams and by NiceWebRTC's DTLS
/// transport for decrypted ones, so both have the same batching, limits and close semantics.
///
/// `deliver` runs on the producer's thread (normally the context thread) and never calls user code:
/// it copies the bytes once, appends them to each stream's buffer and to the handler's batch;
/// one `queue.async` per batch runs the handler under `gate`, the owner's ``DeliveryGate``, so the
/// owner's `close()` can promise that no handler starts after it returns.
///
/// A *context handler* (``contextHandler``), when set, takes every datagram instead: it runs inside
/// `deliver`, on the producer's thread, with the bytes borrowed (no copy, no hop, no buffer), under
/// its own gate (`directGate`), so a user handler running on the user's queue never holds up the
/// receive path and `close()` still promises that none starts after it returns.
///
/// `deliver` has one producer at a time (ICE: the context thread; DTLS: under its engine lock): a
/// datagram pushed to a stream after another thread's ``flush()`` woke the readers would wait for
/// the next burst's wake-up.
///
/// Every buffer is bounded in datagrams (`limit`) and in bytes (`byteLimit`, each datagram charged
/// its size plus ``itemOverhead``, so empty datagrams are not free). The handler's batch only keeps
/// datagrams while a handler is set: a connection read through streams alone (no handler, with or
/// without `start(queue:)`) keeps nothing for a handler that will never run.
package final class DatagramInbox: Sendable {
    struct Slots: Sendable {
        var handler: (@Sendable (Datagram) -> Void)?
        var queue: DispatchQueue?
        var batch: [Datagram] = []
        var batchBytes = 0
        var drainScheduled = false
        /// A flush is deferred to the end of the producer's loop iteration (see `deferFlush`).
        var flushPending = false
        var streams: [UInt64: WeakStream] = [:]
        var nextStreamID: UInt64 = 0
        var closed = false
    }

    /// A stream's buffer, held weakly so that an abandoned stream (iterator and stream released
    /// without finishing) frees its buffer and leaves the registry.
    struct WeakStream: Sendable {
        weak var buffer: DatagramStreamBuffer?
    }

    /// Bytes charged per datagram on top of its payload (the `Datagram` and its array's header).
    package static let itemOverhead = 64
    /// The default byte bound of each buffer: 8 MiB.
    package static let defaultByteLimit = 8 << 20

    private let slots = Locked(Slots())
    private let gate: DeliveryGate
    /// The context handler, read once per datagram while `hasDirect` is set. In a struct so that the
    /// generic lock holds a concrete field: a bare closure read and stored through the generic
    /// `withLock` is wrapped in reabstraction thunks (see `SrtpCore`'s packet handler).
    private struct DirectSlot: Sendable {
        var handler: ContextReceiveHandler?
    }
    private let direct = Locked(DirectSlot())
    private let hasDirect = Atomic<Bool>(false)
    /// Held while the context handler runs (see ``DeliveryGate``): separate from `gate`, so a
    /// handler on the user's queue and the context handler never wait for each other.
    private let directGate = DeliveryGate()
    private let closedFlag = Atomic<Bool>(false)
    /// Most datagrams waiting for the handler's queue, and buffered per stream.
    package let limit: Int
    /// Most bytes (payload plus ``itemOverhead`` each) waiting for the handler's queue, and
    /// buffered per stream.
    package let byteLimit: Int
    package let delivered = Atomic<UInt64>(0)
    package let deliveredBytes = Atomic<UInt64>(0)
    /// Datagrams that a receiver (the handler's batch, or a stream) had no room for.
    package let dropped = Atomic<UInt64>(0)

    /// Runs a job after the producer's current loop iteration, returning false when it cannot (not
    /// on the producer's thread): see ``deliver(_:component:)``.
    private let deferFlush: (@Sendable (@escaping @Sendable () -> Void) -> Bool)?

    /// Datagrams a batch collects before its hop to the handler's queue is scheduled at once instead
    /// of at the end of the loop iteration.
    static let eagerBatch = 64

    package init(
        limit: Int, byteLimit: Int = DatagramInbox.defaultByteLimit, gate: DeliveryGate,
        deferFlush: (@Sendable (@escaping @Sendable () -> Void) -> Bool)? = nil
    ) {
        self.limit = max(1, limit)
        self.byteLimit = max(1, byteLimit)
        self.gate = gate
        self.deferFlush = deferFlush
    }

    /// The cost of one datagram against `byteLimit`.
    static func cost(_ count: Int) -> Int { count + itemOverhead }

    /// Hands one datagram to the context handler when one is set (calling it here, on this thread),
    /// else to the handler and the streams (then never calls user code).
    package func deliver(_ bytes: UnsafeRawBufferPointer, component: Int) {
        delivered.wrappingAdd(1, ordering: .relaxed)
        deliveredBytes.wrappingAdd(UInt64(bytes.count), ordering: .relaxed)
        if hasDirect.load(ordering: .acquiring), let handler = direct.withLock({ $0.handler }) {
            directGate.withGate {
                guard !closedFlag.load(ordering: .acquiring) else { return }
                handler(bytes.bytes, component)
            }
            return
        }
        let datagram = Datagram(bytes: Array(bytes), component: component)
        let cost = Self.cost(bytes.count)
        var lost = false
        var startFlush = false
        let (drainOn, streams, wake) = slots.withLock { r -> (DispatchQueue?, [DatagramStreamBuffer], Bool) in
            guard !r.closed else { return (nil, [], true) }
            // One flush per loop iteration: the first datagram of the iteration defers it.
            if !r.flushPending && deferFlush != nil {
                r.flushPending = true
                startFlush = true
            }
            let wake = !r.flushPending
            let streams = r.streams.isEmpty ? [] : r.streams.values.compactMap(\.buffer)
            guard r.handler != nil else { return (nil, streams, wake) }
            // A stalled handler queue drops, like a socket buffer.
            guard r.batch.count < limit, r.batchBytes + cost <= byteLimit else {
                lost = true
                return (nil, streams, wake)
            }
            r.batch.append(datagram)
            r.batchBytes += cost
            guard let q = r.queue, !r.drainScheduled, wake || r.batch.count >= Self.eagerBatch else {
                return (nil, streams, wake)
            }
            r.drainScheduled = true
            return (q, streams, wake)
        }
        // Counted before the streams see the datagram, so a reader that got it sees the count.
        if lost { dropped.wrappingAdd(1, ordering: .relaxed) }
        for stream in streams where !stream.push(datagram, cost: cost, limit: limit, byteLimit: byteLimit, wake: wake) && !lost {
            lost = true
            dropped.wrappingAdd(1, ordering: .relaxed)
        }
        drainOn?.async { [self] in drain() }
        // The wake-ups (the hop to the handler's queue, a waiting stream reader) wait for the end of
        // the producer's loop iteration — libnice reads its socket dry in one dispatch — so one
        // wake-up carries the whole burst; a backlog of `eagerBatch` wakes its reader at once.
        // Off the producer's thread (`deferFlush` refuses), at once.
        if startFlush, !(deferFlush?({ [self] in flush() }) ?? false) { flush() }
    }

    /// The end of a loop iteration's burst: wakes the stream readers and schedules the handler's
    /// batch, unless already done.
    private func flush() {
        let (drainOn, streams) = slots.withLock { r -> (DispatchQueue?, [DatagramStreamBuffer]) in
            r.flushPending = false
            guard !r.closed else { return (nil, []) }
            let streams = r.streams.isEmpty ? [] : r.streams.values.compactMap(\.buffer)
            guard let q = r.queue, !r.drainScheduled, !r.batch.isEmpty else { return (nil, streams) }
            r.drainScheduled = true
            return (q, streams)
        }
        streams.forEach { $0.wake() }
        drainOn?.async { [self] in drain() }
    }

    private func drain() {
        let (batch, handler) = slots.withLock { r in
            r.drainScheduled = false
            defer {
                r.batch.removeAll(keepingCapacity: false)
                r.batchBytes = 0
            }
            return (r.batch, r.handler)
        }
        guard let handler else { return }
        gate.withGate {
            for d in batch {
                guard !closedFlag.load(ordering: .acquiring) else { return }
                handler(d)
            }
        }
    }

    /// The handler, read when a batch is delivered. Setting it to `nil` drops what waits for it.
    package var handler: (@Sendable (Datagram) -> Void)? {
        get { slots.withLock { $0.handler } }
        set {
            slots.withLock { r in
                guard !r.closed else { return }
                r.handler = newValue
                if newValue == nil {
                    r.batch = []
                    r.batchBytes = 0
                }
            }
        }
    }

    /// The context handler: while set, it takes every datagram, called by ``deliver(_:component:)``
    /// on the producer's thread. Setting it drops nothing already waiting for the handler or in a
    /// stream; those are still delivered. Ignored after ``close()``.
    package var contextHandler: ContextReceiveHandler? {
        get { direct.withLock { $0.handler } }
        set {
            direct.withLock { d in
                guard !closedFlag.load(ordering: .acquiring) else { return }
                d.handler = newValue
                hasDirect.store(newValue != nil, ordering: .releasing)
            }
        }
    }

    /// Stream readers suspended waiting for a datagram (tests).
    package var waitingReaders: Int {
        slots.withLock { $0.streams.values.compactMap(\.buffer) }.filter(\.isWaiting).count
    }

    /// Datagrams and bytes (with ``itemOverhead``) waiting for the handler.
    package var waitingForHandler: (count: Int, bytes: Int) { slots.withLock { ($0.batch.count, $0.batchBytes) } }

    /// Starts delivering to the handler on `queue` (datagrams received earlier while a handler was
    /// set are kept, within the limits, and delivered then). Later calls are ignored.
    package func start(queue: DispatchQueue) {
        let drain = slots.withLock { r -> Bool in
            guard r.queue == nil else { return false }
            r.queue = queue
            if !r.batch.isEmpty && !r.drainScheduled {
                r.drainScheduled = true
                return true
            }
            return false
        }
        if drain { queue.async { [self] in self.drain() } }
    }

    /// A live stream of datagrams (no replay), buffering at most `limit` datagrams and `byteLimit`
    /// bytes; newer ones are dropped while it is full. Finished after ``close()`` (what it buffered
    /// is still read first).
    package func makeStream() -> AsyncStream<Datagram> {
        let buffer = DatagramStreamBuffer()
        let id: UInt64? = slots.withLock { r in
            guard !r.closed else { return nil }
            r.nextStreamID += 1
            r.streams[r.nextStreamID] = WeakStream(buffer: buffer)
            return r.nextStreamID
        }
        if let id {
            buffer.onRelease = { [weak self] in _ = self?.slots.withLock { $0.streams.removeValue(forKey: id) } }
        } else {
            buffer.finish()
        }
        return AsyncStream(unfolding: { await buffer.next() }, onCancel: { buffer.cancel() })
    }

    /// Drops the handler and what waits for it, finishes every stream; nothing is delivered after.
    /// The owner passes its gate afterwards (see ``DeliveryGate``).
    package func close() {
        closedFlag.store(true, ordering: .releasing)
        let streams = slots.withLock { r in
            r.closed = true
            r.handler = nil
            r.batch = []
            r.batchBytes = 0
            defer { r.streams = [:] }
            return r.streams.values.compactMap(\.buffer)
        }
        streams.forEach { $0.finish() }
        direct.withLock { d in
            d.handler = nil
            hasDirect.store(false, ordering: .releasing)
        }
        // A context handler running on another thread finishes before close returns; one running
        // on this thread (it called close) is not waited for (the gate is recursive).
        directGate.waitForDeliveries()
    }
}

/// A handler called on the connection's context thread with each received datagram's bytes,
/// borrowed for the call (`RawSpan` cannot escape it), and its component.
package typealias ContextReceiveHandler = @Sendable (RawSpan, Int) -> Void

/// The buffer behind one ``DatagramInbox/makeStream()`` stream: bounded in datagrams and bytes,
/// one waiting reader at a time (an `AsyncStream` iterator is not shared).
///
/// Released with the stream: `AsyncStream(unfolding:)` holds the only strong reference, in its
/// closure, so an abandoned stream frees its datagrams and `onRelease` takes it out of the inbox.
final class DatagramStreamBuffer: Sendable {
    struct State: Sendable {
        var items: [Datagram] = []
        var head = 0
        var bytes = 0
        var finished = false
        var waiter: CheckedContinuation<Datagram?, Never>?

        /// Removes and returns the oldest datagram (there is one).
        mutating func take() -> Datagram {
            let d = items[head]
            head += 1
            bytes -= DatagramInbox.cost(d.bytes.count)
            if head == items.count {
                items.removeAll(keepingCapacity: items.count <= 64)
                head = 0
            } else if head >= 1024 && head * 2 >= items.count {
                items.removeFirst(head)
                head = 0
            }
            return d
        }
    }

    private let state = Locked(State())
    private let release = Locked<(@Sendable () -> Void)?>(nil)

    /// Called once from `deinit`.
    var onRelease: (@Sendable () -> Void)? {
        get { release.withLock { $0 } }
        set { release.withLock { $0 = newValue } }
    }

    deinit { release.withLock { $0 }?() }

    /// Appends a datagram, or hands it to the waiting reader when `wake` (else the reader is woken
    /// by ``wake()``, or here once ``DatagramInbox/eagerBatch`` datagrams wait). False when it was
    /// dropped (full).
    func push(_ d: Datagram, cost: Int, limit: Int, byteLimit: Int, wake: Bool = true) -> Bool {
        let (waiter, next, kept) = state.withLock { s -> (CheckedContinuation<Datagram?, Never>?, Datagram?, Bool) in
            guard !s.finished else { return (nil, nil, true) }
            if let w = s.waiter, wake {
                s.waiter = nil
                return (w, d, true)
            }
            guard s.items.count - s.head < limit, s.bytes + cost <= byteLimit else { return (nil, nil, false) }
            s.items.append(d)
            s.bytes += cost
            guard s.waiter != nil, s.items.count - s.head >= DatagramInbox.eagerBatch else { return (nil, nil, true) }
            let w = s.waiter
            s.waiter = nil
            return (w, s.take(), true)
        }
        if let waiter, let next { waiter.resume(returning: next) }
        return kept
    }

    /// Whether a reader is suspended waiting.
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    /// Hands the oldest buffered datagram to a waiting reader, if both exist.
    func wake() {
        let (waiter, next) = state.withLock { s -> (CheckedContinuation<Datagram?, Never>?, Datagram?) in
            guard let w = s.waiter, s.head < s.items.count else { return (nil, nil) }
            s.waiter = nil
            return (w, s.take())
        }
        if let waiter, let next { waiter.resume(returning: next) }
    }

    /// The next datagram; nil once finished and drained, or cancelled.
    func next() async -> Datagram? {
        // Fast path, no suspension: a datagram is buffered (a reader behind a burst), or finished.
        let buffered = state.withLock { s -> Datagram?? in
            if s.head < s.items.count { return .some(s.take()) }
            return s.finished ? .some(nil) : nil
        }
        if let buffered { return buffered }
        return await withCheckedContinuation { (k: CheckedContinuation<Datagram?, Never>) in
            let ready = state.withLock { s -> Datagram?? in
                if s.head < s.items.count { return .some(s.take()) }
                if s.finished { return .some(nil) }
                s.waiter = k
                return nil
            }
            if let ready { k.resume(returning: ready) }
        }
    }

    /// No more datagrams; what is buffered is still read.
    func finish() {
        let (waiter, next) = state.withLock { s -> (CheckedContinuation<Datagram?, Never>?, Datagram?) in
            s.finished = true
            defer { s.waiter = nil }
            // A reader may wait beside datagrams whose wake-up was deferred: it gets them first.
            guard let w = s.waiter else { return (nil, nil) }
            return (w, s.head < s.items.count ? s.take() : nil)
        }
        waiter?.resume(returning: next)
    }

    /// The reading task was cancelled: drop everything and end.
    func cancel() {
        let waiter = state.withLock { s in
            s.finished = true
            s.items = []
            s.head = 0
            s.bytes = 0
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }
}
