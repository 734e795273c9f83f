// One WebSocket's session: its connection stack, its outgoing signalling, its end.
import Dispatch
import Logging
import NiceWebRTC
import Synchronization

/// One signalling session (one WebSocket, docs/echo-signalling.md): answers the page's offers with
/// a NiceICE ``IceTransport`` (controlled), a ``DtlsTransport`` and an ``SctpTransport``,
/// trickles candidates both ways, echoes every channel the page opens and reports every state
/// change of its stack as `state` and `pair` messages.
///
/// **Threads.** Signalling input (``receive(_:)``) and every handler of the stack run on the
/// session's serial ``queue``, one at a time, in order; the mutable state is behind a lock so the
/// teardown and the registry may read it from anywhere.
///
/// **Output.** What the session sends waits in ``outgoing`` for the WebSocket's writer, at most
/// ``ServerSettings/outboxCapacity`` messages; a page that stops reading is cut off.
///
/// **End.** ``end(_:)`` (the page's `bye`, the WebSocket closing, the idle deadline, the lifetime,
/// shutdown) aborts
/// the association, sends the final states and, if the reason has one, `bye`, then the close
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
    let queue: DispatchQueue
    let echoed = Echo.Counter()
    /// Opened when the WebSocket's writer has sent its close frame (or failed): what shutdown
    /// waits for, so that `bye` and the close code reach the page before the server stops.
    let writerFinished = Latch()

    /// The messages for the WebSocket's writer; finishes after the close instruction.
    let outgoing: AsyncStream<Outgoing>
    private let outbox: AsyncStream<Outgoing>.Continuation

    /// Everything that changes. Read and written by this type and its extensions only.
    struct State {
        var stack: SessionStack?
        /// The answer to the last offer, once one was answered.
        var answer: DataChannelAnswer?
        /// The page's ICE credentials of that offer.
        var remoteIce: IceParameters?
        /// Answers sent (the `o=` session version of the next one).
        var answers: UInt64 = 0
        /// Remote candidates (nil: end-of-candidates) that came before the first offer.
        var pending: [IceCandidate?] = []
        /// The last state sent per layer (and per channel), so that repeats are not sent.
        var reported: [String: String] = [:]
        /// Whether the connection was ever `connected` (the idle deadline is met).
        var connected = false
        /// The running echo of each open channel; an echo removes itself when it ends.
        var echoes: [Int: Task<Void, Never>] = [:]
        /// The key of the next echo.
        var nextEcho = 0
        var idleDeadline: Task<Void, Never>?
        /// Ends the session at `--max-lifetime`.
        var lifetimeDeadline: Task<Void, Never>?
        /// Set by ``end(_:)``: the teardown, which later callers await.
        var ending: Task<Void, Never>?
        var endReason: EndReason?
    }
    let state = Mutex(State())
    /// The `o=` session id of every answer of this session.
    let sdpSessionId = UInt64.random(in: 1...UInt64(Int64.max))

    init(id: Int, settings: ServerSettings, offerBudget: TokenBucket, remote: String = "-", logger: Logger) {
        self.id = id
        self.settings = settings
        self.offerBudget = offerBudget
        self.remote = remote
        var logger = logger
        logger[metadataKey: "session"] = "\(id)"
        self.logger = logger
        started = .now
        queue = DispatchQueue(label: "EchoServer.session.\(id)")
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

    /// Queues one message for the page. A full outbox means the page does not read: the session ends.
    func send(_ message: ServerMessage) {
        if case .dropped = outbox.yield(.message(message)) {
            logger.warning("the page does not read its WebSocket (\(ServerSettings.outboxCapacity) messages waiting): ending")
            beginEnd(.notReading)
        }
    }

    /// Queues an `error` message.
    func report(_ error: SignallingError) {
        logger.info("error to the page: \(error)")
        send(.error(error))
    }

    // MARK: Input

    /// Handles one message from the page on the session's queue and returns once it was handled,
    /// so that a WebSocket's messages are handled in order and never pile up.
    func receive(_ message: ClientMessage) async {
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            queue.async {
                self.handle(message)
                k.resume()
            }
        }
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
        let (stack, echoes, deadlines) = state.withLock { s in (s.stack, Array(s.echoes.values), [s.idleDeadline, s.lifetimeDeadline]) }
        for deadline in deadlines { deadline?.cancel() }
        for echo in echoes { echo.cancel() }
        // ABORT to the page (its channels and connection close), close_notify, ICE closed. The
        // channels' `closed` events are queued on `queue` by this call, before the block below.
        stack?.close()
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            queue.async {
                if stack != nil {
                    for layer in [Layer.sctp, .dtls, .connection, .ice] {
                        self.reportState(layer, "closed", reason: "session ended")
                    }
                }
                if let bye = reason.byeReason { self.send(.bye(reason: bye)) }
                self.outbox.yield(.close(reason.closeCode, reason: reason.byeReason ?? "bye"))
                self.outbox.finish()
                k.resume()
            }
        }
        if let stack {
            await stack.waitUntilReleased()
            let c = stack.sctp.counters
            let e = echoed.value
            logger.info("""
                session ended (\(reason)) after \(t) ms: echoed \(e.messages) messages (\(e.bytes) bytes); \
                SCTP \(c.messagesReceived) messages received, \(c.messagesSent) sent
                """)
        } else {
            logger.info("session ended (\(reason)) after \(t) ms, before any offer")
        }
    }
}
