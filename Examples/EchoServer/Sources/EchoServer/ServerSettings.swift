// What every session is built from, decided once from the command line.
import NiceWebRTC

/// The settings shared by all sessions: how their connections gather and the limits of
/// docs/echo-signalling.md.
struct ServerSettings: Sendable {
    /// Each session's ``PeerConnection``: gathering on the `--ice-address` addresses only, with
    /// `--port-range`, `--public-address`, `--stun`, `--turn`.
    var connection: PeerConnection.Configuration
    /// `--max-sessions`: WebSockets beyond it get `bye` ("session limit").
    var maxSessions: Int
    /// `--idle-timeout`: a session not `connected` this long after its WebSocket opened is ended.
    var idleTimeout: Duration
    /// `--max-sessions-per-address`: sessions at once from one remote address (an IPv4 address, or
    /// the /64 of an IPv6 one); beyond, a WebSocket gets `bye` ("address limit").
    var maxSessionsPerAddress: Int = 8
    /// `--max-lifetime`: a session older than this is ended with `bye` ("session lifetime"),
    /// connected or not.
    var maxLifetime: Duration = .seconds(3600)
    /// `--offer-rate` and `--offer-burst`: the server-wide budget of offers (ICE restarts
    /// included), a token bucket shared by all sessions; beyond, an offer is dropped with a `rate` error.
    var offerRate: Double = 10
    var offerBurst: Int = 40

    /// The largest signalling message (one text frame, or a fragmented message) handled.
    static let maxMessageBytes = 65_536
    /// The largest single WebSocket frame read at all; a larger one closes the WebSocket with 1009
    /// (NIO's frame decoder refuses it before we see it). Between this and ``maxMessageBytes`` a
    /// message is dropped with an `error` and the session goes on.
    static let maxFrameBytes = 1 << 20
    /// Signalling messages handled per second and WebSocket; beyond, dropped with a `rate` error.
    static let messagesPerSecond = 200
    /// Remote candidates kept while no offer has arrived yet.
    static let maxPendingCandidates = 64
    /// Messages waiting to be written to one WebSocket; a page that does not read is cut off.
    static let outboxCapacity = 4096
    /// How long closing a WebSocket waits for the page's close frame.
    static let closeHandshakeTimeout: Duration = .seconds(2)
    /// How long shutdown waits for the sessions to release their sockets before the process goes on
    /// ending (the whole process must be gone within 5 s of SIGTERM).
    static let shutdownBudget: Duration = .seconds(3)
}
