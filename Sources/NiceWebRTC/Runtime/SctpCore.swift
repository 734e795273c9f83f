import Dispatch
import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// The owner of one SCTP association over one DTLS transport (RFC 8261) and of its data channels
/// (RFC 8831, DCEP RFC 8832).
///
/// **Threads.** Two locks, as libdatachannel's send and receive mutexes. `state` (the bookkeeping:
/// channels, the send queue, budgets) is held on the context thread while DTLS plaintext goes in
/// (``dtlsDidReceive(_:)``) and while received messages and notifications are read and dispatched
/// (``service()``, scheduled by usrsctp's upcall); user threads take it only for short bookkeeping
/// steps, never across a usrsctp call. ``sendGate`` orders every `usrsctp_sendv` and stream reset
/// (caller's thread, or whoever flushes the queue); the context thread never waits for it: when a
/// sender holds it, the flush is handed over (``requestFlush()``). usrsctp's own timer thread calls
/// only ``usrsctpWrite(_:)`` (to DTLS) and ``usrsctpUpcall()`` (schedules ``service()``), neither
/// of which takes a lock of ours but leaves (``SctpWireCount``'s, ``SctpWatchdog``'s, the test-only
/// packet filter's). The watchdog's timer (context thread, only while DATA is unacknowledged) reads
/// usrsctp's status under `state`, then resends the last DATA packet holding only the send gate
/// (`tryLock`), as a send does.
/// No user code runs under either lock: events are posted to the transport's serial queue. The socket is closed under the gate once `state` detached it, so no
/// send uses it after (and no receive: reads find `socket == nil`).
///
/// Lock order: `sendGate` → `state` → usrsctp's locks → (write callback) DTLS engine (released before the
/// datagram goes to ICE) → `nice_agent_send`; usrsctp's locks → (upcall) the schedule flag. Nothing
/// under usrsctp's locks takes `state`; DTLS hands plaintext up only after releasing its own lock;
/// and what libnice emits from inside `nice_agent_send` reaches this association only as a context
/// job (``dtlsStateDidChange()`` never reads inline), so there is no cycle and no re-entry.
final class SctpCore: UsrsctpEndpoint, DtlsUpperLayer, Sendable {
    struct Configuration: Sendable {
        var localPort: UInt16
        var maxMessageSize: Int
        var streams: UInt16
        var sendBufferLimit: Int
        var receiveBufferLimit: Int
    }

    /// One message (or stream reset) waiting for room in usrsctp's send buffer.
    struct Outgoing {
        enum Kind { case data, reset }
        var kind: Kind
        var key: UInt64
        var stream: UInt16
        var ppid: UInt32
        var payload: [UInt8]
        var unordered: Bool
        var reliability: DataChannelReliability
        /// Bytes that count in the channel's bufferedAmount (DCEP messages do not).
        var buffered: Int
        /// What it counts against the channel's send budget (payload + overhead; 0 for DCEP).
        var cost: Int
    }

    /// A channel as the association sees it.
    final class Channel {
        let object: DataChannel
        var id: UInt16?
        var state: DataChannelState = .connecting
        var acked: Bool
        /// W3C `bufferedAmount`: payload bytes waiting in our queue.
        var buffered = 0
        /// What the waiting messages cost (payload + a fixed overhead each): the send budget's measure.
        var queuedCost = 0
        var lowThreshold = 0
        var resetSent = false

        init(object: DataChannel, id: UInt16?, acked: Bool) {
            self.object = object
            self.id = id
            self.acked = acked
        }
    }

