import Dispatch
import NiceICE
import NiceWebRTCCore

/// A data channel (W3C `RTCDataChannel`): one bidirectional stream of messages over the SCTP
/// association, created by ``SctpTransport/createDataChannel(label:options:)`` or announced when
/// the peer opens one.
///
/// ```swift
/// let channel = try sctp.createDataChannel(label: "chat")
/// channel.messageHandler = { message in … }          // or: for await m in channel.messages()
/// try await channel.waitUntilOpen(timeout: .seconds(10))
/// try await channel.write(.text("hello"))             // waits for room; `try channel.send` throws instead
/// channel.close()
/// ```
///
/// **Threads.** Any method from any thread. Handlers run on the transport's queue (see
/// ``SctpTransport/Configuration/queue``), one at a time, in order: a channel's `open` before its
/// messages, its messages before `closed`.
///
/// **Lifetime.** The transport keeps an open channel alive; a channel ends `closed` (with its
/// event) when either side closes it (RFC 8831 §6.7 stream reset), or when the association, DTLS
/// or the connection ends.
public final class DataChannel: Sendable {
    /// W3C `label`.
    public let label: String
    /// W3C `protocol`: the application's sub-protocol name, as signalled in DCEP.
    public let `protocol`: String
    /// W3C `ordered`.
    public let ordered: Bool
    /// How the channel retransmits (W3C `maxRetransmits` / `maxPacketLifeTime`).
    public let reliability: DataChannelReliability
    /// W3C `negotiated`: created on both sides with the same ``id``, no DCEP.
    public let negotiated: Bool

    let core: SctpCore
    let key: UInt64
    let inbox: DataChannelInbox
    let observers: DataChannelObservers
    /// Messages and bytes through the channel (W3C `RTCDataChannelStats`).
    let counters = DataChannelCounters()

    init(core: SctpCore, key: UInt64, label: String, protocol: String, ordered: Bool, reliability: DataChannelReliability, negotiated: Bool) {
        self.core = core
        self.key = key
        self.label = label
        self.protocol = `protocol`
        self.ordered = ordered
        self.reliability = reliability
        self.negotiated = negotiated
        inbox = DataChannelInbox(queue: core.hub.queue) { [weak core] bytes in core?.consumed(bytes) }
        observers = DataChannelObservers()
        LiveObjects.born(.dataChannel)
    }

    deinit { LiveObjects.died(.dataChannel) }

    /// W3C `maxRetransmits`.
    public var maxRetransmits: UInt16? {
        if case .maxRetransmits(let n) = reliability { return n }
        return nil
    }

    /// W3C `maxPacketLifeTime` (milliseconds).
    public var maxPacketLifeTime: UInt16? {
        if case .maxPacketLifeTime(let ms) = reliability { return ms }
        return nil
    }

    /// W3C `id`: the SCTP stream; nil until the DTLS role decided it (channels created before the
    /// association is up).
    public var id: UInt16? { core.channelSnapshot(key)?.id ?? observers.lastID }

    /// W3C `readyState`.
    public var readyState: DataChannelState { core.channelSnapshot(key)?.state ?? .closed }

    /// W3C `bufferedAmount`: bytes accepted by ``send(_:)`` that still wait for
    /// room in SCTP's send buffer (4 MiB per association, not counted here).
    public var bufferedAmount: Int { core.channelSnapshot(key)?.buffered ?? 0 }

    /// W3C `bufferedAmountLowThreshold`: ``bufferedAmountLowHandler`` runs when ``bufferedAmount``
    /// falls from above it to at most it. 0 by default.
    public var bufferedAmountLowThreshold: Int {
        get { core.channelSnapshot(key)?.threshold ?? 0 }
        set { core.setLowThreshold(newValue, key: key) }
    }

    // MARK: Handlers (on the transport's queue)

    /// Each received message (W3C `onmessage`). Without a handler, messages wait for
    /// ``messages()``; while nobody takes them, the association stops reading (back-pressure).
    public var messageHandler: (@Sendable (DataChannelMessage) -> Void)? {
        get { inbox.handler }
        set { inbox.setHandler(newValue) }
    }

    /// Each change of ``readyState`` (W3C `onopen`, `onclosing`, `onclose`).
    public var stateHandler: (@Sendable (DataChannelState) -> Void)? {
        get { observers.state.withLock { $0.stateHandler } }
        set { observers.state.withLock { $0.stateHandler = newValue } }
    }

