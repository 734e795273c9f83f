// The Hummingbird application: the page's static files and the `/signal` WebSocket.
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Builds the HTTP side of the server.
enum EchoApplication {
    /// The application: `Public/` (`/` → `index.html`; no dotfiles, no symlinks) and `/signal`,
    /// whose WebSockets, if ``OriginPolicy`` allows their Origin (403 otherwise), get a
    /// ``Session`` from `registry` (or `bye` and a close when there is none).
    static func build(
        host: String, port: Int, publicDirectory: String, origins: OriginPolicy, registry: SessionRegistry, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: FileMiddleware(
            fileProvider: PublicFileProvider(rootFolder: publicDirectory, logger: logger), searchForIndexHtml: true))
        router.get("/healthz") { _, _ in "ok\n" }
        // What reaches the router at /signal is not a WebSocket upgrade: a foreign Origin's upgrade
        // (turned into a plain GET by OriginGate) or a plain GET.
        router.get("/signal") { request, _ -> Response in
            let verdict = origins.check(origins: request.headers[values: .origin], host: request.head.authority)
            if case .refused(let why) = verdict {
                logger.notice("refusing a /signal request: \(why)")
                return Response(status: .forbidden, body: .init(byteBuffer: ByteBuffer(string: "origin not allowed\n")))
            }
            return Response(status: .upgradeRequired, headers: [.upgrade: "websocket"])
        }

        let webSockets = Router(context: SignalRequestContext.self)
        webSockets.ws("/signal") { request, context in
            // The same check as OriginGate's, for an upgrade that reached us anyway (hummingbird-
            // websocket answers such a refusal with 400).
            switch origins.check(origins: request.headers[values: .origin], host: request.head.authority) {
            case .allowed:
                return .upgrade([:])
            case .refused(let why):
                context.logger.notice("refusing a WebSocket: \(why)")
                return .dontUpgrade
            }
        } onUpgrade: { inbound, outbound, context in
            let remote = RemoteAddress.key(context.requestContext.remoteAddress)
            switch registry.admit(remote: remote) {
            case .failure(let refusal):
                let (reason, code): (String, WebSocketErrorCode) = switch refusal {
                case .sessionLimit: ("session limit", .normalClosure)
                case .addressLimit: ("address limit", .normalClosure)
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

        let webSocketResponder = webSockets.buildResponder()
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(ws: .init(
            maxFrameSize: ServerSettings.maxFrameBytes,
            autoPing: .enabled(timePeriod: .seconds(20)),
            closeTimeout: ServerSettings.closeHandshakeTimeout))
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                OriginGatedChannel(
                    inner: HTTP1WebSocketUpgradeChannel(
                        responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                    policy: origins)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "EchoServer"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}

/// The request context of the WebSocket router: Hummingbird's basic one plus the remote address
/// (the per-address limit's key).
struct SignalRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }
}

/// hummingbird-websocket's HTTP/1 + WebSocket channel with an ``OriginGate`` before its upgrade
/// handler, so that a foreign Origin's upgrade is answered 403 by the router.
struct OriginGatedChannel: ServerChildChannel {
    let inner: HTTP1WebSocketUpgradeChannel
    let policy: OriginPolicy

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        let policy = policy
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let upgrader = try pipeline.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try pipeline.addHandler(OriginGate(policy: policy), position: .before(upgrader))
            return value
        }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
