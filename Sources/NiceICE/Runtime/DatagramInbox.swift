import Dispatch
import Synchronization

/// Where received datagrams wait for the user: a handler called on the user's queue in batches, and
/// any number of `AsyncStream`s. Used by ``EventHub`` for ICE datagrams and by NiceWebRTC's DTLS
/// transport for decrypted ones, so both have the same batching, limits and close semantics.
///
/// `deliver` runs on the producer's thread (normally the context thread) and never calls user code:
/// it copies the bytes once, yields them to the streams and appends them to the handler's batch;
/// one `queue.async` per batch runs the handler under `gate`, the owner's ``DeliveryGate``, so the
/// owner's `close()` can promise that no handler starts after it returns.
package final class DatagramInbox: Sendable {
    struct Slots: Sendable {
        var handler: (@Sendable (Datagram) -> Void)?
        var queue: DispatchQueue?
        var batch: [Datagram] = []
        var drainScheduled = false
        var streams: [UInt64: AsyncStream<Datagram>.Continuation] = [:]
        var nextStreamID: UInt64 = 0
        var closed = false
    }

    private let slots = Locked(Slots())
    private let gate: DeliveryGate
    private let closedFlag = Atomic<Bool>(false)
    /// Most datagrams waiting for the handler's queue, and buffered per stream.
    package let limit: Int
    package let delivered = Atomic<UInt64>(0)
    package let deliveredBytes = Atomic<UInt64>(0)
    /// Datagrams dropped because the handler's queue fell `limit` datagrams behind.
    package let dropped = Atomic<UInt64>(0)

    package init(limit: Int, gate: DeliveryGate) {
        self.limit = limit
        self.gate = gate
    }

    /// Hands one datagram to the handler and the streams (any thread; never calls user code).
    package func deliver(_ bytes: UnsafeRawBufferPointer, component: Int) {
        delivered.wrappingAdd(1, ordering: .relaxed)
        deliveredBytes.wrappingAdd(UInt64(bytes.count), ordering: .relaxed)
        let datagram = Datagram(bytes: Array(bytes), component: component)
        let drainOn = slots.withLock { r -> DispatchQueue? in
            guard !r.closed else { return nil }
            for c in r.streams.values { c.yield(datagram) }
            guard r.handler != nil || r.queue == nil else { return nil }
            guard r.batch.count < limit else {  // a stalled handler queue drops, like a socket buffer
                dropped.wrappingAdd(1, ordering: .relaxed)
                return nil
            }
            r.batch.append(datagram)
            guard let q = r.queue, !r.drainScheduled else { return nil }
            r.drainScheduled = true
            return q
        }
        drainOn?.async { [self] in drain() }
    }

    private func drain() {
        let (batch, handler) = slots.withLock { r in
            r.drainScheduled = false
            defer { r.batch.removeAll(keepingCapacity: true) }
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

    /// The handler, read when a batch is delivered.
    package var handler: (@Sendable (Datagram) -> Void)? {
        get { slots.withLock { $0.handler } }
        set { slots.withLock { r in if !r.closed { r.handler = newValue } } }
    }

    /// Starts delivering to the handler on `queue` (datagrams received earlier are kept, up to the
    /// limit, and delivered then). Later calls are ignored.
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

    /// A live stream of datagrams (no replay), buffering at most `limit` of them; finished at once
    /// after ``close()``.
    package func makeStream() -> AsyncStream<Datagram> {
        let (stream, continuation) = AsyncStream.makeStream(of: Datagram.self, bufferingPolicy: .bufferingOldest(limit))
        let id: UInt64? = slots.withLock { r in
            guard !r.closed else { return nil }
            r.nextStreamID += 1
            r.streams[r.nextStreamID] = continuation
            return r.nextStreamID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in _ = self?.slots.withLock { $0.streams.removeValue(forKey: id) } }
        return stream
    }

    /// Drops the handler and what waits for it, finishes every stream; nothing is delivered after.
    /// The owner passes its gate afterwards (see ``DeliveryGate``).
    package func close() {
        closedFlag.store(true, ordering: .releasing)
        let streams = slots.withLock { r in
            r.closed = true
            r.handler = nil
            r.batch = []
            defer { r.streams = [:] }
            return Array(r.streams.values)
        }
        streams.forEach { $0.finish() }
    }
}
