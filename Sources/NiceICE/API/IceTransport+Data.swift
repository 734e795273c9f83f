import Foundation
import Synchronization

/// What went through a connection's data path, read from atomic counters (no allocation, no hop):
/// cheap enough to poll for metrics.
public struct DataCounters: Sendable, Hashable {
    /// Datagrams and bytes libnice accepted from `send`/`write`.
    public var datagramsSent: UInt64
    public var bytesSent: UInt64
    /// Datagrams `send` accepted that libnice then refused (its TCP queue busy, consent lost,
    /// socket buffer full) and that were dropped, as UDP would.
    public var datagramsDropped: UInt64
    /// Datagrams and bytes delivered to the receive handler and the
    /// ``IceTransport/receivedDatagrams()`` streams (each counted once, also when a receiver then
    /// had no room for it). Datagrams that a layer above ICE takes instead — NiceWebRTC's DTLS
    /// transport owns component 1 — are not counted here: ``datagramsArrived`` counts everything.
    public var datagramsReceived: UInt64
    public var bytesReceived: UInt64
    /// Every datagram and byte libnice handed to the connection, on any component, counted before
    /// it is routed (to the receive handler and streams, or to a layer above ICE). STUN, which
    /// libnice answers itself, is not included. Equal to ``datagramsReceived`` when no layer runs
    /// above ICE; W3C's `packetsReceived` / `bytesReceived` of the transport and candidate pair.
    public var datagramsArrived: UInt64
    public var bytesArrived: UInt64
    /// Received datagrams that a receiver had no room for: the receive handler's queue, or a
    /// ``IceTransport/receivedDatagrams()`` stream, was
    /// ``IceTransport/Configuration/receiveStreamBufferLimit`` datagrams or
    /// ``IceTransport/Configuration/receiveBufferByteLimit`` bytes behind. A datagram that every
    /// receiver got is never counted, whether or not ``IceTransport/start(queue:)`` was called.
    public var receiveDropped: UInt64
}

extension IceTransport {
    /// Sends one datagram on the selected pair of `component`. Any thread; never blocks.
    ///
    /// **When the sender outruns the network.** A UDP-only connection sends on the calling thread:
    /// if the socket's buffer is full libnice refuses and this throws `sendFailed` (the datagram is
    /// dropped, as with UDP). A connection that can use TCP queues the datagram for the context
    /// thread (see <doc:ThreadingAndLifetime>): past 128 KiB waiting (each datagram charged 64 B on top of its bytes) this
    /// throws `sendQueueFull`; a queued datagram still unsent after 5 s is dropped and counted in
    /// ``DataCounters/datagramsDropped``. To wait for room instead of dropping, use ``write(_:component:)``.
    ///
    /// - Throws: ``IceError`` `datagramTooLarge` over ``maximumDatagramSize``, `notConnected` before a
    ///   pair is selected, `closed` after close, `sendFailed` when libnice refuses (consent revoked,
    ///   socket buffer full), `sendQueueFull` (see above).
    public func send(_ bytes: UnsafeRawBufferPointer, component: Int = 1) throws(IceError) {
        guard bytes.count <= Self.maximumDatagramSize else {
            throw IceError(.datagramTooLarge, field: "bytes", reason: "\(bytes.count) bytes exceed the \(Self.maximumDatagramSize)-byte limit")
        }
        guard (1...configuration.componentCount).contains(component) else {
            throw IceError(.invalidState, field: "component", reason: "component \(component) does not exist")
        }
        guard !hub.isClosed else { throw IceError(.closed, reason: "the connection is closed") }
        try core.send(bytes, component: UInt32(component)).get()
    }

