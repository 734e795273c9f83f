import Logging
import Synchronization
import NiceWebRTCCore

/// Reading the association: messages, DCEP, notifications (lock held, context thread).
extension SctpCore {
    /// The size of one `usrsctp_recvv`; longer messages arrive in pieces and are put together.
    static let readChunk = 65_536
    /// Reads per service run, then the run yields the context thread and comes back.
    static let readsPerRun = 512

    func readAvailable(_ a: inout Association) {
        guard let socket = a.socket else { return }
        withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 8) { buffer in
            for _ in 0..<Self.readsPerRun {
                guard !a.closed else { return }
                if pendingBytes.load(ordering: .sequentiallyConsistent) > configuration.receiveBufferLimit {
                    // The user is behind: stop reading; SCTP's window closes; `consumed` resumes us.
                    // `consumed` may have run the budget down between the load and the store, seen
                    // no pause and scheduled nothing: look again after the store (each side sees the
                    // other's write), and take the pause back when nobody else will resume us.
                    readPaused.store(true, ordering: .sequentiallyConsistent)
                    guard pendingBytes.load(ordering: .sequentiallyConsistent) <= configuration.receiveBufferLimit / 2,
                        readPaused.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged
                    else { return }  // still over (a later `consumed` sees the pause), or `consumed` resumed us
                    continue
                }
                if readPaused.load(ordering: .sequentiallyConsistent) {
                    _ = readPaused.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent)
                }
                switch socket.receive(into: buffer) {
                case .empty:
                    return
                case .failed(let e):
                    logger.debug("usrsctp_recvv: errno \(e)")
                    return
                case .endOfStream:
                    endLocked(&a, reason: "the peer shut the association down")
                    return
                case .data(let r):
                    let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<r.count])
                    if r.isNotification {
                        if let n = SctpNotification(bytes) { handle(n, &a) }
                    } else {
                        received(bytes, r, &a)
                    }
                }
            }
            scheduleService()  // more may be waiting
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer, _ r: UsrsctpSocket.Received, _ a: inout Association) {
        logger.trace("sctp read: \(bytes.count) bytes sid=\(r.stream) ssn=\(r.ssn) tsn=\(r.tsn) ppid=\(r.ppid)\(r.isEndOfRecord ? " EOR" : "")")
        let limit = configuration.maxMessageSize
        guard r.isEndOfRecord else {
            if !a.partialDiscarding {
                if a.partial.count + bytes.count > limit {
                    a.partialDiscarding = true
                    a.partial = []
                } else {
                    a.partial.append(contentsOf: bytes)
                }
            }
            return
        }
        if a.partialDiscarding || a.partial.count + bytes.count > limit {
            a.partialDiscarding = false
            a.partial = []
            counters.oversize.wrappingAdd(1, ordering: .relaxed)
            refuse(stream: r.stream, DataChannelError(.protocolViolation, field: "size", reason: "the peer sent a message over our \(limit)-byte max-message-size"), &a)
            return
        }
        if a.partial.isEmpty {
            dispatch(bytes, stream: r.stream, ppid: r.ppid, &a)
        } else {
            a.partial.append(contentsOf: bytes)
            let whole = a.partial
            a.partial = []
            whole.withUnsafeBytes { dispatch($0, stream: r.stream, ppid: r.ppid, &a) }
        }
    }

    private func dispatch(_ payload: UnsafeRawBufferPointer, stream: UInt16, ppid: UInt32, _ a: inout Association) {
        if ppid == DataChannelPPID.dcep.rawValue {
            let message: DcepMessage
            do throws(DataChannelError) {
                message = try DcepMessage(parsing: payload)
            } catch {
                counters.malformedDcep.wrappingAdd(1, ordering: .relaxed)
                logger.debug("malformed DCEP on stream \(stream): \(error.reason)")
                if let key = a.byStream[stream], let channel = a.channels[key] {
                    let object = channel.object
                    let failure = error
                    hub.post { object.deliverError(failure) }
                }
                return
            }
            switch message {
            case .open(let open): peerOpened(open, stream: stream, &a)
            case .ack: if let key = a.byStream[stream] { a.channels[key]?.acked = true }
            }
            return
        }
        guard let message = DataChannelMessage(ppid: ppid, payload: payload) else {
            counters.unknownPPID.wrappingAdd(1, ordering: .relaxed)
            return
        }
        guard let key = a.byStream[stream], let channel = a.channels[key], channel.state == .open || channel.state == .closing else {
            counters.unknownStream.wrappingAdd(1, ordering: .relaxed)
            return
        }
        counters.messagesReceived.wrappingAdd(1, ordering: .relaxed)
        counters.bytesReceived.wrappingAdd(UInt64(message.count), ordering: .relaxed)
        pendingBytes.wrappingAdd(DataChannelInbox.cost(of: message), ordering: .sequentiallyConsistent)
        channel.object.counters.received(message.count)
        channel.object.inbox.push(message)
    }

    /// RFC 8832 §6: DATA_CHANNEL_OPEN from the peer makes a channel, answered with an ACK.
    private func peerOpened(_ open: DcepOpen, stream: UInt16, _ a: inout Association) {
        if let key = a.byStream[stream], a.channels[key] != nil {
            counters.malformedDcep.wrappingAdd(1, ordering: .relaxed)
            logger.debug("DCEP OPEN on stream \(stream), which a channel uses already: ignored")
            return
        }
        if let role = a.dtlsRole, DataChannelOptions.isOwnStreamID(stream, dtlsRole: role) {
            // The peer must use its own parity; taking it would collide with our next channel.
            counters.malformedDcep.wrappingAdd(1, ordering: .relaxed)
            logger.debug("DCEP OPEN on our stream parity (\(stream)): refused")
            _ = a.socket?.resetOutgoing(stream)
            return
        }
        guard hub.acceptsChannel else {
            // Nobody listens and the unclaimed channels are at their limit: refuse (reset the
            // stream, no ACK) instead of opening a channel nobody could reach.
            counters.refusedChannels.wrappingAdd(1, ordering: .relaxed)
            logger.debug("DCEP OPEN on stream \(stream) refused: \(SctpHub.unclaimedLimit) channels wait unclaimed")
            _ = a.socket?.resetOutgoing(stream)
            return
        }
        let object = DataChannel(
            core: self, key: nextKey(&a), label: open.label, protocol: open.protocol, ordered: open.ordered,
            reliability: open.reliability, negotiated: false)
        let channel = Channel(object: object, id: stream, acked: true)
        a.channels[object.key] = channel
        a.byStream[stream] = object.key
        // The ACK goes first, ordered and reliable, before any data of ours on the stream.
        enqueue(Outgoing(kind: .data, key: object.key, stream: stream, ppid: DataChannelPPID.dcep.rawValue, payload: DcepMessage.ack.bytes, unordered: false, reliability: .reliable, buffered: 0, cost: 0), &a)
        hub.announce(object)
        setState(.open, channel, &a)
    }

    private func handle(_ notification: SctpNotification, _ a: inout Association) {
        switch notification {
        case .associationChange(let state, let inbound, let outbound):
            if state == SctpNotification.communicationUp || state == SctpNotification.restart {
                a.negotiatedStreams = min(inbound, outbound)
                guard a.state != .connected else { return }
                a.state = .connected
                logger.debug("SCTP connected: \(inbound) in / \(outbound) out streams")
                hub.transportState(.connected)
                openPending(&a)
            } else {
                endLocked(&a, reason: "association change \(state)")
            }
        case .streamReset(let incoming):
            // RFC 8831 §6.7: the peer reset its outgoing stream → we reset ours → closed. When we
            // started the close, the peer's reset is the answer to ours → closed.
            for stream in incoming {
                guard let key = a.byStream[stream], let channel = a.channels[key] else { continue }
                if !channel.resetSent {
                    channel.resetSent = true
                    if channel.state == .open { setState(.closing, channel, &a) }
                    enqueue(Outgoing(kind: .reset, key: key, stream: stream, ppid: 0, payload: [], unordered: false, reliability: .reliable, buffered: 0, cost: 0), &a)
                }
                setState(.closed, channel, &a)
            }
        case .senderDry:
            a.flushWanted = true
        case .other:
            return
        }
    }

    /// A message on `stream` broke our limits: the channel (if any) gets the error and is closed.
    func refuse(stream: UInt16, _ error: DataChannelError, _ a: inout Association) {
        guard let key = a.byStream[stream], let channel = a.channels[key] else {
            counters.unknownStream.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let object = channel.object
        hub.post { object.deliverError(error) }
        closeChannel(channel, &a)
    }

    func nextKey(_ a: inout Association) -> UInt64 {
        a.nextKey += 1
        return a.nextKey
    }
}
