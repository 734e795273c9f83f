// The sessions of the server, as a swift-service-lifecycle Service: admission (session limit,
// per-address limit), the server-wide offer budget, and on graceful shutdown (SIGTERM, SIGINT) the end of every session, bounded in time.
import Logging
import ServiceLifecycle
import Synchronization

/// Owns every ``Session``. Runs in the ``ServiceGroup`` beside the Hummingbird application,
/// after it in the list so that it shuts down first: on SIGTERM or SIGINT every session gets
/// `bye` ("shutdown"), its association aborted (the page sees its channels and connection close)
/// and its WebSocket closed with 1001 (going away); then the registry waits until libnice
/// released the sockets, at most ``ServerSettings/shutdownBudget``, and the application stops.
final class SessionRegistry: Service, Sendable {
    let settings: ServerSettings
    let logger: Logger
    /// The server-wide offer budget every session draws on.
    let offerBudget: TokenBucket

    private struct State {
        var sessions: [Int: Session] = [:]
        /// Live sessions per remote address key (see ``RemoteAddress``).
        var perAddress: [String: Int] = [:]
        var nextID = 1
        var shuttingDown = false
    }
    private let state = Mutex(State())

    init(settings: ServerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        offerBudget = TokenBucket(rate: settings.offerRate, burst: settings.offerBurst)
    }

    /// Why a WebSocket gets no session.
    enum Refusal: Error, Sendable {
        case sessionLimit
        case addressLimit
        case shuttingDown
    }

    /// A new session for a WebSocket that just opened from `remote` (a ``RemoteAddress`` key),
    /// or why there is none.
    func admit(remote: String) -> Result<Session, Refusal> {
        let admitted = state.withLock { s -> Result<Int, Refusal> in
            if s.shuttingDown { return .failure(.shuttingDown) }
            guard s.sessions.count < settings.maxSessions else { return .failure(.sessionLimit) }
            guard s.perAddress[remote, default: 0] < settings.maxSessionsPerAddress else { return .failure(.addressLimit) }
            let id = s.nextID
            s.nextID += 1
            // Counted at once, so that WebSockets opening together cannot all pass the check.
            s.perAddress[remote, default: 0] += 1
            return .success(id)
        }
        switch admitted {
        case .failure(let refusal):
            logger.notice("refusing a WebSocket from \(remote): \(refusal)")
            return .failure(refusal)
        case .success(let id):
            let session = Session(id: id, settings: settings, offerBudget: offerBudget, remote: remote, logger: logger)
            let count = state.withLock { s in
                s.sessions[id] = session
                return s.sessions.count
            }
            logger.info("session \(id) opened from \(remote) (\(count) of \(settings.maxSessions))")
            session.open()
            return .success(session)
        }
    }

    /// Forgets a session that ended.
    func remove(_ session: Session) {
        let count = state.withLock { s -> Int in
            guard s.sessions.removeValue(forKey: session.id) != nil else { return s.sessions.count }
            let left = s.perAddress[session.remote, default: 1] - 1
            s.perAddress[session.remote] = left > 0 ? left : nil
            return s.sessions.count
        }
        logger.debug("session \(session.id) removed (\(count) left)")
    }

    /// Live sessions from one remote address key.
    func count(from remote: String) -> Int { state.withLock { $0.perAddress[remote, default: 0] } }

    /// The number of live sessions.
    var count: Int { state.withLock { $0.sessions.count } }

    // MARK: Service

    /// Waits for graceful shutdown (or cancellation), then ends every session.
    func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Ends every session and waits until they released their sockets, at most
    /// ``ServerSettings/shutdownBudget``.
    func shutdown() async {
        let sessions = state.withLock { s in
            s.shuttingDown = true
            return Array(s.sessions.values)
        }
        guard !sessions.isEmpty else {
            logger.info("shutdown: no session open")
            return
        }
        logger.info("shutdown: ending \(sessions.count) session(s)")
        let began = ContinuousClock.now
        let budget = ServerSettings.shutdownBudget
        let finished = await finishes(within: budget) {
            await withTaskGroup(of: Void.self) { group in
                for session in sessions { group.addTask { await session.end(.shutdown) } }
            }
            // Then the `bye` and the 1001 close must have left: the application's own shutdown,
            // next, would close what is still open with 1000 (seen in the browser test).
            for session in sessions { await session.writerFinished.wait() }
        }
        if finished {
            logger.info("shutdown: \(sessions.count) session(s) ended in \(ContinuousClock.now - began)")
        } else {
            logger.warning("shutdown: sessions still releasing their sockets after \(budget); going on")
        }
    }
}