    struct Association {
        var socket: UsrsctpSocket?
        var state: SctpTransportState = .connecting
        var remote: SctpParameters?
        var dtlsRole: DtlsRole?
        var connectCalled = false
        /// SCTP packets that arrived before we called connect (the peer's INIT can beat our DTLS
        /// notification); bounded.
        var early: [[UInt8]] = []
        var channels: [UInt64: Channel] = [:]
        var byStream: [UInt16: UInt64] = [:]
        var outbound: [Outgoing] = []
        var outboundHead = 0
        var partial: [UInt8] = []
        var partialDiscarding = false
        var negotiatedStreams: UInt16?
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiting writers to wake once the lock is released: resuming under it would deadlock
        /// with a cancellation handler (the runtime holds the task's lock, the handler wants ours).
        var resumeAfterUnlock: [CheckedContinuation<Void, Never>] = []
        var nextKey: UInt64 = 0
        var closed = false
        /// Something was queued (or usrsctp has room again): ``requestFlush()`` once unlocked.
        var flushWanted = false
        /// The socket the association ended with: closed once the lock is released, under the
        /// send gate (a sender may still be inside `usrsctp_sendv` with it).
        var socketToClose: UsrsctpSocket?
        /// An upper estimate of the messages usrsctp holds: measured (``SctpCore/usrsctpHeldMessages(_:_:)``)
        /// whenever it reaches ``SctpCore/usrsctpMessageLimit``, +1 for each message handed over
        /// since. usrsctp's send buffer counts payload bytes only, so tiny messages are capped by
        /// count here.
        var messagesInUsrsctp = 0
        /// Messages handed to `usrsctp_sendv` (cumulative; set to ``SctpWireCount/messagesOut``
        /// when usrsctp holds nothing): with the wire count, what waits in usrsctp unsent.
        var messagesHanded = 0

        var outboundIsEmpty: Bool { outboundHead >= outbound.count }
    }

    let id: UInt
    let dtls: DtlsCore
    let configuration: Configuration
    let hub: SctpHub
    let logger: Logger
    let state: Confined<Association>
    let serviceScheduled = Atomic<Bool>(false)
    /// Orders every `usrsctp_sendv` and stream reset (see ``SendGate``); taken before `state`.
    let sendGate = SendGate()
    /// A flush was asked for while someone held ``sendGate``: the holder runs it on release.
    let flushPending = Atomic<Bool>(false)
    /// Received bytes not yet taken by the user (all channels).
    let pendingBytes = Atomic<Int>(0)
    let readPaused = Atomic<Bool>(false)
    let counters = SctpCounters()
    /// What usrsctp put on the wire, as the write callback sees it (see ``SctpWireCount``).
    let wire = SctpWireCount()
    /// Resends the last DATA packet when usrsctp stalls with data unacknowledged (usrsctp#750;
    /// see ``SctpWatchdog``).
    let watchdog = SctpWatchdog()
    /// Test-only: see ``setPacketFilter(_:)``.
    let packetFilter = Locked<PacketFilter?>(nil)
    let hasPacketFilter = Atomic<Bool>(false)

    static let earlyLimit = 16

    private init(id: UInt, dtls: DtlsCore, configuration: Configuration, queue: DispatchQueue, logger: Logger) {
        self.id = id
        self.dtls = dtls
        self.configuration = configuration
        self.logger = logger
        hub = SctpHub(queue: queue)
        state = Confined(Association())
        LiveObjects.born(.sctpCore)
    }

    deinit { LiveObjects.died(.sctpCore) }

    /// Creates the association's socket (bound to the local port) and attaches it above DTLS.
    static func make(dtls: DtlsCore, configuration: Configuration, queue: DispatchQueue, logger: Logger) throws(DataChannelError) -> SctpCore {
        let id = Usrsctp.reserveID()
        let core = SctpCore(id: id, dtls: dtls, configuration: configuration, queue: queue, logger: logger)
        Usrsctp.register(core, id: id)
        do throws(DataChannelError) {
            let socket = try UsrsctpSocket(id: id, localPort: configuration.localPort, streams: configuration.streams)
            core.locked { $0.socket = socket }
        } catch {
            Usrsctp.deregister(id)
            throw error
        }
        guard dtls.attachUpperLayer(core) else {
            core.locked { a in
                a.socket?.close()
                a.socket = nil
            }
            Usrsctp.deregister(id)
            throw DataChannelError(.invalidState, field: "dtlsTransport", reason: "the DTLS transport is closed or already carries SCTP")
        }
        core.dtlsStateDidChange()
        return core
    }

