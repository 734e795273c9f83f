import Logging
import Synchronization
import NiceWebRTCCore

/// Creating, opening, sending on and closing channels.
extension SctpCore {
    // MARK: Creating (any thread)

    func createChannel(label: String, options: DataChannelOptions) throws(DataChannelError) -> DataChannel {
        let reliability = try options.validate(label: label)
        return try locked { (a: inout Association) throws(DataChannelError) -> DataChannel in
            guard !a.closed else { throw DataChannelError(.closed, reason: "the SCTP transport is closed") }
            if let id = options.id {
                if let limit = a.negotiatedStreams, id >= limit {
                    throw DataChannelError(.noStreamAvailable, field: "id", reason: "id \(id) is beyond the \(limit) negotiated streams")
                }
                guard a.byStream[id] == nil, !a.channels.values.contains(where: { $0.id == id }) else {
                    throw DataChannelError(.invalidState, field: "id", reason: "id \(id) is in use")
                }
            }
            let object = DataChannel(
                core: self, key: nextKey(&a), label: label, protocol: options.protocol, ordered: options.ordered,
                reliability: reliability, negotiated: options.negotiated)
            let channel = Channel(object: object, id: options.id, acked: options.negotiated)
            a.channels[object.key] = channel
            if let id = options.id { a.byStream[id] = object.key }
            if a.state == .connected { try open(channel, &a) }
            return object
        }
    }

    /// At COMM_UP: every channel created before gets its id (DTLS role parity) and opens.
    func openPending(_ a: inout Association) {
        for channel in a.channels.values.sorted(by: { $0.object.key < $1.object.key }) where channel.state == .connecting {
            do throws(DataChannelError) {
                try open(channel, &a)
            } catch {
                let object = channel.object
                hub.post { object.deliverError(error) }
                setState(.closed, channel, &a)
            }
        }
    }

    private func open(_ channel: Channel, _ a: inout Association) throws(DataChannelError) {
        if channel.id == nil {
            channel.id = try allocateID(&a)
            if let id = channel.id { a.byStream[id] = channel.object.key }
        }
        guard let id = channel.id else { return }
        let object = channel.object
        if !object.negotiated {
            let open = DcepOpen(ordered: object.ordered, reliability: object.reliability, label: object.label, protocol: object.protocol)
            enqueue(Outgoing(kind: .data, key: object.key, stream: id, ppid: DataChannelPPID.dcep.rawValue, payload: DcepMessage.open(open).bytes, unordered: false, reliability: .reliable, buffered: 0, cost: 0), &a)
        }
        // As libwebrtc: open once the OPEN is on its way; data before the ACK goes ordered
        // (RFC 8832 §6), so it cannot overtake the OPEN.
        setState(.open, channel, &a)
    }

    /// RFC 8832 §6: the DTLS client takes even ids, the server odd ones; the lowest free one.
    private func allocateID(_ a: inout Association) throws(DataChannelError) -> UInt16 {
        let role = a.dtlsRole ?? dtls.role
        let limit = Int(a.negotiatedStreams ?? configuration.streams)
        var used = Set(a.byStream.keys)
        for c in a.channels.values { if let id = c.id { used.insert(id) } }
        var candidate = role == .client ? 0 : 1
        while candidate < min(limit, Int(DataChannelOptions.maximumID) + 1) {
            if !used.contains(UInt16(candidate)) { return UInt16(candidate) }
            candidate += 2
        }
        throw DataChannelError(.noStreamAvailable, field: "id", reason: "no free stream id below \(limit)")
    }

    // MARK: Sending (any thread)