    /// A protocol error on this channel (W3C `onerror`), e.g. the peer sent a message over our
    /// limit (the channel then closes) or a malformed DCEP message.
    public var errorHandler: (@Sendable (DataChannelError) -> Void)? {
        get { observers.state.withLock { $0.errorHandler } }
        set { observers.state.withLock { $0.errorHandler = newValue } }
    }

    /// W3C `onbufferedamountlow`.
    public var bufferedAmountLowHandler: (@Sendable () -> Void)? {
        get { observers.state.withLock { $0.lowHandler } }
        set { observers.state.withLock { $0.lowHandler = newValue } }
    }

    // MARK: Streams

    /// The received messages, for one task to iterate; it ends when the channel closed and
    /// everything before was taken. Ignored while a ``messageHandler`` is set.
    public func messages() -> Messages { Messages(inbox: inbox) }

    /// Yields the current ``readyState`` first, then every change; finishes after `closed`.
    public func stateChanges() -> AsyncStream<DataChannelState> {
        observers.makeStream(current: readyState)
    }

    /// Returns once the channel is `open`.
    ///
    /// - Throws: ``DataChannelError`` `closed` when it closed first, `timedOut` after `timeout`,
    ///   `cancelled` when the waiting task is cancelled.
    public func waitUntilOpen(timeout: Duration) async throws(DataChannelError) {
        try await waitForState(stateChanges(), timeout: timeout, ended: "the channel closed before it opened", notYet: "not open") {
            (s: DataChannelState) -> Result<Void, DataChannelError>? in
            switch s {
            case .open: return .success(())
            case .closing, .closed: return .failure(DataChannelError(.closed, reason: "the channel closed before it opened"))
            case .connecting: return nil
            }
        }
    }

    // MARK: Sending

    /// Sends one message now or queues it (W3C `send`). Never blocks.
    ///
    /// - Throws: ``DataChannelError`` `notOpen` unless `open`, `messageTooLarge` over
    ///   ``SctpTransport/maxMessageSize``, `bufferFull` when ``bufferedAmount`` would pass the
    ///   transport's ``SctpTransport/Configuration/sendBufferLimit``.
    public func send(_ message: DataChannelMessage) throws(DataChannelError) {
        try core.send(message, key: key)
        counters.sent(message.count)
    }

    /// Sends one message, waiting while the send buffer is full (where ``send(_:)`` throws
    /// `bufferFull`): the back-pressured way to send a lot. As ``IceTransport/write(_:)``.
    ///
    /// - Throws: as ``send(_:)``, and `cancelled` when the task is cancelled while waiting.
    public func write(_ message: DataChannelMessage) async throws(DataChannelError) {
        while true {
            do throws(DataChannelError) {
                try core.send(message, key: key)
                counters.sent(message.count)
                return
            } catch where error.code == .bufferFull {
                if Task.isCancelled { throw DataChannelError(.cancelled, reason: "cancelled while waiting for room") }
                await core.waitForRoom(key: key, size: message.count)
            }
        }
    }

    /// Sends a string message.
    public func send(text: String) throws(DataChannelError) { try send(.text(text)) }

    /// Sends a binary message.
    public func send(bytes: [UInt8]) throws(DataChannelError) { try send(.binary(bytes)) }

    // MARK: Closing

    /// W3C `close()`: `closing` now, `closed` when the peer answered the stream reset. Queued
    /// messages go out first. Idempotent.
    public func close() { core.close(key: key) }

    // MARK: Delivery (the transport's queue)

    func deliverState(_ state: DataChannelState) {
        observers.state.withLock { $0.stateHandler }?(state)
        if state == .closed {
            observers.state.withLock { $0.clearHandlers() }
        }
    }

    func deliverError(_ error: DataChannelError) {
        observers.state.withLock { $0.errorHandler }?(error)
    }

    func deliverBufferedAmountLow() {
        observers.state.withLock { $0.lowHandler }?()
    }
}

extension DataChannel {
    /// ``DataChannel/messages()``: an `AsyncSequence` with back-pressure (see the inbox).
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = DataChannelMessage
        let inbox: DataChannelInbox

        public struct AsyncIterator: AsyncIteratorProtocol {
            let inbox: DataChannelInbox
            public mutating func next() async -> DataChannelMessage? { await inbox.next() }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inbox: inbox) }
    }
}

extension DataChannel: CustomStringConvertible {
    public var description: String {
        "DataChannel(\(id.map(String.init) ?? "-"), \"\(label.prefix(32))\", \(readyState.rawValue))"
    }
}