    /// What a locked step left to do once the lock is released.
    struct Epilogue {
        var wake: [CheckedContinuation<Void, Never>] = []
        var flush = false
        var closing: UsrsctpSocket?

        mutating func take(from a: inout Association) {
            wake += a.resumeAfterUnlock
            a.resumeAfterUnlock = []
            flush = flush || a.flushWanted
            a.flushWanted = false
            if let s = a.socketToClose {
                closing = s
                a.socketToClose = nil
            }
        }
    }

    /// Runs `body` under the association's lock, without running its epilogue: for the send path,
    /// which holds ``sendGate`` and runs the epilogue after releasing it.
    func step<R, E: Error>(_ epilogue: inout Epilogue, _ body: (inout Association) throws(E) -> R) throws(E) -> R {
        var after = Epilogue()
        defer {
            epilogue.wake += after.wake
            epilogue.flush = epilogue.flush || after.flush
            if let c = after.closing { epilogue.closing = c }
        }
        return try state.withLock { (a: inout Association) throws(E) -> R in
            defer { after.take(from: &a) }
            return try body(&a)
        }
    }

    /// Runs `body` under the association's lock; then, with no lock held, wakes the writers it
    /// released, closes a socket it detached and moves queued messages into usrsctp. Never call it
    /// while holding ``sendGate``.
    func locked<R, E: Error>(_ body: (inout Association) throws(E) -> R) throws(E) -> R {
        var epilogue = Epilogue()
        let result = try step(&epilogue, body)
        run(epilogue)
        return result
    }

    /// A step's epilogue, with no lock held.
    func run(_ epilogue: Epilogue) {
        for k in epilogue.wake { k.resume() }
        if let socket = epilogue.closing {
            // After every send that might still use it (they hold the gate), before anyone forgets
            // the id: the ABORT usrsctp sends on close goes out through the write callback.
            sendGate.lock()
            socket.close()
            sendGate.unlock()
            Usrsctp.deregister(id)
        }
        if epilogue.flush { requestFlush() }
    }

    // MARK: From DTLS

    func dtlsDidReceive(_ plaintext: UnsafeRawBufferPointer) {
        counters.packetsReceived.wrappingAdd(1, ordering: .relaxed)
        locked { a in
            guard !a.closed else { return }
            guard a.connectCalled, let socket = a.socket else {
                if a.early.count < Self.earlyLimit && plaintext.count <= 4096 { a.early.append(Array(plaintext)) }
                return
            }
            // Trace level only (the summary is built only then): every packet's chunks, as used to
            // tell a stalled sender from a stalled receiver (issue 17 §4).
            logger.trace("sctp in: \(SctpPacketSummary(plaintext))")
            if hasPacketFilter.load(ordering: .relaxed), !passesFilter(inbound: true, plaintext) { return }
            watchdogSawInbound(plaintext)
            socket.input(plaintext)
        }
        scheduleService()
    }

    /// Called from any thread, possibly from inside a call this association made under its own lock
    /// (usrsctp_sendv → write callback → DTLS → `nice_agent_send`, which emits libnice's signals
    /// inline on the context thread): so the news is read later, in a context job, never inline.
    func dtlsStateDidChange() {
        dtls.connection.executeOnContext { [weak self] in self?.readDtlsState() }
    }

