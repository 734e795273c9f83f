import Logging
import NiceWebRTC
import Synchronization

/// One named stream: the `LocalTrack`s its viewers are sent (one per kind, for the stream's
/// lifetime), the forwarding of its current publisher's packets into them, and the keyframe
/// requests going the other way.
///
/// **Publisher restarts.** When the publisher leaves, the viewers stay connected and keep their
/// tracks: nothing is written, so their video freezes on the last frame (and audio goes silent)
/// until a new publisher on the same stream resumes writing into the same `LocalTrack`s. Each
/// viewer's SSRC and sequence numbers stay continuous (the library numbers per sender) and so do
/// its timestamps (``TimestampRebaser``: the first new packet continues from the last one plus
/// the wall-clock gap). A new publisher must send the codec the stream's viewers negotiated
/// (else `.unprocessable`); with no viewer left, the stream takes the new publisher's codec.
///
/// **Slow viewers.** ``LocalTrack/write(_:)`` never blocks: it rewrites the packet per viewer and
/// hands it to that viewer's SRTP and ICE socket at once. A viewer whose path cannot keep up
/// loses packets at its own socket (the kernel's send buffer full: libnice refuses the datagram
/// and it is dropped as UDP would; counted in the viewer's `IceTransport.counters.datagramsDropped`,
/// exported as `live_viewer_dropped_packets_total`), and recovers by NACK (answered from the
/// viewer's send history) or by a keyframe request. Nothing queues per viewer in the server, so
/// the publisher's reader and every other viewer go on at full speed. The one queue is the
/// publisher track's reader (``RemoteTrack/packets(bufferCapacity:)``, 1,024 packets,
/// newest kept): should forwarding itself fall behind, its drops are counted there (same metric).
///
/// **Keyframes.** Every viewer's PLI/FIR on a track (``LocalTrack/keyframeRequests()``), and every
/// viewer that becomes connected, asks the publisher's video for a keyframe through a
/// ``KeyframeGate`` (one request per 500 ms, a request inside the interval sent at its end).
final class LiveStream: Sendable {
    let name: String
    private let metrics: LiveMetrics
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var tracks: [MediaKind: LocalTrack] = [:]
        var rebasers: [MediaKind: TimestampRebaser] = [:]
        var gate = KeyframeGate()
        var publisherVideo: RemoteTrack?
        var generation: UInt64 = 0
        /// The keyframe-request watcher of each track (its number), while one runs.
        var watchers: [MediaKind: UInt64] = [:]
        var nextWatcher: UInt64 = 0
        var closed = false
    }

    init(name: String, metrics: LiveMetrics, logger: Logger) {
        self.name = name
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "stream"] = "\(name)"
        self.logger = logger
    }

    /// The stream's tracks' codecs (`video/VP8`, `audio/opus`…), by kind.
    var codecs: [MediaKind: String] { state.withLock { $0.tracks.mapValues(\.mimeType) } }

    /// The track of `kind`, nil when no publisher ever sent that kind.
    func track(_ kind: MediaKind) -> LocalTrack? { state.withLock { $0.tracks[kind] } }

    /// Makes sure there is a track of each kind a publisher sends, with its codec. A codec
    /// differing from the current track's is refused while viewers receive the stream.
    func prepareTracks(_ codecs: [MediaKind: String], hasViewers: Bool) throws(LiveError) {
        let result = state.withLock { s -> LiveError? in
            for (kind, mime) in codecs {
                if let track = s.tracks[kind], track.mimeType.lowercased() != mime.lowercased() {
                    if hasViewers {
                        return .unprocessable("stream \(name) sends \(track.mimeType) to its viewers; the offer's \(kind.rawValue) is \(mime)")
                    }
                    track.finishKeyframeRequests()
                    s.tracks[kind] = nil
                    s.watchers[kind] = nil
                }
                if s.tracks[kind] == nil {
                    s.tracks[kind] = LocalTrack(kind: kind, mimeType: mime, id: kind.rawValue, streamId: name)
                }
            }
            return nil
        }
        if let result { throw result }
    }

    // MARK: Forwarding

    /// A new publisher: forwards each of its tracks (the first per kind) into the stream's
    /// track of that kind until the track ends (its connection closed). Returns its generation.
    func startPublisher(_ remoteTracks: [RemoteTrack]) -> UInt64 {
        let generation = state.withLock { s -> UInt64 in
            s.generation += 1
            s.publisherVideo = remoteTracks.first { $0.kind == .video }
            return s.generation
        }
        for remote in remoteTracks {
            let kind = remote.kind
            guard let mime = track(kind)?.mimeType.lowercased() else { continue }
            // Only the payload types of the stream's codec go out (a viewer negotiated that one).
            let payloadTypes = Set(remote.codecs.filter { $0.mimeType(kind: kind).lowercased() == mime }.map(\.payloadType))
            let packets = remote.packets(bufferCapacity: RemoteTrack.defaultBufferCapacity)
            Task { [weak self] in
                for await packet in packets {
                    guard let self else { return }
                    guard payloadTypes.contains(packet.payloadType) else { continue }
                    self.forward(packet, kind: kind, generation: generation)
                }
            }
        }
        return generation
    }

    private func forward(_ packet: RtpPacket, kind: MediaKind, generation: UInt64) {
        let now = ContinuousClock.now
        let target = state.withLock { s -> (LocalTrack, UInt32)? in
            guard !s.closed, s.generation == generation, let track = s.tracks[kind] else { return nil }
            var rebaser = s.rebasers[kind] ?? TimestampRebaser(clockRate: kind == .video ? 90_000 : 48_000)
            let timestamp = rebaser.rebase(packet.timestamp, source: .init(generation: generation, ssrc: packet.ssrc), at: now)
            s.rebasers[kind] = rebaser
            return (track, timestamp)
        }
        guard let target else { return }
        let (track, timestamp) = target
        var out = packet
        out.timestamp = timestamp
        metrics.bytesIn(name, kind, packet.payload.count)
        track.write(out)
    }

    /// The publisher of `generation` left: no keyframe request goes to it any more.
    func publisherEnded(_ generation: UInt64) {
        state.withLock { s in
            if s.generation == generation { s.publisherVideo = nil }
        }
    }

    // MARK: Keyframes

    /// Watches each track's keyframe requests (viewers' PLI/FIR) when no watcher runs: called
    /// once a viewer's sender has its track (a track's request streams finish when its last
    /// viewer's connection closes, so a later viewer starts a new watcher).
    func watchKeyframeRequests() {
        let started = state.withLock { s -> [(UInt64, AsyncStream<KeyframeRequest>)] in
            guard !s.closed else { return [] }
            var started: [(UInt64, AsyncStream<KeyframeRequest>)] = []
            for (kind, track) in s.tracks where kind == .video && s.watchers[kind] == nil {
                s.nextWatcher += 1
                s.watchers[kind] = s.nextWatcher
                started.append((s.nextWatcher, track.keyframeRequests()))
            }
            return started
        }
        for (number, requests) in started {
            Task { [weak self] in
                for await _ in requests {
                    guard let self else { return }
                    self.requestKeyframe(fromViewers: true)
                }
                self?.state.withLock { s in
                    if s.watchers[.video] == number { s.watchers[.video] = nil }
                }
            }
        }
    }

    /// Asks the publisher for a keyframe through the gate (a viewer's PLI/FIR, or a viewer that
    /// just connected).
    func requestKeyframe(fromViewers: Bool) {
        if fromViewers { metrics.keyframeRequest(name, fromViewers: true) }
        let decision = state.withLock { $0.closed ? .coalesced : $0.gate.request(at: .now) }
        switch decision {
        case .coalesced:
            return
        case .sendNow:
            sendKeyframeRequest()
        case .sendAt(let instant):
            // A margin past the interval: the library's own limiter (500 ms) must not coalesce it.
            Task { [weak self] in
                try? await Task.sleep(until: instant + .milliseconds(20), clock: .continuous)
                guard let self else { return }
                self.state.withLock { $0.gate.sent(at: .now) }
                self.sendKeyframeRequest()
            }
        }
    }

    private func sendKeyframeRequest() {
        guard let video = state.withLock({ $0.publisherVideo }) else { return }
        if video.requestKeyframe() { metrics.keyframeRequest(name, fromViewers: false) }
    }

    // MARK: Close

    /// The stream has neither publisher nor viewers: its tracks' request streams finish.
    func close() {
        let tracks = state.withLock { s -> [LocalTrack] in
            s.closed = true
            s.publisherVideo = nil
            return Array(s.tracks.values)
        }
        for track in tracks { track.finishKeyframeRequests() }
        metrics.viewers(name, 0)
    }
}