    func send(_ message: DataChannelMessage, key: UInt64) throws(DataChannelError) {
        let size = message.count
        var epilogue = Epilogue()
        defer { run(epilogue) }
        // The gate orders this send against every other send and flush, so a message goes straight
        // into usrsctp only when nothing waits before it; `state` is held only for bookkeeping.
        sendGate.lock()
        defer { releaseGate() }
        enum Plan { case direct(UsrsctpSocket, Outgoing), queued }
        let plan = try step(&epilogue) { (a: inout Association) throws(DataChannelError) -> Plan in
            guard let channel = a.channels[key] else { throw DataChannelError(.notOpen, reason: "the channel is closed") }
            guard channel.state == .open, let id = channel.id else {
                throw DataChannelError(.notOpen, reason: "the channel is \(channel.state.rawValue)")
            }
            let limit = maxMessageSize(a)
            guard size <= limit else {
                throw DataChannelError(.messageTooLarge, field: "size", reason: "\(size) bytes exceed maxMessageSize \(limit)")
            }
            guard channel.queuedCost + Self.cost(ofQueued: size) <= configuration.sendBufferLimit else {
                throw DataChannelError(
                    .bufferFull, field: "bufferedAmount",
                    reason: "\(channel.buffered) bytes wait already (limit \(configuration.sendBufferLimit), \(Self.overheadPerQueuedMessage) B per message)")
            }
            let (ppid, payload) = message.wire
            let object = channel.object
            let outgoing = Outgoing(
                kind: .data, key: key, stream: id, ppid: ppid.rawValue, payload: payload, unordered: !object.ordered && channel.acked,
                reliability: object.reliability, buffered: size, cost: Self.cost(ofQueued: size))
            if a.outboundIsEmpty, a.state == .connected, let socket = a.socket, usrsctpHasRoom(socket, &a) {
                handing(&a)  // counted before the send: the cap is an upper estimate
                return .direct(socket, outgoing)
            }
            queue(outgoing, channel, &a)
            return .queued
        }
        guard case .direct(let socket, let o) = plan else { return }
        // The common case: straight into usrsctp, no copy kept, no lock of the receive side held.
        let result = o.payload.withUnsafeBytes { socket.send($0, stream: o.stream, ppid: o.ppid, unordered: o.unordered, reliability: o.reliability) }
        switch result {
        case .sent:
            counters.messagesSent.wrappingAdd(1, ordering: .relaxed)
            counters.bytesSent.wrappingAdd(UInt64(size), ordering: .relaxed)
        case .wouldBlock:
            step(&epilogue) { a in
                notHanded(&a)
                guard !a.closed, let channel = a.channels[key] else { return }
                queue(o, channel, &a)
            }
        case .tooLarge:
            throw DataChannelError(.messageTooLarge, field: "size", reason: "usrsctp refused \(size) bytes")
        case .failed(let e):
            throw DataChannelError(.sctpFailure, field: "usrsctp_sendv", reason: "errno \(e)")
        }
    }

    /// Appends a user message to the association's FIFO (gate held).
    private func queue(_ o: Outgoing, _ channel: Channel, _ a: inout Association) {
        channel.buffered += o.buffered
        channel.queuedCost += o.cost
        a.outbound.append(o)
        counters.messagesSent.wrappingAdd(1, ordering: .relaxed)
        counters.bytesSent.wrappingAdd(UInt64(o.buffered), ordering: .relaxed)
    }

    /// Releases ``sendGate``; a flush asked for meanwhile runs now (see ``requestFlush()``).
    func releaseGate() {
        sendGate.unlock()
        if flushPending.load(ordering: .sequentiallyConsistent) { requestFlush() }
    }

    /// Moves queued messages into usrsctp now, or hands that to the thread holding ``sendGate``
    /// (which runs it when it releases the gate): the context thread never waits for a sender.
    func requestFlush() {
        flushPending.store(true, ordering: .sequentiallyConsistent)
        for _ in 0..<64 {  // each turn makes progress or returns; bounded all the same
            guard flushPending.load(ordering: .sequentiallyConsistent) else { return }
            guard sendGate.tryLock() else { return }  // the holder re-checks the flag after unlocking
            flushPending.store(false, ordering: .sequentiallyConsistent)
            var epilogue = Epilogue()
            flushGated(&epilogue)
            sendGate.unlock()
            epilogue.flush = false  // this flush ran; a new request sets the flag again
            run(epilogue)
        }
        if flushPending.load(ordering: .sequentiallyConsistent) { scheduleService() }
    }

    /// Messages usrsctp may hold at once: it charges only payload bytes against its 4 MiB send
    /// buffer, and about 350 bytes of its own per message, so without a count a peer that never
    /// reads lets a million empty messages pile up in it (issue 17 §3). The count is of what
    /// usrsctp holds now (``usrsctpHeldMessages(_:_:)``), so a long transfer meets this cap only
    /// when that many messages really wait or fly unacknowledged, and goes on as soon as any are
    /// acknowledged: it never waits for usrsctp to drain (issue 17, the Chromium receiver stall:
    /// a cumulative count made the queue wait for a SACK that had been lost).
    static let usrsctpMessageLimit = 8192