    private func readDtlsState() {
        let dtlsState = dtls.change.state
        let ice = dtls.connection.iceConnectionState
        if dtlsState == .closed || dtlsState == .failed || ice == .failed || ice == .closed {
            let reason = dtlsState == .connected || dtlsState == .new || dtlsState == .connecting ? "ICE \(ice.rawValue)" : "DTLS \(dtlsState.rawValue)"
            end(reason: reason)
            return
        }
        guard dtlsState == .connected else { return }
        locked { a in
            if a.dtlsRole == nil { a.dtlsRole = dtls.role }
            startIfReady(&a)
        }
        scheduleService()
    }

    // MARK: From usrsctp

    func usrsctpWrite(_ packet: UnsafeRawBufferPointer) -> Bool {
        logger.trace("sctp out: \(SctpPacketSummary(packet))")
        wire.record(packet)
        watchdogSawOutbound(packet)
        return toDtls(packet)
    }

    /// An SCTP packet to DTLS (usrsctp's, or the watchdog's copy of one), through the test-only
    /// filter; false when DTLS refused it.
    func toDtls(_ packet: UnsafeRawBufferPointer) -> Bool {
        if hasPacketFilter.load(ordering: .relaxed), !passesFilter(inbound: false, packet) { return true }  // lost on the way
        do throws(DtlsError) {
            try dtls.send(packet)
            counters.packetsSent.wrappingAdd(1, ordering: .relaxed)
            return true
        } catch {
            return false
        }
    }

    func usrsctpUpcall() { scheduleService() }

    // MARK: Test-only packet filter

    /// Sees one plaintext SCTP packet: `inbound` (from DTLS, before usrsctp) or outbound (from
    /// usrsctp's write callback, before DTLS); false drops it.
    typealias PacketFilter = @Sendable (_ inbound: Bool, _ packet: UnsafeRawBufferPointer) -> Bool

    /// **Test-only** (internal, reached through `@testable import`): loses chosen SCTP packets
    /// between usrsctp and DTLS, in either direction, to reproduce a loss that cannot be aimed at
    /// from the ICE level (where everything is encrypted). The watchdog's resends pass it too, as
    /// usrsctp's packets do. An outbound packet dropped is reported to
    /// usrsctp as sent, as a datagram lost on the network is. The filter runs on the context thread
    /// under the association's state lock (inbound) or under usrsctp's locks (outbound, possibly on
    /// usrsctp's timer thread): it may take only leaf locks and must not call back into the
    /// association. Nil (the default) costs one
    /// relaxed atomic load per packet.
    func setPacketFilter(_ filter: PacketFilter?) {
        packetFilter.withLock { $0 = filter }
        hasPacketFilter.store(filter != nil, ordering: .relaxed)
    }

    private func passesFilter(inbound: Bool, _ packet: UnsafeRawBufferPointer) -> Bool {
        guard let filter = packetFilter.withLock({ $0 }) else { return true }
        return filter(inbound, packet)
    }

    /// One job on the context thread reads and writes what usrsctp has for us.
    func scheduleService() {
        guard serviceScheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        dtls.connection.executeOnContext { [weak self] in self?.service() }
    }

    func service() {
        serviceScheduled.store(false, ordering: .releasing)
        locked { a in
            guard !a.closed else { return }
            readAvailable(&a)
            a.flushWanted = true
        }
    }

    /// The user took `bytes` of received messages.
    func consumed(_ bytes: Int) {
        let left = pendingBytes.wrappingSubtract(bytes, ordering: .sequentiallyConsistent).newValue
        // Exactly one waker: the first `consumed` at or under half the budget takes the pause back.
        if left <= configuration.receiveBufferLimit / 2, readPaused.load(ordering: .sequentiallyConsistent),
            readPaused.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged
        {
            scheduleService()
        }
    }

    // MARK: Inside (lock held)

    private func startIfReady(_ a: inout Association) {
        guard !a.connectCalled, !a.closed, let remote = a.remote, let socket = a.socket else { return }
        a.connectCalled = true
        if let error = socket.connect(remotePort: remote.port) {
            logger.info("SCTP connect failed: errno \(error)")
            endLocked(&a, reason: "connect failed (errno \(error))")
            return
        }
        logger.debug("SCTP connecting to port \(remote.port)")
        let early = a.early
        a.early = []
        for packet in early { packet.withUnsafeBytes { socket.input($0) } }
    }

