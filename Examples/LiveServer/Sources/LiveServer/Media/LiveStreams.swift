// PLACEHOLDER (skeleton): the media side's entry point with its final signature; the media
// helper replaces this file wholly. Every request is refused until then.
import Logging
import Metrics
import NiceWebRTC

/// Every live stream of the server: publishers (WHIP), viewers (WHEP), forwarding, recording.
final class LiveStreams: LiveSessionHost {
    struct Configuration: Sendable {
        /// The configuration every PeerConnection starts from (ICE addresses, port range, STUN/TURN…).
        var peer = PeerConnection.Configuration()
        /// Sessions (publishers + viewers) at once.
        var maxSessions = 500
        /// Viewers per stream at once.
        var maxViewersPerStream = 300
        /// When set, each publisher's media is recorded under this folder (`{stream}-{time}.ivf` / `.ogg`).
        var recordDirectory: String?
        /// How long a POST waits for the server's own candidates before answering with what it has.
        var gatheringTimeout: Duration = .seconds(2)
        init() {}
    }

    init(configuration: Configuration, metrics: any MetricsFactory, logger: Logger) {}

    func publish(stream: String, offer: String) async throws(LiveError) -> LiveAnswer { throw .unavailable("not built yet") }
    func watch(stream: String, offer: String) async throws(LiveError) -> LiveAnswer { throw .unavailable("not built yet") }
    func lookup(_ session: LiveSessionID) -> (stream: String, role: LiveRole)? { nil }
    func trickle(_ session: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) { throw .notFound("no session") }
    func restartIce(_ session: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) -> TrickleIceFragment { throw .notFound("no session") }
    func end(_ session: LiveSessionID) async -> Bool { false }
    func shutdown() async {}
}
