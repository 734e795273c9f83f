// The Hummingbird application: the WHIP/WHEP endpoints, the pages, /healthz and /metrics.
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// Builds the HTTP side of the server.
enum LiveApplication {
    /// The router: `/healthz`, `/metrics` (the registry's Prometheus text), `/watch/{stream}`
    /// (`watch.html`), the WHIP/WHEP endpoints (``WishEndpoints``) and the other files of
    /// `publicDirectory` (`/` → `index.html`; no dotfiles, no symlinks).
    static func router(
        endpoints: WishEndpoints, registry: PrometheusCollectorRegistry, publicDirectory: String, logger: Logger
    ) -> Router<LiveRequestContext> {
        let router = Router(context: LiveRequestContext.self)
        // Routes first: the middlewares below apply to what no route matches.
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        }
        router.get("/watch/:stream") { _, context -> Response in
            let stream = context.parameters.get("stream") ?? ""
            guard WishEndpoints.isStreamName(stream) else {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "a stream name is 1-64 of A-Z a-z 0-9 _ -\n")))
            }
            let path = publicDirectory + "/watch.html"
            guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
                return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "no watch page\n")))
            }
            var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            response.headers[.contentType] = "text/html; charset=utf-8"
            response.headers[.cacheControl] = "no-cache"
            return response
        }
        router.add(middleware: endpoints)
        router.add(middleware: FileMiddleware(
            fileProvider: PublicFileProvider(rootFolder: publicDirectory, logger: logger), searchForIndexHtml: true))
        return router
    }

    /// The application on `host`:`port`.
    static func build(
        router: Router<LiveRequestContext>, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "LiveServer"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