    func setRemote(_ remote: SctpParameters) throws(DataChannelError) {
        guard remote.maxMessageSize >= 0 else {
            throw DataChannelError(.invalidParameters, field: "maxMessageSize", reason: "must not be negative")
        }
        guard remote.port > 0 else { throw DataChannelError(.invalidParameters, field: "port", reason: "must be 1-65535") }
        try locked { (a: inout Association) throws(DataChannelError) in
            guard !a.closed else { throw DataChannelError(.closed, reason: "the SCTP transport is closed") }
            if let current = a.remote {
                guard current.port == remote.port else {
                    throw DataChannelError(.invalidState, field: "port", reason: "the remote SCTP port cannot change during an association")
                }
                a.remote = remote  // a renegotiation may change max-message-size
                return
            }
            a.remote = remote
            if dtls.change.state == .connected {
                if a.dtlsRole == nil { a.dtlsRole = dtls.role }
                startIfReady(&a)
            }
        }
        scheduleService()
    }

    // MARK: Ending

    /// The association ended (peer, DTLS, ICE, or `close()`): every channel ends `closed` with its
    /// event, the socket is aborted, waiting sends return.
    func end(reason: String) {
        locked { a in endLocked(&a, reason: reason) }
    }

    func endLocked(_ a: inout Association, reason: String) {
        guard !a.closed else { return }
        a.closed = true
        watchdogEnd()
        logger.debug("SCTP association ended: \(reason)")
        for channel in a.channels.values.sorted(by: { $0.object.key < $1.object.key }) {
            setState(.closed, channel, &a)
        }
        a.channels = [:]
        a.byStream = [:]
        a.outbound = []
        a.outboundHead = 0
        a.early = []
        a.partial = []
        if a.state != .closed {
            a.state = .closed
            hub.transportState(.closed)
        }
        a.resumeAfterUnlock += a.waiters.values
        a.waiters = [:]
        a.socketToClose = a.socket
        a.socket = nil
        if a.socketToClose == nil { Usrsctp.deregister(id) }
        hub.finish()
    }

    func setState(_ new: DataChannelState, _ channel: Channel, _ a: inout Association) {
        guard channel.state != new, channel.state != .closed else { return }
        channel.state = new
        let object = channel.object
        let id = channel.id
        object.observers.state.withLock { $0.lastID = id }
        object.observers.yield(new)
        if new == .closed {
            if let id = channel.id, a.byStream[id] == object.key { a.byStream[id] = nil }
            a.channels[object.key] = nil
            object.inbox.finish()
            object.observers.finish()
        }
        hub.post { object.deliverState(new) }
    }
}

/// The counters of one association, as atomics.
final class SctpCounters: Sendable {
    let packetsSent = Atomic<UInt64>(0)
    let packetsReceived = Atomic<UInt64>(0)
    let messagesSent = Atomic<UInt64>(0)
    let bytesSent = Atomic<UInt64>(0)
    let messagesReceived = Atomic<UInt64>(0)
    let bytesReceived = Atomic<UInt64>(0)
    let unknownStream = Atomic<UInt64>(0)
    let unknownPPID = Atomic<UInt64>(0)
    let malformedDcep = Atomic<UInt64>(0)
    let oversize = Atomic<UInt64>(0)
    let refusedChannels = Atomic<UInt64>(0)
    /// Times the send queue stopped because usrsctp held ``SctpCore/usrsctpMessageLimit`` messages.
    let usrsctpCapStops = Atomic<UInt64>(0)
    /// Times the watchdog resent the last DATA packet because usrsctp stalled (``SctpWatchdog``).
    let watchdogResends = Atomic<UInt64>(0)
}