    /// Sends one datagram (see ``send(_:component:)-(UnsafeRawBufferPointer,_)``), without a copy.
    public func send(_ bytes: [UInt8], component: Int = 1) throws(IceError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(IceError) in try send(buffer, component: component) }
        }
        try result.get()
    }

    /// Sends one datagram from any contiguous bytes (`Data`, `[UInt8]`, `ByteBuffer` views, …)
    /// without a copy (see ``send(_:component:)-(UnsafeRawBufferPointer,_)``).
    public func send(_ bytes: some ContiguousBytes, component: Int = 1) throws(IceError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(IceError) in try send(buffer, component: component) }
        }
        try result.get()
    }

    /// Sends one datagram, waiting for room instead of dropping when the sender outruns the
    /// network: while the send queue is full (TCP-capable connections), and for up to 50 ms while
    /// the UDP socket's buffer is full. Returns once libnice has the datagram (or, on the queued
    /// path, once it is queued).
    ///
    /// - Throws: as ``send(_:component:)-(UnsafeRawBufferPointer,_)`` for everything but a full queue or
    ///   buffer; `cancelled` when the task is cancelled while waiting.
    public func write(_ bytes: [UInt8], component: Int = 1) async throws(IceError) {
        var retries = 0
        while true {
            do {
                try send(bytes, component: component)
                return
            } catch where error.code == .sendQueueFull {
                await core.waitForSendRoom()
            } catch where error.code == .sendFailed && !core.sendsOnContext && retries < 50 {
                retries += 1
                try? await Task.sleep(for: .milliseconds(1))
            }
            if Task.isCancelled { throw IceError(.cancelled, reason: "the writing task was cancelled") }
        }
    }

    /// The fastest way to receive: called **on the connection's context thread**, inside libnice's
    /// receive callback, with each datagram's bytes borrowed for the call (a `RawSpan`, which cannot
    /// escape it) and its component. No copy, no thread hop, no buffer: the datagram is handled
    /// before libnice reads the next one.
    ///
    /// While it is set it takes every datagram: ``receiveHandler`` and the
    /// ``receivedDatagrams()`` streams get none (what they already hold is still delivered).
    /// It is called from the moment it is set, whether or not ``start(queue:)`` was called.
    /// It runs under its own gate, so after ``close()`` returns no call starts (a call on another
    /// thread has finished; the handler may call `close()` itself). A layer above ICE that takes
    /// component 1 (NiceWebRTC's DTLS transport) keeps taking it.
    ///
    /// The handler holds up every connection on the same ``NiceContext``, so it must be quick and
    /// must never block or wait for the context (no `await`, no waiting for another handler).
    /// It may call ``send(_:component:)-(UnsafeRawBufferPointer,_)`` (a relay or an echo needs no
    /// copy), read the properties and call `close()`; to keep the bytes, copy them
    /// (`bytes.withUnsafeBytes { Array($0) }`).
    ///
    /// ```swift
    /// transport.contextReceiveHandler = { bytes, component in
    ///     bytes.withUnsafeBytes { try? transport.send($0, component: component) }   // an echo
    /// }
    /// ```
    ///
    /// Measured (`scripts/bench.sh`, 1,200-B datagrams, one run): 1.02× the plain-C libnice rate,
    /// where ``receiveHandler`` reaches 0.95× (one copy per datagram and one hop to the start queue
    /// per burst).
    public var contextReceiveHandler: (@Sendable (_ bytes: RawSpan, _ component: Int) -> Void)? {
        get { hub.inbox.contextHandler }
        set { hub.inbox.contextHandler = newValue }
    }

    /// The data path's counters, read without allocation or a thread hop.
    public var counters: DataCounters {
        DataCounters(
            datagramsSent: core.sentDatagrams.load(ordering: .relaxed),
            bytesSent: core.sentBytes.load(ordering: .relaxed),
            datagramsDropped: core.droppedDatagrams.load(ordering: .relaxed),
            datagramsReceived: hub.inbox.delivered.load(ordering: .relaxed),
            bytesReceived: hub.inbox.deliveredBytes.load(ordering: .relaxed),
            datagramsArrived: core.arrivedDatagrams.load(ordering: .relaxed),
            bytesArrived: core.arrivedBytes.load(ordering: .relaxed),
            receiveDropped: hub.inbox.dropped.load(ordering: .relaxed))
    }
}
