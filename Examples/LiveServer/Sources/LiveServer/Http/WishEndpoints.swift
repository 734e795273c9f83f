// The WHIP and WHEP endpoints and their session resources (RFC 9725, draft-ietf-wish-whep):
// paths, Origin, CORS, methods, authentication and rate, then the POST that creates a session.
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A middleware answering every request under `/whip/` and `/whep/` itself (others go on):
///
/// 1. path: `/{whip|whep}/{stream}` (the endpoint) or `/{whip|whep}/{stream}/{id}` (a session
///    resource); a stream name outside `[A-Za-z0-9_-]{1,64}` is 400, anything deeper 404;
/// 2. Origin (``OriginPolicy``): a foreign one is 403;
/// 3. `OPTIONS`: the CORS preflight (204), never authenticated;
/// 4. the method: 405 with `Allow` for any the path does not take;
/// 5. `Authorization: Bearer` (``BearerAuth``): 401 / 403;
/// 6. POST and PATCH: the per-address rate (``AddressRateLimiter``), 429 with `Retry-After`;
/// 7. the method's own checks and the ``LiveSessionHost`` call.
///
/// Every answer to a request with an allowed `Origin` carries `Access-Control-Allow-Origin`.
struct WishEndpoints: RouterMiddleware {
    typealias Context = LiveRequestContext

    let host: any LiveSessionHost
    let settings: LiveHTTPSettings
    let auth: BearerAuth
    let limiter: AddressRateLimiter
    let tags: SessionTags
    let state: LiveHTTPState
    let logger: Logger

    static let sdp = "application/sdp"
    static let sdpfrag = "application/trickle-ice-sdpfrag"
    static let linkName = HTTPField.Name("Link")!
    static let acceptPostName = HTTPField.Name("Accept-Post")!
    static let acceptPatchName = HTTPField.Name("Accept-Patch")!

    init(host: any LiveSessionHost, settings: LiveHTTPSettings, state: LiveHTTPState, logger: Logger, sessionCapacity: Int) {
        self.host = host
        self.settings = settings
        auth = BearerAuth(token: settings.token)
        limiter = AddressRateLimiter(rate: settings.requestRate, burst: settings.requestBurst, maxAddresses: settings.maxTrackedAddresses)
        tags = SessionTags(capacity: sessionCapacity)
        self.state = state
        self.logger = logger
    }

    /// Where a request goes.
    struct Target: Sendable {
        var role: LiveRole
        var stream: String
        /// nil: the endpoint; else the session resource's id.
        var session: LiveSessionID?
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let role: LiveRole
        if path.hasPrefix("/whip/") || path == "/whip" {
            role = .publisher
        } else if path.hasPrefix("/whep/") || path == "/whep" {
            role = .viewer
        } else {
            return try await next(request, context)
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2)
        guard (1...2).contains(components.count) else {
            return plain(.notFound, "no such resource\n", request)
        }
        let stream = String(components[components.startIndex])
        guard Self.isStreamName(stream) else {
            return plain(.badRequest, "a stream name is 1-64 of A-Z a-z 0-9 _ -\n", request)
        }
        var target = Target(role: role, stream: stream)
        if components.count == 2 {
            let id = String(components[components.startIndex + 1])
            guard (1...64).contains(id.utf8.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                return plain(.notFound, "no such session\n", request)
            }
            target.session = LiveSessionID(value: id)
        }

        if case .refused(let why) = settings.origins.check(origins: request.headers[values: .origin], host: request.head.authority) {
            logger.notice("refusing \(request.method) \(path): \(why)")
            return plain(.forbidden, "origin not allowed\n", request, cors: false)
        }
        let allowed: [HTTPRequest.Method] = target.session == nil ? [.post, .options] : [.patch, .delete, .options]
        if request.method == .options {
            return preflight(request, target: target, allowed: allowed)
        }
        guard allowed.contains(request.method) else {
            var response = plain(.methodNotAllowed, "\(request.method) is not allowed here\n", request)
            response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return response
        }
        switch auth.check(request.headers[values: .authorization]) {
        case .allowed:
            break
        case .missing:
            var response = plain(.unauthorized, "a Bearer token is needed\n", request)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        case .wrong:
            logger.notice("refusing \(request.method) \(path): wrong token")
            var response = plain(.forbidden, "wrong token\n", request)
            response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            return response
        }
        if request.method == .post || request.method == .patch {
            let address = RemoteAddress.key(context.remoteAddress)
            if let retryAfter = limiter.take(address) {
                var response = plain(.tooManyRequests, "too many requests\n", request)
                response.headers[.retryAfter] = String(retryAfter)
                return response
            }
        }

        var request = request
        do throws(HTTPRefusal) {
            switch request.method {
            case .post: return try await post(&request, target: target)
            case .patch: return try await patch(&request, target: target)
            default: return try await delete(request, target: target)
            }
        } catch {
            var response = plain(error.status, error.message + "\n", request)
            for field in error.headers { response.headers.append(field) }
            return response
        }
    }

    // MARK: POST

