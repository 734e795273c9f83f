// EchoServer: serves a page that opens WebRTC data channels to this server, which answers with
// NiceICE + NiceWebRTC and echoes every message (issue 12; protocol: docs/echo-signalling.md).
//
//   swift run --package-path Examples/EchoServer EchoServer            (from the repository root)
//   open http://127.0.0.1:8080/
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NiceWebRTC
import ServiceLifecycle
import UnixSignals

/// The command line (swift-argument-parser) and the run: the Hummingbird application and the
/// ``SessionRegistry`` in one ``ServiceGroup`` that shuts down gracefully on SIGTERM and SIGINT.
@main
struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "EchoServer",
        abstract: "Serves a WebRTC data-channel echo page and answers it with NiceICE + NiceWebRTC.",
        discussion: """
            GET / serves the page (--public-dir); /signal is the signalling WebSocket \
            (docs/echo-signalling.md). Each WebSocket is one session: the server answers the page's \
            offer, trickles candidates, echoes every message on every channel the page opens and \
            reports its own state changes. SIGTERM or SIGINT ends every session with bye and exits.

            A WebSocket upgrade whose Origin is neither the page's own (http(s)://<Host>) nor an \
            --allow-origin is refused with 403; one without Origin (not a browser) is allowed. \
            The TURN password is read from --turn-pass-file or $\(turnPasswordVariable), never \
            from the command line (which any local user can read in ps or /proc).
            """)

    /// The environment variable holding the TURN password when --turn-pass-file is not given.
    static let turnPasswordVariable = "ECHO_TURN_PASSWORD"

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

    @Option(help: ArgumentHelp("A STUN server, stun:HOST:PORT.", valueName: "url"))
    var stun: String?

    @Option(help: ArgumentHelp(
        "A TURN server, turn:HOST:PORT (needs --turn-user and a password: --turn-pass-file or $ECHO_TURN_PASSWORD).",
        valueName: "url"))
    var turn: String?

    @Option(help: "The TURN username.")
    var turnUser: String?

    @Option(help: ArgumentHelp(
        "A file holding the TURN password (one line; never logged).",
        discussion: "Without it the password is read from $ECHO_TURN_PASSWORD. There is no option taking the password itself: the command line is readable by every local user.",
        valueName: "path"))
    var turnPassFile: String?

    @Option(help: ArgumentHelp(
        "Another origin allowed to open /signal WebSockets, scheme://host[:port] or null (repeatable).",
        discussion: "Always allowed: the page's own origin (http:// or https:// followed by the Host the request came to) and clients that send no Origin.",
        valueName: "origin"))
    var allowOrigin: [String] = []

    @Option(help: "Sessions (WebSockets) at once; beyond, a WebSocket gets bye (\"session limit\").")
    var maxSessions = 100

    @Option(help: "Sessions at once from one remote address (IPv6: one /64); beyond, a WebSocket gets bye (\"address limit\").")
    var maxSessionsPerAddress = 8

    @Option(help: "Seconds a session may take from its WebSocket opening to being connected.")
    var idleTimeout: Double = 30

    @Option(help: "Seconds a session may last at all; then it gets bye (\"session lifetime\").")
    var maxLifetime: Double = 3600

    @Option(help: "Offers (ICE restarts included) the whole server takes per second, on average; beyond, an offer is dropped with a rate error.")
    var offerRate: Double = 10

    @Option(help: "Offers the whole server takes at once (the token bucket's size).")
    var offerBurst = 40

    @Option(help: ArgumentHelp(
        "The folder of the page's files.",
        discussion: "Default: the package's Public folder, found from the current directory or the executable."))
    var publicDir: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    mutating func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard maxSessions >= 1 else { throw ValidationError("--max-sessions must be at least 1") }
        guard maxSessionsPerAddress >= 1 else { throw ValidationError("--max-sessions-per-address must be at least 1") }
        guard idleTimeout > 0, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout must be 0-86400 seconds") }
        guard maxLifetime > 0, maxLifetime <= 7 * 86_400 else { throw ValidationError("--max-lifetime must be 0-604800 seconds") }
        guard offerRate > 0, offerRate <= 10_000 else { throw ValidationError("--offer-rate must be 0-10000 per second") }
        guard (1...100_000).contains(offerBurst) else { throw ValidationError("--offer-burst must be 1-100000") }
        do throws(OriginPolicy.Invalid) { _ = try OriginPolicy(allowing: allowOrigin) } catch {
            throw ValidationError("--allow-origin must be scheme://host[:port] or null, not '\(SignallingError.excerpt(error.origin))'")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        if let portRange { _ = try Self.parsePortRange(portRange) }
        if turn != nil, turnUser == nil { throw ValidationError("--turn needs --turn-user") }
        if turn == nil, turnUser != nil || turnPassFile != nil { throw ValidationError("--turn-user and --turn-pass-file need --turn") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "EchoServer")

        guard let publicDirectory = publicDir.map({ URL(fileURLWithPath: $0).standardizedFileURL.path }) ?? PublicDirectory.locate() else {
            throw ValidationError("no Public folder with an index.html found; give --public-dir")
        }
        let settings = ServerSettings(
            connection: try connectionConfiguration(turnPassword: try turnPassword(logger: logger)),
            maxSessions: maxSessions,
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            maxSessionsPerAddress: maxSessionsPerAddress,
            maxLifetime: .milliseconds(Int64(maxLifetime * 1000)),
            offerRate: offerRate,
            offerBurst: offerBurst)
        try await Self.checkConnectionConfiguration(settings.connection)
        let origins: OriginPolicy
        do throws(OriginPolicy.Invalid) { origins = try OriginPolicy(allowing: allowOrigin) } catch {
            throw ValidationError("--allow-origin: '\(SignallingError.excerpt(error.origin))' is no origin")
        }

        let registry = SessionRegistry(settings: settings, logger: logger)
        let application = EchoApplication.build(
            host: host, port: port, publicDirectory: publicDirectory, origins: origins, registry: registry, logger: logger)
        logger.info("""
            serving \(publicDirectory) and /signal on http://\(host.contains(":") ? "[\(host)]" : host):\(port)/; \
            ICE on \(settings.connection.localAddresses.joined(separator: ", "))\
            \(settings.connection.portRange.map { " ports \($0)" } ?? "")\
            \(settings.connection.natOneToOneAddresses.isEmpty ? "" : ", advertised as \(settings.connection.natOneToOneAddresses.joined(separator: ", "))"); \
            at most \(settings.maxSessions) sessions (\(settings.maxSessionsPerAddress) per address), \
            idle timeout \(settings.idleTimeout), lifetime \(settings.maxLifetime), \
            \(Session.rateText(settings.offerRate)) offers/s (\(settings.offerBurst) at once); \
            origins: this server's own\(origins.allowed.isEmpty ? "" : ", " + origins.allowed.sorted().joined(separator: ", "))
            """)

        // Shut down in reverse order: the registry first (bye, ABORT, 1001 to every session), then
        // the application. What is still running after 4.5 s is cancelled.
        var group = ServiceGroupConfiguration(
            services: [application, registry], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(4500)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }

    // MARK: ICE configuration

    /// The TURN password with --turn: the first line of --turn-pass-file, else $ECHO_TURN_PASSWORD.
    func turnPassword(logger: Logger) throws -> String? {
        guard turn != nil else { return nil }
        let password: String
        if let turnPassFile {
            let contents: String
            do {
                contents = try String(contentsOfFile: turnPassFile, encoding: .utf8)
            } catch {
                throw ValidationError("--turn-pass-file: cannot read \(turnPassFile)")
            }
            password = contents.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) } ?? ""
            if let mode = (try? FileManager.default.attributesOfItem(atPath: turnPassFile))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                logger.warning("--turn-pass-file \(turnPassFile) is readable by other users (mode \(String(mode, radix: 8))); chmod 600 it")
            }
        } else if let value = ProcessInfo.processInfo.environment[Self.turnPasswordVariable] {
            password = value
        } else {
            throw ValidationError("--turn needs a password: --turn-pass-file PATH or $\(Self.turnPasswordVariable)")
        }
        guard !password.isEmpty else { throw ValidationError("--turn: the TURN password is empty") }
        return password
    }

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
            let probe = try PeerConnection(configuration: configuration, logger: Logger(label: "EchoServer.check"))
            await probe.closeAndWait()
        } catch {
            throw ValidationError("connection configuration: \(error.field.map { "\($0): " } ?? "")\(error.reason)")
        }
    }
}