    /// Whether usrsctp may take one more message: under the cap by the running estimate, or by a
    /// fresh measure (which then replaces the estimate).
    func usrsctpHasRoom(_ socket: UsrsctpSocket, _ a: inout Association) -> Bool {
        if a.messagesInUsrsctp < Self.usrsctpMessageLimit { return true }
        guard let held = usrsctpHeldMessages(socket, &a) else { return true }  // cannot tell: bytes bound only
        a.messagesInUsrsctp = held
        guard held < Self.usrsctpMessageLimit else {
            counters.usrsctpCapStops.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// An upper bound of the messages usrsctp holds for the association now (nil when it cannot
    /// say): those handed to it and not yet on the wire (their last DATA chunk not sent, counted by
    /// ``SctpWireCount``: they wait in usrsctp's stream and send queues, which no socket option
    /// counts) plus the DATA chunks sent and not yet acknowledged (`SCTP_STATUS` `sstat_unackdata`;
    /// a message is at least one chunk). Exact for messages of one chunk; a message in flight in
    /// pieces counts more than once. A message usrsctp abandons before sending it (partial
    /// reliability) stays counted as unsent until usrsctp's queue is next empty, when the counts
    /// start again. Under the state lock (usrsctp's socket calls take only usrsctp's locks).
    func usrsctpHeldMessages(_ socket: UsrsctpSocket, _ a: inout Association) -> Int? {
        guard let bytes = socket.outputQueueBytes() else { return nil }
        let onWire = wire.messagesOut
        if bytes == 0 {
            a.messagesHanded = onWire  // everything handed over left and was acknowledged
            return 0
        }
        guard let unacknowledged = socket.unacknowledgedChunks() else { return nil }
        return max(0, a.messagesHanded - onWire) + unacknowledged
    }

    /// A message is about to go into usrsctp (state lock held).
    func handing(_ a: inout Association) {
        a.messagesInUsrsctp += 1
        a.messagesHanded += 1
    }

    /// usrsctp refused the message ``handing(_:)`` counted.
    func notHanded(_ a: inout Association) {
        a.messagesInUsrsctp -= 1
        a.messagesHanded -= 1
    }

    /// What one queued message costs beyond its payload: the `Outgoing` slot and the payload's
    /// allocation, rounded up. An empty message is not free (issue 17 §3).
    static let overheadPerQueuedMessage = 128

    /// What a queued message of `size` payload bytes counts against ``Configuration/sendBufferLimit``.
    static func cost(ofQueued size: Int) -> Int { size + overheadPerQueuedMessage }

    /// W3C `maxMessageSize`: the peer's limit and ours.
    func maxMessageSize(_ a: Association) -> Int {
        (a.remote ?? SctpParameters()).sendLimit(localLimit: configuration.maxMessageSize)
    }

    /// Waits until `key`'s channel has room for `size` more bytes (or is gone).
    func waitForRoom(key: UInt64, size: Int) async {
        let waiterID = UInt64.random(in: 1...UInt64.max)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
                let wait = locked { a -> Bool in
                    guard !a.closed, !Task.isCancelled, let channel = a.channels[key], channel.state == .open,
                        channel.queuedCost + Self.cost(ofQueued: size) > configuration.sendBufferLimit
                    else { return false }
                    a.waiters[waiterID] = k
                    return true
                }
                if !wait { k.resume() }
            }
        } onCancel: {
            let k = locked { $0.waiters.removeValue(forKey: waiterID) }
            k?.resume()
        }
    }

    /// Queues a DCEP message or a stream reset (state lock held); it goes out once the lock is
    /// released (``Epilogue/flush``).
    func enqueue(_ outgoing: Outgoing, _ a: inout Association) {
        if let channel = a.channels[outgoing.key] { channel.buffered += outgoing.buffered }
        a.outbound.append(outgoing)
        a.flushWanted = true
    }

    /// Moves queued messages into usrsctp, oldest first, until its send buffer is full (gate held;
    /// `state` taken per message for the bookkeeping, never across the usrsctp call).
    private func flushGated(_ epilogue: inout Epilogue) {
        for _ in 0..<100_000 {  // bounded: one message per turn, the queue is bounded by the budget
            enum Next { case send(UsrsctpSocket, Outgoing), reset(UsrsctpSocket, UInt16), drop, stop }
            let next = step(&epilogue) { a -> Next in
                guard !a.closed, let socket = a.socket, a.state == .connected, a.outboundHead < a.outbound.count else { return .stop }
                let o = a.outbound[a.outboundHead]
                if o.kind == .reset { return .reset(socket, o.stream) }
                if o.ppid != DataChannelPPID.dcep.rawValue && a.channels[o.key] == nil { return .drop }  // the channel ended
                guard usrsctpHasRoom(socket, &a) else { return .stop }
                handing(&a)
                return .send(socket, o)
            }
            var sent = true
            switch next {
            case .stop:
                return
            case .drop:
                break
            case .reset(let socket, let stream):
                if !socket.resetOutgoing(stream) {
                    logger.debug("SCTP stream reset \(stream) refused (errno): will not retry")
                }
            case .send(let socket, let o):
                let result = o.payload.withUnsafeBytes {
                    socket.send($0, stream: o.stream, ppid: o.ppid, unordered: o.unordered, reliability: o.reliability)
                }
                if case .wouldBlock = result { sent = false }
                if case .failed(let e) = result { logger.debug("usrsctp_sendv on stream \(o.stream): errno \(e); dropped") }
            }
            let more = step(&epilogue) { a -> Bool in
                guard !a.closed else { return false }
                guard sent else {
                    notHanded(&a)
                    return false
                }
                popOutbound(&a)
                return true
            }
            guard more else { return }
        }
    }