    /// An offer → 201 with the answer, `Location`, `ETag` and the `Link`s of the ICE servers.
    func post(_ request: inout Request, target: Target) async throws(HTTPRefusal) -> Response {
        guard state.isAccepting else { throw HTTPRefusal(.serviceUnavailable, "the server is shutting down") }
        try Self.requireContentType(request, Self.sdp)
        try Self.requireAcceptable(request, Self.sdp)
        let offer = try await readBody(&request)
        let answer: LiveAnswer
        do throws(LiveError) {
            answer = try await target.role == .publisher
                ? host.publish(stream: target.stream, offer: offer) : host.watch(stream: target.stream, offer: offer)
        } catch {
            logger.info("\(target.role == .publisher ? "WHIP" : "WHEP") POST \(target.stream): \(error.status.code) \(excerpt(error.message))")
            throw HTTPRefusal(error)
        }
        let etag = tags.insert(answer.session, clientUfrag: Self.firstUfrag(in: offer)) { host.lookup($0) != nil }
        let location = "/\(target.role.rawValue)/\(target.stream)/\(answer.session.value)"
        logger.info("\(target.role == .publisher ? "WHIP" : "WHEP") POST \(target.stream): 201 \(location)")
        var response = Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: answer.sdp)))
        response.headers[.contentType] = Self.sdp
        response.headers[.location] = location
        response.headers[.eTag] = etag
        for link in IceServerLinks.values(settings.iceServers, includeCredentials: settings.token != nil) {
            response.headers.append(HTTPField(name: Self.linkName, value: link))
        }
        addCORS(&response, request)
        return response
    }

    // MARK: Shared checks

    /// The body as UTF-8 text, read chunk by chunk up to ``LiveHTTPSettings/maxBodyBytes`` (413 beyond).
    func readBody(_ request: inout Request) async throws(HTTPRefusal) -> String {
        let limit = settings.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw HTTPRefusal(.contentTooLarge, "the body is over \(limit) bytes")
        }
        var buffer = ByteBuffer()
        do {
            for try await chunk in request.body {
                guard buffer.readableBytes + chunk.readableBytes <= limit else {
                    throw HTTPRefusal(.contentTooLarge, "the body is over \(limit) bytes")
                }
                var chunk = chunk
                buffer.writeBuffer(&chunk)
            }
        } catch let refusal as HTTPRefusal {
            throw refusal
        } catch {
            throw HTTPRefusal(.badRequest, "the body could not be read")
        }
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes), text.utf8.count == buffer.readableBytes,
            !text.contains("\0")
        else {
            throw HTTPRefusal(.badRequest, "the body is not UTF-8 text")
        }
        return text
    }

    static func requireContentType(_ request: Request, _ type: String) throws(HTTPRefusal) {
        let value = request.headers[.contentType] ?? ""
        let essence = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard essence == type else {
            throw HTTPRefusal(.unsupportedMediaType, "Content-Type must be \(type)", headers: [HTTPField(name: .accept, value: type)])
        }
    }

    /// 406 when `Accept` is present and accepts none of `type`, its `type/*` and `*/*` (or only with q=0).
    static func requireAcceptable(_ request: Request, _ type: String) throws(HTTPRefusal) {
        let values = request.headers[values: .accept]
        guard !values.isEmpty else { return }
        let major = type.split(separator: "/").first.map(String.init) ?? type
        for range in values.flatMap({ $0.split(separator: ",") }) {
            let parameters = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let media = parameters.first, media == type || media == major + "/*" || media == "*/*" else { continue }
            let weight = parameters.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if weight > 0 { return }
        }
        throw HTTPRefusal(.notAcceptable, "the answer is \(type), which Accept excludes")
    }

    /// Whether `name` is a stream name: `[A-Za-z0-9_-]{1,64}`.
    static func isStreamName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
        }
    }

    /// The first `a=ice-ufrag` of an offer (the client's ICE credentials; BUNDLE has one).
    static func firstUfrag(in sdp: String) -> String? {
        for line in sdp.split(whereSeparator: \.isNewline).prefix(4096) where line.hasPrefix("a=ice-ufrag:") {
            return String(line.dropFirst("a=ice-ufrag:".count))
        }
        return nil
    }

    // MARK: Responses

    func preflight(_ request: Request, target: Target, allowed: [HTTPRequest.Method]) -> Response {
        var response = Response(status: .noContent)
        response.headers[.accessControlAllowMethods] = "POST, PATCH, DELETE, OPTIONS"
        response.headers[.accessControlAllowHeaders] = "content-type, authorization, if-match"
        response.headers[.accessControlMaxAge] = "600"
        response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        if target.session == nil {
            response.headers[Self.acceptPostName] = Self.sdp
        } else {
            response.headers[Self.acceptPatchName] = Self.sdpfrag
        }
        addCORS(&response, request)
        return response
    }

    /// `Access-Control-Allow-Origin` (the request's own, allowed, Origin) and the exposed headers.
    func addCORS(_ response: inout Response, _ request: Request) {
        response.headers[.vary] = "Origin"
        guard let origin = request.headers[.origin] else { return }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "location, etag, link"
    }

    func plain(_ status: HTTPResponse.Status, _ text: String, _ request: Request, cors: Bool = true) -> Response {
        var response = Response(status: status, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/plain; charset=utf-8"
        if cors { addCORS(&response, request) }
        return response
    }
}

/// A refusal on the way to the host: a status, a message and perhaps headers.
struct HTTPRefusal: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var headers: [HTTPField] = []

    init(_ status: HTTPResponse.Status, _ message: String, headers: [HTTPField] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    init(_ error: LiveError) {
        self.init(error.status, error.message)
    }
}

/// Whether the server takes new sessions (false once shutdown began: POSTs get 503).
final class LiveHTTPState: Sendable {
    private let accepting = Atomic<Bool>(true)
    var isAccepting: Bool { accepting.load(ordering: .acquiring) }
    func stopAccepting() { accepting.store(false, ordering: .releasing) }
}
