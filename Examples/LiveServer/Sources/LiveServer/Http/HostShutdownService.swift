// Graceful shutdown of the media side, as a ServiceGroup member.
import Logging
import ServiceLifecycle

/// Waits for the graceful shutdown (SIGTERM / SIGINT), then refuses new POSTs (503) and ends
/// every session (``LiveSessionHost/shutdown()``), before the HTTP server stops: listed after the
/// application in the ``ServiceGroup``, it is shut down first.
struct HostShutdownService: Service {
    let host: any LiveSessionHost
    let state: LiveHTTPState
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        state.stopAccepting()
        logger.info("shutting down: ending every session")
        await host.shutdown()
    }
}
