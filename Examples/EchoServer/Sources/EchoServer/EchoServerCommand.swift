// EchoServer: serves a page that opens WebRTC data channels to this server, which answers with
// NiceICE + NiceWebRTC and echoes every message (issue 12; protocol: docs/echo-signalling.md).
//
//   swift run --package-path Examples/EchoServer EchoServer            (from the repository root)
//   open http://127.0.0.1:8080/
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NiceICE
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
            """)

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

    @Option(help: ArgumentHelp("A TURN server, turn:HOST:PORT (needs --turn-user and --turn-pass).", valueName: "url"))
    var turn: String?

    @Option(help: "The TURN username.")
    var turnUser: String?

    @Option(help: "The TURN password (never logged).")
    var turnPass: String?

    @Option(help: "Sessions (WebSockets) at once; beyond, a WebSocket gets bye (\"session limit\").")
    var maxSessions = 100

    @Option(help: "Seconds a session may take from its WebSocket opening to being connected.")
    var idleTimeout: Double = 30

    @Option(help: ArgumentHelp(
        "The folder of the page's files.",
        discussion: "Default: the package's Public folder, found from the current directory or the executable."))
    var publicDir: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    mutating func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1-65535") }
        guard maxSessions >= 1 else { throw ValidationError("--max-sessions must be at least 1") }
        guard idleTimeout > 0, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout must be 0-86400 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        if let portRange { _ = try Self.parsePortRange(portRange) }
        if turn != nil, turnUser == nil || turnPass == nil { throw ValidationError("--turn needs --turn-user and --turn-pass") }
        if turn == nil, turnUser != nil || turnPass != nil { throw ValidationError("--turn-user and --turn-pass need --turn") }
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
            ice: try iceConfiguration(),
            maxSessions: maxSessions,
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
        try await Self.checkIceConfiguration(settings.ice)

        let registry = SessionRegistry(settings: settings, logger: logger)
        let application = EchoApplication.build(
            host: host, port: port, publicDirectory: publicDirectory, registry: registry, logger: logger)
        logger.info("""
            serving \(publicDirectory) and /signal on http://\(host.contains(":") ? "[\(host)]" : host):\(port)/; \
            ICE on \(settings.ice.localAddresses.joined(separator: ", "))\
            \(settings.ice.portRange.map { " ports \($0)" } ?? "")\
            \(settings.ice.natOneToOneAddresses.isEmpty ? "" : ", advertised as \(settings.ice.natOneToOneAddresses.joined(separator: ", "))"); \
            at most \(settings.maxSessions) sessions, idle timeout \(settings.idleTimeout)
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

    /// The sessions' ICE configuration from the options (the role is set per offer).
    func iceConfiguration() throws -> PeerConnection.Configuration {
        var addresses = iceAddress
        if addresses.isEmpty {
            let isIP = host.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } && (host.contains(".") || host.contains(":"))
            addresses = [isIP && host != "0.0.0.0" && host != "::" ? host : "127.0.0.1"]
        }
        var configuration = PeerConnection.Configuration(role: .controlled, localAddresses: addresses)
        if let portRange {
            let (low, high) = try Self.parsePortRange(portRange)
            configuration.portRange = PeerConnection.PortRange(low, high)
        }
        configuration.natOneToOneAddresses = publicAddress
        if let stun {
            configuration.iceServers.append(IceServer(url: stun.hasPrefix("stun:") ? stun : "stun:" + stun))
        }
        if let turn {
            let url = turn.hasPrefix("turn:") || turn.hasPrefix("turns:") ? turn : "turn:" + turn
            configuration.iceServers.append(IceServer(url: url, username: turnUser, credential: turnPass))
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

    /// Creates (and closes) one connection with the configuration, so that what NiceICE refuses
    /// (a malformed address or server URL) stops the server at start rather than every session.
    static func checkIceConfiguration(_ configuration: PeerConnection.Configuration) async throws {
        do throws(IceError) {
            let probe = try PeerConnection(configuration: configuration, logger: Logger(label: "EchoServer.check"))
            await probe.closeAndWait()
        } catch {
            throw ValidationError("ICE configuration: \(error.field.map { "\($0): " } ?? "")\(error.reason)")
        }
    }
}
