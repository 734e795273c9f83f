// One WebSocket's session: its PeerConnection, its outgoing signalling, its end.
import Logging
import NiceWebRTC
import Synchronization

/// One signalling session (one WebSocket, docs/echo-signalling.md): answers the page's offers with
/// a ``PeerConnection``, trickles candidates both ways, echoes every channel the page opens and
/// reports every state change as `state` and `pair` messages.
///
/// **Threads.** Signalling input (``receive(_:)``) is handled one message at a time, in order; the
/// connection's events arrive on tasks of their own (``observe(_:)``). The mutable state is behind
/// a lock, and whatever the session sends is queued under that lock, so the page gets it in the
/// order the state changed.
///
/// **Output.** What the session sends waits in ``outgoing`` for the WebSocket's writer, at most
/// ``ServerSettings/outboxCapacity`` messages; a page that stops reading is cut off.
///
/// **End.** ``end(_:)`` (the page's `bye`, the WebSocket closing, the idle deadline, the lifetime,
/// shutdown) closes the connection (the association is aborted: the page sees its channels and
/// connection close), sends the final states and, if the reason has one, `bye`, then the close
/// instruction, and waits until libnice released the sockets. Idempotent.
final class Session: Sendable {
    /// Why a session ends, and what the page is told.
    enum EndReason: Sendable, Equatable {
        /// The page sent `bye`.
        case pageBye
        /// The WebSocket closed or failed first.
        case socketClosed
        /// Not `connected` within `--idle-timeout`.
        case idleDeadline
        /// Older than `--max-lifetime`.
        case lifetime
        /// The server is shutting down (SIGTERM, SIGINT).
        case shutdown
        /// The page does not read what we send.
        case notReading

        /// The `bye` reason, if the page is told.
        var byeReason: String? {
            switch self {
            case .pageBye, .socketClosed, .notReading: nil
            case .idleDeadline: "idle deadline"
            case .lifetime: "session lifetime"
            case .shutdown: "shutdown"
            }
        }

        /// How the WebSocket closes.
        var closeCode: CloseCode {
            switch self {
            case .shutdown: .goingAway
            case .notReading: .policyViolation
            case .pageBye, .socketClosed, .idleDeadline, .lifetime: .normal
            }
        }
    }

    /// The WebSocket close codes a session uses (RFC 6455 §7.4.1).
    enum CloseCode: Sendable {
        case normal, goingAway, policyViolation
    }

    /// What the WebSocket's writer sends.
    enum Outgoing: Sendable {
        case message(ServerMessage)
        /// Send the close frame; nothing follows.
        case close(CloseCode, reason: String)
    }

    /// A process-wide session number, in the logs.
    let id: Int
    let started: ContinuousClock.Instant
    let settings: ServerSettings
    /// The server-wide offer budget (`--offer-rate`, `--offer-burst`), shared by every session.
    let offerBudget: TokenBucket
    /// The remote address the WebSocket came from (the per-address limit's key).
    let remote: String
    let logger: Logger
    let echoed = Echo.Counter()
    /// Opened when the WebSocket's writer has sent its close frame (or failed): what shutdown
    /// waits for, so that `bye` and the close code reach the page before the server stops.
    let writerFinished = Latch()

    /// The messages for the WebSocket's writer; finishes after the close instruction.
    let outgoing: AsyncStream<Outgoing>
    private let outbox: AsyncStream<Outgoing>.Continuation

    /// Everything that changes. Read and written by this type and its extensions only.
    struct State {
        /// The connection, made by the first offer (which paid for it with a token of the budget).
        var connection: PeerConnection?
        /// Forwards the connection's events to the page (``observe(_:)``); ends when the
        /// connection's streams finish (on close). Never cancelled while the connection is open.
        var observer: Task<Void, Never>?
        /// Remote candidates (nil: end-of-candidates) that came before the first offer.
        var pending: [IceCandidateInit?] = []
        /// While an offer is being answered: our candidates, held so that they follow the answer.
        var held: [IceCandidateInit]?
        /// The last state sent per layer (and per channel), so that repeats are not sent.
        var reported: [String: String] = [:]
        /// The final `closed` states went out: nothing more is reported.
        var finalReported = false
        /// Whether the connection was ever `connected` (the idle deadline is met).
        var connected = false
        /// Each open channel and its task (echo and state reports); the task removes its entry
        /// when it ends.
        var channels: [Int: (channel: DataChannel, task: Task<Void, Never>)] = [:]
        /// The key of the next channel.
        var nextChannel = 0
        var idleDeadline: Task<Void, Never>?
        /// Ends the session at `--max-lifetime`.
        var lifetimeDeadline: Task<Void, Never>?
        /// Set by ``end(_:)``: the teardown, which later callers await.
        var ending: Task<Void, Never>?
        var endReason: EndReason?
    }
    let state = Mutex(State())

