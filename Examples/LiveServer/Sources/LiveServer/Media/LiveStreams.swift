import Foundation
import Logging
import Metrics
import NiceWebRTC
import Synchronization

/// Every live stream of the server: publishers (WHIP), viewers (WHEP), forwarding, recording.
///
/// A registry under one lock: streams by name (``LiveStream``: the tracks, forwarding and
/// keyframe requests), sessions by ``LiveSessionID`` (``LiveSession``: one PeerConnection each).
/// A stream exists from its first publisher until it has neither publisher nor viewer; while it
/// exists viewers may join (also between publishers: see ``LiveStream`` for what they see).
/// A session whose connection goes `failed` or `closed` removes itself; ``shutdown()`` closes
/// every connection and refuses later requests.
final class LiveStreams: LiveSessionHost, Sendable {
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
        /// The ICE threads sessions are spread over (round-robin); nil keeps `peer.context`.
        var contexts: NiceContextGroup?
        init() {}
    }

    let configuration: Configuration
    let metrics: LiveMetrics
    let logger: Logger
    private let registry = Mutex(Registry())
    private let poller = Mutex<Task<Void, Never>?>(nil)

    private struct Registry {
        var streams: [String: Entry] = [:]
        var sessions: [LiveSessionID: LiveSession] = [:]
        var closed = false
    }

    private struct Entry {
        let stream: LiveStream
        var publisher: LiveSessionID?
        var viewers: Set<LiveSessionID> = []
    }

    init(configuration: Configuration, metrics: any MetricsFactory, logger: Logger) {
        self.configuration = configuration
        self.metrics = LiveMetrics(factory: metrics)
        self.logger = logger
        self.metrics.sessions(.publisher, 0)
        self.metrics.sessions(.viewer, 0)
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.statsInterval)
                guard let self, !Task.isCancelled else { return }
                await self.pollStats()
            }
        }
        poller.withLock { $0 = task }
    }

    deinit {
        poller.withLock { $0?.cancel() }
    }

    // MARK: LiveSessionHost

    func publish(stream name: String, offer: String) async throws(LiveError) -> LiveAnswer {
        try OfferCheck.publisher(offer)
        var peer = configuration.peer
        peer.remoteMediaPolicy = .accept(direction: .recvonly)
        let session = try register(name, .publisher, peer: peer)
        do throws(LiveError) {
            let connection = session.connection
            try await apply(offer, to: connection)
            try await Self.perform("the answer") { () async throws(PeerConnectionError) in try await connection.setLocalDescription() }
            // The first track of each kind, with the codec the answer gave it.
            var tracks: [MediaKind: RemoteTrack] = [:]
            for transceiver in connection.transceivers {
                if let track = transceiver.receiver.track, tracks[track.kind] == nil { tracks[track.kind] = track }
            }
            var codecs: [MediaKind: String] = [:]
            for (kind, track) in tracks {
                if let codec = track.codecs.first(where: { !$0.isRtx }) { codecs[kind] = codec.mimeType(kind: kind) }
            }
            guard !codecs.isEmpty else { throw .unprocessable("no audio or video section could be accepted") }
            let hasViewers = registry.withLock { !($0.streams[name]?.viewers.isEmpty ?? true) }
            try session.stream.prepareTracks(codecs, hasViewers: hasViewers)
            let sdp = await answerWithCandidates(connection)
            let remoteTracks = Array(tracks.values)
            var recorder: StreamRecorder?
            if let directory = configuration.recordDirectory {
                let r = StreamRecorder(directory: directory, stream: name, start: Date(), logger: logger)
                for track in remoteTracks { r.record(track) }
                recorder = r
            }
            let generation = session.stream.startPublisher(remoteTracks)
            session.withState { s in
                s.generation = generation
                s.recorder = recorder
                s.remoteTracks = remoteTracks
            }
            watch(session)
            logger.info("publisher \(session.id) on \(name): \(codecs.values.sorted())")
            return LiveAnswer(session: session.id, sdp: sdp)
        } catch {
            await end(session.id)
            throw error
        }
    }

    func watch(stream name: String, offer: String) async throws(LiveError) -> LiveAnswer {
        _ = try OfferCheck.sections(of: offer)
        var peer = configuration.peer
        peer.remoteMediaPolicy = .accept(direction: .recvonly)
        let session = try register(name, .viewer, peer: peer)
        do throws(LiveError) {
            let stream = session.stream
            // A publisher whose POST is still being answered has a stream but no tracks yet: to
            // a viewer that is no publisher (404, which WHEP clients retry), not a 422.
            let codecs = stream.codecs
            guard !codecs.isEmpty else { throw .notFound("stream \(name) has no publisher yet") }
            try OfferCheck.viewer(offer, streamCodecs: codecs)
            let connection = session.connection
            try await apply(offer, to: connection)
            // Each kind's track on the first section of that kind; every other section inactive.
            var senders: [RtpSender] = []
            var used: Set<MediaKind> = []
            for transceiver in connection.transceivers {
                let kind = transceiver.kind
                if !used.contains(kind), let track = stream.track(kind) {
                    used.insert(kind)
                    let sender = try Self.performNow("sending \(kind.rawValue)") { () throws(PeerConnectionError) in try connection.addTrack(track) }
                    senders.append(sender)
                    if let t = connection.transceivers.first(where: { $0.sender === sender }) {
                        try Self.performNow("direction") { () throws(PeerConnectionError) in try t.setDirection(.sendonly) }
                    }
                } else if transceiver.sender.track == nil {
                    try Self.performNow("direction") { () throws(PeerConnectionError) in try transceiver.setDirection(.inactive) }
                }
            }
            try await Self.perform("the answer") { () async throws(PeerConnectionError) in try await connection.setLocalDescription() }
            for sender in senders where sender.codec == nil {
                throw .unprocessable("the offer does not receive \(sender.track?.mimeType ?? sender.kind.rawValue), the stream's codec")
            }
            let sdp = await answerWithCandidates(connection)
            stream.watchKeyframeRequests()
            watch(session)
            logger.info("viewer \(session.id) on \(name)")
            return LiveAnswer(session: session.id, sdp: sdp)
        } catch {
            await end(session.id)
            throw error
        }
    }

    func lookup(_ session: LiveSessionID) -> (stream: String, role: LiveRole)? {
        registry.withLock { r in r.sessions[session].map { ($0.streamName, $0.role) } }
    }

    func trickle(_ id: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) {
        guard let session = registry.withLock({ $0.sessions[id] }) else { throw .notFound("no session \(id)") }
        try await addCandidates(session.withState { $0.restartEnd.hold(fragment) }, to: session.connection)
    }

    /// An ICE restart (RFC 9725 §4.4.1.2): the client's current remote description with its new
    /// ufrag/pwd and no candidates becomes a new remote offer, its answer gives the server's new
    /// ufrag/pwd, and the fragment's candidates are added to the new generation; returns the
    /// server's new credentials with the candidates gathered within `gatheringTimeout`. A
    /// fragment with the credentials already in effect only adds its candidates and returns the
    /// server's current credentials (no candidates).
    func restartIce(_ id: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) -> TrickleIceFragment {
        guard let session = registry.withLock({ $0.sessions[id] }) else { throw .notFound("no session \(id)") }
        guard let ufrag = fragment.iceUfrag, SdpEditing.isIceChars(ufrag, minimum: 4) else {
            throw .badRequest("a=ice-ufrag: missing or not 4–256 ice-chars")
        }
        guard let password = fragment.icePwd, SdpEditing.isIceChars(password, minimum: 22) else {
            throw .badRequest("a=ice-pwd: missing or not 22–256 ice-chars")
        }
        let connection = session.connection
        guard let remote = connection.remoteDescription else { throw .unprocessable("the session has no remote description") }
        let current = try? IceDescription(parsing: remote.sdp).media.first
        if current?.usernameFragment == ufrag && current?.password == password {
            // The credentials in effect: not a restart, only candidates; the server's credentials
            // in effect go back.
            try await addCandidates(session.withState { $0.restartEnd.hold(fragment) }, to: connection)
            let local = connection.localDescription.flatMap { try? IceDescription(parsing: $0.sdp).media.first }
            return TrickleIceFragment(iceUfrag: local?.usernameFragment, icePwd: local?.password, candidates: [], endOfCandidates: false)
        }
        let offer = SdpEditing.replacingCredentials(in: remote.sdp, ufrag: ufrag, password: password)
        // The new generation's end-of-candidates waits for its first selected pair
        // (`RestartEndOfCandidates`): a pair selected after the restart offer was applied.
        let generation = session.withState { $0.restartEnd.begin() }
        do throws(LiveError) {
            try await Self.perform("the restart offer") { () async throws(PeerConnectionError) in
                try await connection.setRemoteDescription(SessionDescription(type: .offer, sdp: offer))
            }
        } catch {
            _ = session.withState { $0.restartEnd.release(generation) }
            throw error
        }
        let previous = connection.selectedCandidatePair
        releaseEndOfCandidates(of: session, generation: generation, after: previous, pairs: connection.selectedCandidatePairChanges())
        let answer = try await Self.perform("the restart answer") { () async throws(PeerConnectionError) in try await connection.setLocalDescription() }
        try await addCandidates(session.withState { $0.restartEnd.hold(fragment) }, to: connection)
        let gathered = await Gathering.candidates(of: connection, timeout: configuration.gatheringTimeout)
        let local = try? IceDescription(parsing: answer.sdp).media.first
        logger.info("ICE restart of \(id)")
        return TrickleIceFragment(
            iceUfrag: local?.usernameFragment, icePwd: local?.password, candidates: gathered.candidates, endOfCandidates: gathered.complete)
    }

    @discardableResult
    func end(_ id: LiveSessionID) async -> Bool {
        let removed = registry.withLock { r -> (LiveSession, closeStream: Bool, viewers: Int)? in
            guard let session = r.sessions.removeValue(forKey: id) else { return nil }
            var closeStream = false
            var viewers = 0
            if var entry = r.streams[session.streamName], entry.stream === session.stream {
                if entry.publisher == id { entry.publisher = nil }
                entry.viewers.remove(id)
                viewers = entry.viewers.count
                if entry.publisher == nil && entry.viewers.isEmpty {
                    r.streams[session.streamName] = nil
                    closeStream = true
                } else {
                    r.streams[session.streamName] = entry
                }
            }
            return (session, closeStream, viewers)
        }
        guard let removed else { return false }
        let (session, closeStream, viewers) = removed
        updateSessionGauges()
        session.connection.close()
        let (generation, recorder, watcher) = session.withState { s in
            defer {
                s.remoteTracks = []
                s.recorder = nil
                s.watcher = nil
            }
            return (s.generation, s.recorder, s.watcher)
        }
        watcher?.cancel()
        if let generation { session.stream.publisherEnded(generation) }
        if closeStream {
            session.stream.close()
        } else {
            metrics.viewers(session.streamName, viewers)
        }
        await recorder?.finish()
        logger.info("\(session.role == .publisher ? "publisher" : "viewer") \(id) on \(session.streamName) ended")
        return true
    }

    func shutdown() async {
        let ids = registry.withLock { r -> [LiveSessionID] in
            r.closed = true
            return Array(r.sessions.keys)
        }
        poller.withLock { $0?.cancel() }
        for id in ids { await end(id) }
    }

    // MARK: Parts

    /// The sessions now (for the stats poller and tests).
    func allSessions() -> [LiveSession] { registry.withLock { Array($0.sessions.values) } }

    /// The stream named `name` now (tests).
    func stream(named name: String) -> LiveStream? { registry.withLock { $0.streams[name]?.stream } }

    /// A new session with its connection, counted against the limits before any negotiation
    /// (internal: a test holds a publisher between registration and its tracks).
    func register(_ name: String, _ role: LiveRole, peer: PeerConnection.Configuration) throws(LiveError) -> LiveSession {
        let connection: PeerConnection
        var peer = peer
        if let contexts = configuration.contexts { peer.context = contexts.next() }
        do throws(PeerConnectionError) {
            connection = try PeerConnection(configuration: peer, logger: logger)
        } catch {
            throw .unavailable("cannot create a connection: \(error.reason)")
        }
        let id = LiveSessionID.random()
        let outcome = registry.withLock { r -> Result<(LiveSession, Int), LiveError> in
            guard !r.closed else { return .failure(.unavailable("the server is shutting down")) }
            guard r.sessions.count < configuration.maxSessions else {
                return .failure(.unavailable("\(configuration.maxSessions) sessions already"))
            }
            var entry: Entry
            switch role {
            case .publisher:
                entry = r.streams[name] ?? Entry(stream: LiveStream(name: name, metrics: metrics, logger: logger))
                guard entry.publisher == nil else { return .failure(.conflict("stream \(name) has a publisher")) }
                entry.publisher = id
            case .viewer:
                guard let existing = r.streams[name] else { return .failure(.notFound("stream \(name) has no publisher")) }
                entry = existing
                guard entry.viewers.count < configuration.maxViewersPerStream else {
                    return .failure(.unavailable("stream \(name) has \(configuration.maxViewersPerStream) viewers already"))
                }
                entry.viewers.insert(id)
            }
            let session = LiveSession(id: id, streamName: name, role: role, connection: connection, stream: entry.stream)
            r.streams[name] = entry
            r.sessions[id] = session
            return .success((session, entry.viewers.count))
        }
        switch outcome {
        case .success(let (session, viewers)):
            updateSessionGauges()
            if role == .viewer { metrics.viewers(name, viewers) }
            return session
        case .failure(let error):
            connection.close()
            throw error
        }
    }

    private func updateSessionGauges() {
        let (publishers, viewers) = registry.withLock { r in
            (r.sessions.values.filter { $0.role == .publisher }.count, r.sessions.values.filter { $0.role == .viewer }.count)
        }
        metrics.sessions(.publisher, publishers)
        metrics.sessions(.viewer, viewers)
    }

    private func apply(_ offer: String, to connection: PeerConnection) async throws(LiveError) {
        try await Self.perform("the offer") { () async throws(PeerConnectionError) in
            try await connection.setRemoteDescription(SessionDescription(type: .offer, sdp: offer))
        }
    }

    /// The local description with the candidates gathered within the timeout.
    private func answerWithCandidates(_ connection: PeerConnection) async -> String {
        let gathered = await Gathering.candidates(of: connection, timeout: configuration.gatheringTimeout)
        let sdp = connection.localDescription?.sdp ?? ""
        return SdpEditing.adding(candidates: gathered.candidates, complete: gathered.complete, to: sdp)
    }

    /// Gives ICE the fragment's candidates: one that does not parse, names no section of the
    /// session or an address ICE refuses is the client's error (`.badRequest`); a closed
    /// connection `.notFound` (the session is going). mDNS `.local` candidates are skipped by
    /// the library without an error (peer-reflexive discovery connects such a client).
    private func addCandidates(_ fragment: TrickleIceFragment, to connection: PeerConnection) async throws(LiveError) {
        for candidate in fragment.candidates + (fragment.endOfCandidates ? [nil] : []) {
            do throws(PeerConnectionError) {
                try await connection.addIceCandidate(candidate)
            } catch {
                let field = candidate == nil ? "a=end-of-candidates" : "a=candidate"
                if error.code == .invalidState { throw .notFound("\(field): the session's connection is closed") }
                throw .badRequest("\(field): \(error.reason)")
            }
        }
    }

    /// Removes the session when its connection fails or closes, or when the client's DTLS said
    /// goodbye (close_notify: W3C keeps the connection `connected` then, but nothing can flow
    /// again; without this a closed tab would linger until ICE fails, ~30 s); asks a viewer's
    /// first keyframe when it connects.
    private func watch(_ session: LiveSession) {
        let states = session.connection.connectionStateChanges()
        let dtls = session.connection.dtlsStateChanges()
        let id = session.id, role = session.role, stream = session.stream
        let task = Task { [weak self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var connected = false
                    for await state in states {
                        switch state {
                        case .connected where !connected:
                            connected = true
                            if role == .viewer { stream.requestKeyframe(fromViewers: false) }
                        case .failed, .closed:
                            return
                        default:
                            continue
                        }
                    }
                }
                group.addTask {
                    var wasConnected = false
                    for await change in dtls {
                        if change.state == .connected { wasConnected = true }
                        if change.state == .failed || (wasConnected && change.state == .closed) { return }
                    }
                }
                // Either watcher ending (or the task being cancelled by `end`) ends the session.
                await group.next()
                group.cancelAll()
            }
            guard !Task.isCancelled else { return }
            await self?.end(id)
        }
        session.withState { $0.watcher = task }
    }

    /// Runs a PeerConnection call, mapping its error: an SDP that does not read → `.badRequest`,
    /// anything else refused → `.unprocessable`.
    @discardableResult
    static func perform<R>(_ what: String, _ body: () async throws(PeerConnectionError) -> R) async throws(LiveError) -> R {
        do throws(PeerConnectionError) {
            return try await body()
        } catch {
            if let sdp = error.sdpError {
                let field = sdp.field ?? "sdp"
                let line = sdp.line.map { " (line \($0))" } ?? ""
                switch sdp.code {
                case .malformed, .missing: throw .badRequest("\(field)\(line): \(sdp.reason)")
                default: throw .unprocessable("\(field)\(line): \(sdp.reason)")
                }
            }
            switch error.code {
            case .typeError, .syntaxError: throw .badRequest("\(what): \(error.reason)")
            case .invalidState: throw .unavailable("\(what): \(error.reason)")
            default: throw .unprocessable("\(what): \(error.reason)")
            }
        }
    }

    @discardableResult
    static func performNow<R>(_ what: String, _ body: () throws(PeerConnectionError) -> R) throws(LiveError) -> R {
        do throws(PeerConnectionError) {
            return try body()
        } catch {
            throw .unprocessable("\(what): \(error.reason)")
        }
    }
}
