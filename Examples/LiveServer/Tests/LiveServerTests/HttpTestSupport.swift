// A fake media side and the LiveServer's HTTP side in-process on 127.0.0.1 (HummingbirdTesting
// `.live`), for the Http*Tests.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NiceWebRTC
import Prometheus
import Synchronization

@testable import LiveServer

/// A ``LiveSessionHost`` that answers without media: one publisher per stream, viewers only of a
/// published stream, `maxSessions` at once; offers containing `unprocessable` get 422, offers not
/// starting with `v=0` get 400. It records what it was given.
final class FakeHost: LiveSessionHost {
    struct State {
        var sessions: [LiveSessionID: (stream: String, role: LiveRole)] = [:]
        var trickled: [TrickleIceFragment] = []
        var restarts: [TrickleIceFragment] = []
        var calls = 0
        var shutDown = false
        var next = 0
    }
    let maxSessions: Int
    let state = Mutex(State())

    init(maxSessions: Int = 100) {
        self.maxSessions = maxSessions
    }

    var sessionCount: Int { state.withLock { $0.sessions.count } }
    var calls: Int { state.withLock { $0.calls } }

    static let serverFragment = TrickleIceFragment(
        iceUfrag: "srv2", icePwd: "serverpasswordserverpassword",
        candidates: [IceCandidateInit(candidate: "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", sdpMid: "0", sdpMLineIndex: 0)],
        endOfCandidates: true)

    private func open(stream: String, offer: String, role: LiveRole) throws(LiveError) -> LiveAnswer {
        let result: Result<LiveAnswer, LiveError> = state.withLock { s in
            s.calls += 1
            if s.shutDown { return .failure(.unavailable("shutting down")) }
            guard offer.hasPrefix("v=0") else { return .failure(.badRequest("offer: no v=0 line")) }
            if offer.contains("unprocessable") { return .failure(.unprocessable("no codec we forward")) }
            let hasPublisher = s.sessions.values.contains { $0.stream == stream && $0.role == .publisher }
            if role == .publisher, hasPublisher { return .failure(.conflict("stream \(stream) has a publisher")) }
            if role == .viewer, !hasPublisher { return .failure(.notFound("no stream \(stream)")) }
            guard s.sessions.count < maxSessions else { return .failure(.unavailable("session limit")) }
            s.next += 1
            let id = LiveSessionID(value: "S\(s.next)")
            s.sessions[id] = (stream, role)
            return .success(LiveAnswer(session: id, sdp: "v=0\r\ns=answer \(id.value)\r\n"))
        }
        return try result.get()
    }

    func publish(stream: String, offer: String) async throws(LiveError) -> LiveAnswer {
        try open(stream: stream, offer: offer, role: .publisher)
    }
    func watch(stream: String, offer: String) async throws(LiveError) -> LiveAnswer {
        try open(stream: stream, offer: offer, role: .viewer)
    }
    func lookup(_ session: LiveSessionID) -> (stream: String, role: LiveRole)? {
        state.withLock { $0.sessions[session] }
    }
    func trickle(_ session: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) {
        let known = state.withLock { s in
            s.trickled.append(fragment)
            return s.sessions[session] != nil
        }
        if !known { throw .notFound("no session") }
    }
    func restartIce(_ session: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) -> TrickleIceFragment {
        state.withLock { $0.restarts.append(fragment) }
        return Self.serverFragment
    }
    func end(_ session: LiveSessionID) async -> Bool {
        state.withLock { $0.sessions.removeValue(forKey: session) != nil }
    }
    func shutdown() async {
        state.withLock {
            $0.shutDown = true
            $0.sessions.removeAll()
        }
    }
    /// Ends a session as the media side would by itself (a publisher that went away).
    func drop(_ session: LiveSessionID) {
        _ = state.withLock { $0.sessions.removeValue(forKey: session) }
    }
}

/// What a test gets: the client, the fake, the endpoints (their tables) and the registry.
struct HttpHarness: Sendable {
    let client: any TestClientProtocol
    let host: FakeHost
    let endpoints: WishEndpoints
    let registry: PrometheusCollectorRegistry
}

enum HttpTest {
    static let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:cli1\r\na=ice-pwd:clientpasswordclientpassword\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"

    /// A folder with the two pages and a dotfile.
    static func publicFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("live-http-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "<title>publish</title>\n".write(toFile: folder + "/index.html", atomically: true, encoding: .utf8)
        try "<title>watch</title>\n".write(toFile: folder + "/watch.html", atomically: true, encoding: .utf8)
        try "secret\n".write(toFile: folder + "/.env", atomically: true, encoding: .utf8)
        return folder
    }

    /// Runs `body` against the HTTP side on 127.0.0.1 with a ``FakeHost``.
    static func withServer<T: Sendable>(
        token: String? = nil, allowOrigins: [String] = [], iceServers: [IceServer] = [IceServer(url: "stun:stun.example:3478")],
        requestRate: Double = 1000, requestBurst: Int = 1000, maxSessions: Int = 100, maxTrackedAddresses: Int = 4096,
        state: LiveHTTPState = LiveHTTPState(),
        _ body: @Sendable (HttpHarness) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "LiveServer.test")
        logger.logLevel = .warning
        var settings = LiveHTTPSettings(token: token, origins: try OriginPolicy(allowing: allowOrigins), iceServers: iceServers)
        settings.requestRate = requestRate
        settings.requestBurst = requestBurst
        settings.maxTrackedAddresses = maxTrackedAddresses
        let host = FakeHost(maxSessions: maxSessions)
        let endpoints = WishEndpoints(host: host, settings: settings, state: state, logger: logger, sessionCapacity: 2 * maxSessions)
        let registry = PrometheusCollectorRegistry()
        let folder = try publicFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let router = LiveApplication.router(endpoints: endpoints, registry: registry, publicDirectory: folder, logger: logger)
        let application = LiveApplication.build(router: router, host: "127.0.0.1", port: 0, logger: logger)
        return try await application.test(.live) { client in
            try await body(HttpHarness(client: client, host: host, endpoints: endpoints, registry: registry))
        }
    }
}

extension HTTPFields {
    /// Headers from name/value pairs.
    static func with(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return fields
    }
}

extension TestClientProtocol {
    /// POSTs an offer to `/{whip|whep}/{stream}`.
    func post(_ path: String, offer: String = HttpTest.offer, headers: [(String, String)] = []) async throws -> TestResponse {
        try await execute(
            uri: path, method: .post, headers: .with([("Content-Type", "application/sdp")] + headers),
            body: ByteBuffer(string: offer))
    }

    /// PATCHes an sdpfrag to a session resource.
    func patch(_ path: String, fragment: String, headers: [(String, String)]) async throws -> TestResponse {
        try await execute(
            uri: path, method: .patch, headers: .with([("Content-Type", "application/trickle-ice-sdpfrag")] + headers),
            body: ByteBuffer(string: fragment))
    }
}

extension TestResponse {
    func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    func headerValues(_ name: String) -> [String] { HTTPField.Name(name).map { headers[values: $0] } ?? [] }
    var text: String { String(buffer: body) }
}