    init(id: Int, settings: ServerSettings, offerBudget: TokenBucket, remote: String = "-", logger: Logger) {
        self.id = id
        self.settings = settings
        self.offerBudget = offerBudget
        self.remote = remote
        var logger = logger
        logger[metadataKey: "session"] = "\(id)"
        self.logger = logger
        started = .now
        (outgoing, outbox) = AsyncStream.makeStream(of: Outgoing.self, bufferingPolicy: .bufferingOldest(ServerSettings.outboxCapacity))
    }

    /// Milliseconds since the session started (the `t` of `state` and `pair`).
    var t: Int {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// Starts the idle deadline and the lifetime. Called once, when the WebSocket opened.
    func open() {
        let timeout = settings.idleTimeout
        let idle = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled, let self else { return }
            if !self.state.withLock({ $0.connected }) {
                self.logger.info("not connected within \(timeout): ending")
                self.beginEnd(.idleDeadline)
            }
        }
        let lifetime = settings.maxLifetime
        let end = Task { [weak self] in
            try? await Task.sleep(for: lifetime)
            guard !Task.isCancelled, let self else { return }
            self.logger.info("older than \(lifetime) (--max-lifetime): ending")
            self.beginEnd(.lifetime)
        }
        state.withLock { s in
            s.idleDeadline = idle
            s.lifetimeDeadline = end
        }
    }

    // MARK: Output

    /// Queues the messages `build` makes from the state, under the state's lock: what is sent
    /// keeps the order in which the state changed. A full outbox means the page does not read:
    /// the session ends.
    func send(_ build: (inout State) -> [ServerMessage]) {
        let full = state.withLock { s in
            build(&s).reduce(false) { full, message in
                if case .dropped = outbox.yield(.message(message)) { return true }
                return full
            }
        }
        if full {
            logger.warning("the page does not read its WebSocket (\(ServerSettings.outboxCapacity) messages waiting): ending")
            beginEnd(.notReading)
        }
    }

    /// Queues one message for the page.
    func send(_ message: ServerMessage) {
        send { _ in [message] }
    }

    /// Queues an `error` message.
    func report(_ error: SignallingError) {
        logger.info("error to the page: \(error)")
        send(.error(error))
    }

    // MARK: End

    /// Ends the session (see the type's documentation) and returns once libnice released the
    /// sockets (at most 5 s, NiceICE's bound). Idempotent: later calls wait for the first.
    func end(_ reason: EndReason) async {
        await beginEnd(reason).value
    }

    /// Starts ending the session without waiting; returns the teardown.
    @discardableResult
    func beginEnd(_ reason: EndReason) -> Task<Void, Never> {
        state.withLock { s in
            if let ending = s.ending { return ending }
            s.endReason = reason
            let task = Task { await self.teardown(reason) }
            s.ending = task
            return task
        }
    }

    /// Whether ``end(_:)`` was called.
    var isEnding: Bool { state.withLock { $0.endReason != nil } }

    private func teardown(_ reason: EndReason) async {
        let (connection, channels, deadlines, tasks) = state.withLock { s in
            (s.connection, s.channels.values.map(\.channel), [s.idleDeadline, s.lifetimeDeadline],
             [s.observer].compactMap { $0 } + s.channels.values.map(\.task))
        }
        for deadline in deadlines { deadline?.cancel() }
        // W3C close: the association is aborted (the page sees its channels and connection
        // close), close_notify, ICE closed; no event follows, so the final states are ours.
        connection?.close()
        send { s in
            let layers = connection == nil ? [] : [Layer.sctp, .dtls, .connection, .ice]
            // The channels whose last report was not `closed` (a closed one has no slot left).
            let open = channels.filter { s.reported[Self.slot(.channel, $0)] != nil }
            let final = open.compactMap { stateMessage(&s, .channel, DataChannelState.closed.rawValue, channel: $0) }
                + layers.compactMap { stateMessage(&s, $0, "closed", reason: "session ended") }
            s.finalReported = true
            return final + (reason.byeReason.map { [.bye(reason: $0)] } ?? [])
        }
        outbox.yield(.close(reason.closeCode, reason: reason.byeReason ?? "bye"))
        outbox.finish()
        guard let connection else {
            logger.info("session ended (\(reason)) after \(t) ms, before any offer")
            return
        }
        await connection.closeAndWait()
        // The tasks that iterate the connection's streams end when the streams finish (close()
        // finished them); cancelling them as well ends an echo blocked on a channel at once.
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        let c = connection.sctpTransport.counters
        let e = echoed.value
        logger.info("""
            session ended (\(reason)) after \(t) ms: echoed \(e.messages) messages (\(e.bytes) bytes); \
            SCTP \(c.messagesReceived) messages received, \(c.messagesSent) sent
            """)
    }
}