    /// The head of the FIFO went into usrsctp (or nowhere): its accounting, the low-water event,
    /// the waiting writers.
    private func popOutbound(_ a: inout Association) {
        let o = a.outbound[a.outboundHead]
        a.outbound[a.outboundHead] = Outgoing(kind: .data, key: 0, stream: 0, ppid: 0, payload: [], unordered: false, reliability: .reliable, buffered: 0, cost: 0)
        a.outboundHead += 1
        if let channel = a.channels[o.key] {
            channel.queuedCost -= o.cost
            if o.buffered > 0 {
                let before = channel.buffered
                channel.buffered -= o.buffered
                if before > channel.lowThreshold && channel.buffered <= channel.lowThreshold {
                    let object = channel.object
                    hub.post { object.deliverBufferedAmountLow() }
                }
            }
        }
        if a.outboundHead >= a.outbound.count {
            a.outbound.removeAll(keepingCapacity: a.outbound.count < 1024)
            a.outboundHead = 0
        } else if a.outboundHead > 1024 && a.outboundHead * 2 > a.outbound.count {
            a.outbound.removeFirst(a.outboundHead)
            a.outboundHead = 0
        }
        if !a.waiters.isEmpty {
            a.resumeAfterUnlock += a.waiters.values
            a.waiters = [:]
        }
    }

    // MARK: Closing a channel

    func close(key: UInt64) {
        locked { a in
            guard let channel = a.channels[key] else { return }
            closeChannel(channel, &a)
        }
    }

    /// RFC 8831 §6.7: `closing`, our outgoing stream is reset after what is queued; the peer's reset
    /// back makes it `closed`. A channel without a stream yet closes at once.
    func closeChannel(_ channel: Channel, _ a: inout Association) {
        switch channel.state {
        case .closed, .closing:
            return
        case .connecting:
            setState(.closed, channel, &a)
        case .open:
            guard let id = channel.id, a.state == .connected else {
                setState(.closed, channel, &a)
                return
            }
            setState(.closing, channel, &a)
            channel.object.inbox.discard()
            channel.resetSent = true
            enqueue(Outgoing(kind: .reset, key: channel.object.key, stream: id, ppid: 0, payload: [], unordered: false, reliability: .reliable, buffered: 0, cost: 0), &a)
        }
    }

    // MARK: Reads for the API

    func channelSnapshot(_ key: UInt64) -> (state: DataChannelState, id: UInt16?, buffered: Int, threshold: Int)? {
        locked { a in
            guard let c = a.channels[key] else { return nil }
            return (c.state, c.id, c.buffered, c.lowThreshold)
        }
    }

    func setLowThreshold(_ value: Int, key: UInt64) {
        locked { a in a.channels[key]?.lowThreshold = max(0, value) }
    }

    /// SCTP's smoothed round-trip time over the association once it is up (for stats; a socket
    /// read under the state lock, as the socket allows).
    var roundTripTime: Duration? {
        locked { a in a.state == .connected ? a.socket?.smoothedRoundTripTime() : nil }
    }

    /// The primary path's congestion state once the association is up (for stats).
    var pathStatus: SctpPathStatus? {
        locked { a in a.state == .connected ? a.socket?.pathStatus() : nil }
    }

    /// The channels of the association now, by creation order (for stats).
    var liveChannels: [DataChannel] {
        locked { a in a.channels.values.sorted { $0.object.key < $1.object.key }.map(\.object) }
    }

    var transportSnapshot: (state: SctpTransportState, maxMessageSize: Int, maxChannels: Int?) {
        locked { a in (a.state, maxMessageSize(a), a.negotiatedStreams.map(Int.init)) }
    }
}

// MARK: A hostile peer, for tests

extension SctpCore {
    /// Sends `payload` on `stream` with any PPID, bypassing every channel check: what a hostile (but
    /// DTLS-authenticated) peer can put on the wire. Internal; used by the hostile-input tests.
    func sendRaw(stream: UInt16, ppid: UInt32, payload: [UInt8], unordered: Bool = false) -> Bool {
        sendGate.lock()
        defer { releaseGate() }
        guard let socket = state.withLock({ a -> UsrsctpSocket? in
            guard a.state == .connected, let s = a.socket else { return nil }
            a.messagesHanded += 1  // as every message handed over, so the unsent count stays true
            return s
        }) else { return false }
        let r = payload.withUnsafeBytes { socket.send($0, stream: stream, ppid: ppid, unordered: unordered, reliability: .reliable) }
        if case .sent = r { return true }
        return false
    }
}
