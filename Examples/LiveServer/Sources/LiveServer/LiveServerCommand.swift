// LiveServer: WHIP ingest and WHEP playback on Hummingbird 2 (issue 20).
//
//   scripts/live-server.sh                    (from the repository root: installs, builds, serves)
//   swift run --package-path Examples/LiveServer LiveServer --help
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NiceWebRTC
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The command line (swift-argument-parser) and the run: the Hummingbird application and the
/// media side's shutdown in one ``ServiceGroup`` that shuts down gracefully on SIGTERM and SIGINT.
@main
struct LiveServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "LiveServer",
        abstract: "A live-media server: WHIP ingest (RFC 9725) and WHEP playback on NiceWebRTC.",
        discussion: """
            POST /whip/{stream} publishes (an application/sdp offer → 201, the answer and the \
            session's Location); POST /whep/{stream} watches; PATCH the Location for trickle ICE \
            and ICE restarts, DELETE it to leave. GET / is the publish page, /watch/{stream} the \
            watch page, /metrics Prometheus text, /healthz a liveness probe. SIGTERM or SIGINT ends \
            every session and exits.

            With a token (--token-file, $\(tokenVariable) or --token) WHIP and WHEP need \
            'Authorization: Bearer <token>'; --token is visible to every local user in ps and \
            /proc, prefer the file or the variable. A request whose Origin is neither the page's \
            own (http(s)://<Host>) nor an --allow-origin is refused with 403; one without Origin \
            (OBS, GStreamer, FFmpeg) is allowed. The TURN password is read from --turn-pass-file or \
            $\(turnPasswordVariable); TURN credentials are only handed out (Link headers) when a \
            token is configured.
            """)

    static let turnPasswordVariable = "LIVE_TURN_PASSWORD"
    static let tokenVariable = "LIVE_TOKEN"

    @Option(help: "The address the HTTP server binds.")
    var host = "127.0.0.1"

    @Option(help: "The HTTP port.")
    var port = 8080

    @Option(help: ArgumentHelp(
        "A local address ICE gathers host candidates on (repeatable).",
        discussion: "Default: --host if it is an IP address other than 0.0.0.0 or ::, else 127.0.0.1."))
    var iceAddress: [String] = []

    @Option(help: ArgumentHelp("The local UDP ports ICE uses, LOW-HIGH.", valueName: "low-high"))
    var portRange: String?

    @Option(help: ArgumentHelp(
        "Advertise this address in host candidates instead of the local one (1:1 NAT; one per address family, repeatable).",
        valueName: "ip"))
    var publicAddress: [String] = []

    @Option(help: ArgumentHelp("A STUN server, stun:HOST:PORT (also announced to clients in Link headers).", valueName: "url"))
    var stun: String?

    @Option(help: ArgumentHelp(
        "A TURN server, turn:HOST:PORT (needs --turn-user and a password: --turn-pass-file or $LIVE_TURN_PASSWORD).",
        valueName: "url"))
    var turn: String?

    @Option(help: "The TURN username.")
    var turnUser: String?

    @Option(help: ArgumentHelp(
        "A file holding the TURN password (one line; never logged).",
        discussion: "Without it the password is read from $LIVE_TURN_PASSWORD.",
        valueName: "path"))
    var turnPassFile: String?

    @Option(help: ArgumentHelp(
        "The Bearer token WHIP and WHEP requests must carry (default: none, the server is open).",
        discussion: "Visible to every local user in ps and /proc: prefer --token-file or $LIVE_TOKEN."))
    var token: String?

    @Option(help: ArgumentHelp("A file holding the Bearer token (one line; never logged).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp(
        "Another origin whose pages may use WHIP/WHEP, scheme://host[:port] or null (repeatable).",
        discussion: "Always allowed: the server's own origin (http:// or https:// followed by the Host the request came to) and clients that send no Origin.",
        valueName: "origin"))
    var allowOrigin: [String] = []

    @Option(help: "Sessions (publishers and viewers) at once; beyond, a POST gets 503.")
    var maxSessions = 500

    @Option(help: "Viewers per stream at once; beyond, a WHEP POST gets 503.")
    var maxViewers = 300

    @Option(help: "POSTs and PATCHes per second from one remote address (IPv6: one /64), on average; beyond, 429.")
    var requestRate: Double = 5

    @Option(help: "POSTs and PATCHes one remote address may send at once (the token bucket's size).")
    var requestBurst = 20

    @Option(help: "ICE threads (GLib main loops) the sessions are spread over; each receives and decrypts its sessions' packets.")
    var iceThreads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Record each publisher's media into this folder ({stream}-{time}.ivf / .ogg).", valueName: "dir"))
    var record: String?

    @Option(help: ArgumentHelp(
        "The folder of the pages (index.html, watch.html).",
        discussion: "Default: the package's Public folder, found from the current directory or the executable."))
    var publicDir: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    mutating func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard (1...100_000).contains(maxSessions) else { throw ValidationError("--max-sessions must be 1-100000") }
        guard (1...100_000).contains(maxViewers) else { throw ValidationError("--max-viewers must be 1-100000") }
        guard (1...64).contains(iceThreads) else { throw ValidationError("--ice-threads must be 1-64") }
        guard requestRate > 0, requestRate <= 10_000 else { throw ValidationError("--request-rate must be 0-10000 per second") }
        guard (1...100_000).contains(requestBurst) else { throw ValidationError("--request-burst must be 1-100000") }
        do throws(OriginPolicy.Invalid) { _ = try OriginPolicy(allowing: allowOrigin) } catch {
            throw ValidationError("--allow-origin must be scheme://host[:port] or null, not '\(excerpt(error.origin))'")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        if let portRange { _ = try Self.parsePortRange(portRange) }
        if turn != nil, turnUser == nil { throw ValidationError("--turn needs --turn-user") }
        if turn == nil, turnUser != nil || turnPassFile != nil { throw ValidationError("--turn-user and --turn-pass-file need --turn") }
        if token != nil, tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "LiveServer")

        guard let publicDirectory = publicDir.map({ URL(fileURLWithPath: $0).standardizedFileURL.path }) ?? PublicDirectory.locate() else {
            throw ValidationError("no Public folder with an index.html found; give --public-dir")
        }
        let peer = try connectionConfiguration(turnPassword: try turnPassword(logger: logger))
        try await Self.checkConnectionConfiguration(peer)
        let origins: OriginPolicy
        do throws(OriginPolicy.Invalid) { origins = try OriginPolicy(allowing: allowOrigin) } catch {
            throw ValidationError("--allow-origin: '\(excerpt(error.origin))' is no origin")
        }
        let bearer = try bearerToken(logger: logger)

        var streams = LiveStreams.Configuration()
        streams.peer = peer
        streams.maxSessions = maxSessions
        streams.maxViewersPerStream = maxViewers
        streams.recordDirectory = record
        streams.contexts = NiceContextGroup(count: iceThreads, name: "LiveServer.ice")
        let registry = PrometheusCollectorRegistry()
        let host = LiveStreams(configuration: streams, metrics: PrometheusMetricsFactory(registry: registry), logger: logger)

        var settings = LiveHTTPSettings(token: bearer, origins: origins, iceServers: peer.iceServers)
        settings.requestRate = requestRate
        settings.requestBurst = requestBurst
        if bearer == nil, peer.iceServers.contains(where: { $0.urls.contains { $0.lowercased().hasPrefix("turn") } }) {
            logger.notice("no token: the TURN server is not announced to clients (its credentials would be public)")
        }
        let state = LiveHTTPState()
        let endpoints = WishEndpoints(host: host, settings: settings, state: state, logger: logger, sessionCapacity: 2 * maxSessions)
        let router = LiveApplication.router(endpoints: endpoints, registry: registry, publicDirectory: publicDirectory, logger: logger)
        let application = LiveApplication.build(router: router, host: self.host, port: port, logger: logger)
        logger.info("""
            serving \(publicDirectory), /whip, /whep on http://\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(port)/; \
            ICE on \(peer.localAddresses.joined(separator: ", "))\(peer.portRange.map { " ports \($0)" } ?? "")\
            \(peer.natOneToOneAddresses.isEmpty ? "" : ", advertised as \(peer.natOneToOneAddresses.joined(separator: ", "))"); \
            at most \(maxSessions) sessions, \(maxViewers) viewers per stream; \(bearer == nil ? "open (no token)" : "Bearer token required"); \
            origins: this server's own\(origins.allowed.isEmpty ? "" : ", " + origins.allowed.sorted().joined(separator: ", "))\
            \(record.map { "; recording into \($0)" } ?? "")
            """)

        // Shut down in reverse order: the media side first (every session ended, new POSTs 503),
        // then the application. What is still running after 4.5 s is cancelled.
        var group = ServiceGroupConfiguration(
            services: [application, HostShutdownService(host: host, state: state, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(4500)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }

    /// The command parsed (and validated) from `arguments`, for the tests (whose target does not
    /// import ArgumentParser).
    static func parsing(_ arguments: [String]) throws -> LiveServerCommand {
        try parse(arguments)
    }

    // MARK: Secrets

    /// The first line of a secret file (a warning when other users may read it).
    static func firstLine(ofFile path: String, option: String, logger: Logger) throws -> String {
        let contents: String
        do {
            contents = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("\(option): cannot read \(path)")
        }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            logger.warning("\(option) \(path) is readable by other users (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        return contents.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) } ?? ""
    }

    /// The Bearer token: --token-file, else $LIVE_TOKEN, else --token; nil = open.
    func bearerToken(logger: Logger) throws -> String? {
        let value: String?
        if let tokenFile {
            value = try Self.firstLine(ofFile: tokenFile, option: "--token-file", logger: logger)
        } else if let variable = ProcessInfo.processInfo.environment[Self.tokenVariable], !variable.isEmpty {
            value = variable
        } else {
            value = token
        }
        guard let value else { return nil }
        guard !value.isEmpty, value.utf8.count <= 1024, value.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\u{7F}" && $0 >= " " }) else {
            throw ValidationError("the token must be 1-1024 printable ASCII characters without spaces")
        }
        return value
    }

    /// The TURN password with --turn: the first line of --turn-pass-file, else $LIVE_TURN_PASSWORD.
    func turnPassword(logger: Logger) throws -> String? {
        guard turn != nil else { return nil }
        let password: String
        if let turnPassFile {
            password = try Self.firstLine(ofFile: turnPassFile, option: "--turn-pass-file", logger: logger)
        } else if let value = ProcessInfo.processInfo.environment[Self.turnPasswordVariable] {
            password = value
        } else {
            throw ValidationError("--turn needs a password: --turn-pass-file PATH or $\(Self.turnPasswordVariable)")
        }
        guard !password.isEmpty else { throw ValidationError("--turn: the TURN password is empty") }
        return password
    }

    // MARK: ICE configuration

    /// The sessions' connection configuration from the options.
    func connectionConfiguration(turnPassword: String? = nil) throws -> PeerConnection.Configuration {
        var addresses = iceAddress
        if addresses.isEmpty {
            let isIP = host.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } && (host.contains(".") || host.contains(":"))
            addresses = [isIP && host != "0.0.0.0" && host != "::" ? host : "127.0.0.1"]
        }
        var configuration = PeerConnection.Configuration(localAddresses: addresses)
        if let portRange {
            let (low, high) = try Self.parsePortRange(portRange)
            configuration.portRange = IceTransport.PortRange(low, high)
        }
        configuration.natOneToOneAddresses = publicAddress
        if let stun {
            configuration.iceServers.append(IceServer(url: stun.hasPrefix("stun:") ? stun : "stun:" + stun))
        }
        if let turn {
            let url = turn.hasPrefix("turn:") || turn.hasPrefix("turns:") ? turn : "turn:" + turn
            configuration.iceServers.append(IceServer(url: url, username: turnUser, credential: turnPassword))
        }
        return configuration
    }

    /// `LOW-HIGH` as two ports.
    static func parsePortRange(_ text: String) throws -> (UInt16, UInt16) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = UInt16(parts[0]), let high = UInt16(parts[1]), low > 0, low <= high else {
            throw ValidationError("--port-range must be LOW-HIGH with 1 <= LOW <= HIGH <= 65535, not '\(text)'")
        }
        return (low, high)
    }

    /// Creates (and closes) one connection with the configuration, so that what the library
    /// refuses (a malformed address or server URL) stops the server at start rather than every session.
    static func checkConnectionConfiguration(_ configuration: PeerConnection.Configuration) async throws {
        do throws(PeerConnectionError) {
            let probe = try PeerConnection(configuration: configuration, logger: Logger(label: "LiveServer.check"))
            await probe.closeAndWait()
        } catch {
            throw ValidationError("connection configuration: \(error.field.map { "\($0): " } ?? "")\(error.reason)")
        }
    }
}
