// The Hummingbird application: the page's static files and the `/signal` WebSocket.
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket

/// Builds the HTTP side of the server.
enum EchoApplication {
    /// The application: `Public/` (`/` → `index.html`) and `/signal`, whose WebSockets get a
    /// ``Session`` from `registry` (or `bye` and a close when there is none).
    static func build(
        host: String, port: Int, publicDirectory: String, registry: SessionRegistry, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: FileMiddleware(publicDirectory, searchForIndexHtml: true, logger: logger))
        router.get("/healthz") { _, _ in "ok\n" }

        let webSockets = Router(context: BasicWebSocketRequestContext.self)
        webSockets.ws("/signal") { inbound, outbound, _ in
            switch registry.admit() {
            case .failure(let refusal):
                let (reason, code): (String, WebSocketErrorCode) = switch refusal {
                case .sessionLimit: ("session limit", .normalClosure)
                case .shuttingDown: ("shutdown", .goingAway)
                }
                try? await outbound.write(.text(ServerMessage.bye(reason: reason).json))
                try? await outbound.close(code, reason: reason)
                // Read on until the page's close frame (or the close timeout), as WSCore expects.
                for try await _ in inbound {}
            case .success(let session):
                await SignallingSocket(session: session, inbound: inbound, outbound: outbound).run()
                registry.remove(session)
            }
        }

        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSockets,
                configuration: .init(ws: .init(
                    maxFrameSize: ServerSettings.maxFrameBytes,
                    autoPing: .enabled(timePeriod: .seconds(20)),
                    closeTimeout: ServerSettings.closeHandshakeTimeout))),
            configuration: .init(address: .hostname(host, port: port), serverName: "EchoServer"),
            logger: logger
        )
    }
}
