// The command line (LiveServerCommand): options → PeerConnection.Configuration and the secrets;
// and the graceful shutdown service (new POSTs refused, every session ended).
import Foundation
import Logging
import NiceWebRTC
import ServiceLifecycle
import Synchronization
import Testing

@testable import LiveServer

@Suite("HTTP: command line and shutdown")
struct HttpCommandTests {
    @Test("ICE addresses: --ice-address, else --host if an IP other than 0.0.0.0/::, else 127.0.0.1")
    func iceAddresses() throws {
        #expect(try LiveServerCommand.parsing([]).connectionConfiguration().localAddresses == ["127.0.0.1"])
        #expect(try LiveServerCommand.parsing(["--host", "0.0.0.0"]).connectionConfiguration().localAddresses == ["127.0.0.1"])
        #expect(try LiveServerCommand.parsing(["--host", "::"]).connectionConfiguration().localAddresses == ["127.0.0.1"])
        #expect(try LiveServerCommand.parsing(["--host", "localhost"]).connectionConfiguration().localAddresses == ["127.0.0.1"])
        #expect(try LiveServerCommand.parsing(["--host", "192.0.2.10"]).connectionConfiguration().localAddresses == ["192.0.2.10"])
        let both = try LiveServerCommand.parsing(["--host", "192.0.2.10", "--ice-address", "127.0.0.1", "--ice-address", "::1"])
        #expect(try both.connectionConfiguration().localAddresses == ["127.0.0.1", "::1"])
    }

    @Test("port range, public address, STUN and TURN reach the configuration")
    func peerConfiguration() throws {
        let command = try LiveServerCommand.parsing([
            "--port-range", "40000-40100", "--public-address", "203.0.113.7", "--stun", "stun.example:3478",
            "--turn", "turn.example:3478", "--turn-user", "u",
        ])
        let configuration = try command.connectionConfiguration(turnPassword: "p")
        #expect(configuration.portRange == IceTransport.PortRange(40000, 40100))
        #expect(configuration.natOneToOneAddresses == ["203.0.113.7"])
        #expect(configuration.iceServers == [
            IceServer(url: "stun:stun.example:3478"), IceServer(url: "turn:turn.example:3478", username: "u", credential: "p"),
        ])
    }

    @Test("bad options are refused at parse time", arguments: [
        ["--port", "0"], ["--port-range", "5-1"], ["--port-range", "x"], ["--turn", "turn:t:3478"], ["--turn-user", "u"],
        ["--allow-origin", "https://a.example/path"], ["--log-level", "loud"], ["--max-sessions", "0"],
        ["--request-rate", "0"], ["--token", "a", "--token-file", "/dev/null"],
    ])
    func badOptions(arguments: [String]) {
        #expect(throws: (any Error).self) { try LiveServerCommand.parsing(arguments) }
    }

    @Test("the token: from --token-file's first line or --token; spaces or an empty one refused")
    func token() throws {
        let logger = Logger(label: "test")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("live-token-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "s3cret-token\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try LiveServerCommand.parsing(["--token-file", file]).bearerToken(logger: logger) == "s3cret-token")
        guard ProcessInfo.processInfo.environment[LiveServerCommand.tokenVariable] == nil else { return }
        #expect(try LiveServerCommand.parsing([]).bearerToken(logger: logger) == nil)
        #expect(try LiveServerCommand.parsing(["--token", "abc"]).bearerToken(logger: logger) == "abc")
        #expect(throws: (any Error).self) { try LiveServerCommand.parsing(["--token", "a b"]).bearerToken(logger: logger) }
        try "\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try LiveServerCommand.parsing(["--token-file", file]).bearerToken(logger: logger) }
    }

    @Test("graceful shutdown: new POSTs refused, then every session ended", .timeLimit(.minutes(1)))
    func shutdownService() async throws {
        let host = FakeHost()
        _ = try await host.publish(stream: "s", offer: HttpTest.offer)
        let state = LiveHTTPState()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let group = ServiceGroup(services: [HostShutdownService(host: host, state: state, logger: logger)], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(state.isAccepting)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!state.isAccepting)
        #expect(host.sessionCount == 0)
        #expect(host.state.withLock { $0.shutDown })
    }
}
