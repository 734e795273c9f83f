// LiveLoad: one WHIP publisher and N WHEP viewers against a LiveServer, each a NiceWebRTC
// PeerConnection in this process (issue 20's benchmark: viewers per process with < 1 % loss and
// no freeze over 1 s, time from WHEP POST to first frame).
import ArgumentParser
import Foundation
import Logging
import NiceWebRTC

@main
struct LiveLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "LiveLoad",
        abstract: "One WHIP publisher (1.5 Mbit/s VP8-shaped video, 30 fps, and Opus) and N WHEP viewers against a LiveServer.",
        discussion: """
            The publisher connects first and keeps sending; viewers join at --join-rate; once every \
            viewer joined (and had 10 s to show a first frame) the window of --duration seconds \
            starts, over which loss (RTP packets the publisher sent that a viewer did not get) and \
            freezes (the longest gap between two frames) are measured. Time to first frame is from \
            a viewer's WHEP POST to its first keyframe. Ends with a `summary key=value …` line.
            """)

    @Option(help: "The server's base URL.")
    var server = "http://127.0.0.1:8080"

    @Option(help: "The stream name.")
    var stream = "load"

    @Option(help: "WHEP viewers.")
    var viewers = 10

    @Option(help: "Seconds of the measurement window.")
    var duration: Double = 20

    @Option(help: "The server's Bearer token, if it has one.")
    var token: String?

    @Option(help: "Viewers joining per second.")
    var joinRate: Double = 20

    @Option(help: "The local address ICE gathers on.")
    var iceAddress = "127.0.0.1"

    @Option(help: "ICE threads (NiceContexts) the viewers are spread over: one decrypts every viewer's media on one core otherwise.")
    var iceThreads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The server's pid: its CPU and RSS over the window are reported.")
    var serverPid: Int?

    @Option(help: "Seconds a viewer or the publisher may take from its POST to connected.")
    var connectTimeout: Double = 30

    @Flag(help: "Print one line per viewer.")
    var perViewer = false

    @Flag(help: "Exit 1 unless every viewer joined, showed a frame, lost < 1 % and froze for no more than 1 s.")
    var expectAll = false

    @Option(help: "trace, debug, info, notice, warning, error or critical (the library's log, on stderr).")
    var logLevel = "warning"

    func validate() throws {
        guard URL(string: server)?.scheme?.hasPrefix("http") == true else { throw ValidationError("--server must be an http:// or https:// URL") }
        guard stream.range(of: "^[A-Za-z0-9_-]{1,64}$", options: .regularExpression) != nil else { throw ValidationError("--stream must match [A-Za-z0-9_-]{1,64}") }
        guard viewers >= 0, viewers <= 5000 else { throw ValidationError("--viewers must be 0…5000") }
        guard duration > 0, duration <= 3600 else { throw ValidationError("--duration must be in (0, 3600]") }
        guard iceThreads >= 1, iceThreads <= 64 else { throw ValidationError("--ice-threads must be 1…64") }
        guard joinRate > 0 else { throw ValidationError("--join-rate must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "LiveLoad")
        raiseFdLimit()
        // Everything is bounded: a run that outlives its budget exits 3.
        let budget = Double(viewers) / joinRate + connectTimeout + 10 + duration + 120
        Task.detached {
            try? await Task.sleep(for: .seconds(budget))
            FileHandle.standardError.write(Data("LiveLoad: still running after \(Int(budget)) s, giving up\n".utf8))
            Foundation.exit(3)
        }
        guard let base = URL(string: server) else { throw ExitCode(2) }
        let http = WhipHttp(server: base, token: token, connections: 64)
        let run = LoadRun(
            http: http, stream: stream, viewers: viewers, joinRate: joinRate, window: .seconds(duration),
            connectTimeout: .seconds(connectTimeout), serverPid: serverPid.map(String.init), logger: logger,
            configuration: try Self.peerConfiguration(iceAddress), contexts: NiceContextGroup(count: iceThreads, name: "LiveLoad.ice"))
        let ok = try await run.run(perViewer: perViewer)
        if expectAll, ok < viewers { throw ExitCode(1) }
    }

    /// Every connection on `address`, one certificate for all (a certificate per connection
    /// would measure key generation; a browser reuses its own too).
    static func peerConfiguration(_ address: String) throws -> PeerConnection.Configuration {
        let certificate: Certificate
        do {
            certificate = try Certificate.generate()
        } catch {
            throw LoadError("Certificate.generate: \(error)")
        }
        return PeerConnection.Configuration(certificates: [certificate], localAddresses: [address])
    }

    /// Raises the soft fd limit to the hard one (each connection holds a few fds).
    static func raiseFdLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    private func raiseFdLimit() { Self.raiseFdLimit() }
}
