import NiceWebRTC
import Synchronization

/// One WHIP or WHEP session: its PeerConnection, what it belongs to, and what the stats poller
/// last read from it (to turn cumulative stats into counter increments).
final class LiveSession: Sendable {
    let id: LiveSessionID
    let streamName: String
    let role: LiveRole
    let connection: PeerConnection
    let stream: LiveStream
    private let state = Mutex(State())

    struct State {
        /// The publisher's forwarding generation, once it forwards.
        var generation: UInt64?
        var recorder: StreamRecorder?
        var remoteTracks: [RemoteTrack] = []
        var watcher: Task<Void, Never>?
        var baseline = StatsBaseline()
        /// The end-of-candidates of a restarted ICE generation, held until it selects a pair.
        var restartEnd = RestartEndOfCandidates()
    }

    /// Cumulative figures already exported.
    struct StatsBaseline {
        var bytesOut: [MediaKind: UInt64] = [:]
        var lost: Int64 = 0
        var nacks: UInt64 = 0
        var dropped: UInt64 = 0
    }

    init(id: LiveSessionID, streamName: String, role: LiveRole, connection: PeerConnection, stream: LiveStream) {
        self.id = id
        self.streamName = streamName
        self.role = role
        self.connection = connection
        self.stream = stream
    }

    func withState<R: Sendable>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
}
