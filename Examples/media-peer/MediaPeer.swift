// media-peer's part of the WebRTC-JSONL flow (a PeerExtension of the shared Peer): transceivers
// and tracks, sending the files once connected, counting the peer's tracks, the `media`,
// `pli` and `media-done` lines, and the recordings.
import Foundation
import JsonlPeer
import Logging
import NiceWebRTC
import Synchronization

final class MediaPeer: PeerExtension {
    private let options: MediaOptions
    private let output: ProtocolOutput
    private let started: ContinuousClock.Instant
    private let logger: Logger
    private let senders: [FileSender]
    private let stop = StopFlag()
    private let state = Mutex(State())

    private struct State {
        var counters: [MediaKind: TrackCounter] = [:]
        var rtpSenders: [MediaKind: RtpSender] = [:]
        var tasks: [Task<Void, Never>] = []
        var sending: Task<Void, Never>?
        var answered = false
    }

    /// Reads the files to send (a bad file fails the start).
    init(options: MediaOptions, output: ProtocolOutput, started: ContinuousClock.Instant, logger: Logger) throws(MediaInputError) {
        self.options = options
        self.output = output
        self.started = started
        self.logger = logger
        var senders: [FileSender] = []
        if let path = options.sendVideo {
            let frames = try MediaInput.ivf(path)
            logger.info("video: \(frames.count) VP8 frames from \(path), \(frames.filter(\.isKeyframe).count) keyframes")
            senders.append(FileSender(kind: .video, frames: frames, track: LocalTrack(kind: .video, mimeType: "video/VP8", id: "video", streamId: "media-peer")))
        }
        if let path = options.sendAudio {
            let frames = try MediaInput.oggOpus(path)
            logger.info("audio: \(frames.count) Opus packets from \(path)")
            senders.append(FileSender(kind: .audio, frames: frames, track: LocalTrack(kind: .audio, mimeType: "audio/opus", id: "audio", streamId: "media-peer")))
        }
        self.senders = senders
    }

    private var anyMedia: Bool { !senders.isEmpty || options.receiveVideo || options.receiveAudio }

    private func ms() -> Int {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    // MARK: PeerExtension

    func configure(_ configuration: inout PeerConnection.Configuration) {
        // The peer's sections are taken (recvonly; willAnswer sets what we send).
        if anyMedia { configuration.remoteMediaPolicy = .accept(direction: .recvonly) }
    }

    func start(_ connection: PeerConnection) {
        connection.trackHandler = { event in self.track(event) }
        let sending = Task {
            do throws(PeerConnectionError) {
                try await connection.waitUntilConnected(timeout: .seconds(60))
            } catch {
                self.logger.warning("not sending media: \(error)")
                return
            }
            await self.send(connection)
        }
        let reporting = Task {
            while !self.stop.isSet {
                try? await Task.sleep(for: .seconds(1))
                if self.stop.isSet { break }
                await self.reportReceived(connection)
            }
        }
        state.withLock { s in
            s.sending = sending
            s.tasks.append(reporting)
        }
    }

    func willOffer(_ connection: PeerConnection) throws(PeerConnectionError) {
        for kind in [MediaKind.video, .audio] {
            let receive = options.receives(kind)
            if let sender = senders.first(where: { $0.kind == kind }) {
                let rtp = try connection.addTrack(sender.track)
                state.withLock { $0.rtpSenders[kind] = rtp }
                if !receive, let transceiver = connection.transceivers.first(where: { $0.sender === rtp }) {
                    try transceiver.setDirection(.sendonly)
                }
            } else if receive {
                try connection.addTransceiver(kind, .init(direction: .recvonly))
            }
        }
    }

    func willAnswer(_ connection: PeerConnection) {
        guard anyMedia, state.withLock({ s in defer { s.answered = true }; return !s.answered }) else { return }
        for sender in senders {
            guard connection.transceivers.contains(where: { $0.kind == sender.kind && !$0.isStopped }) else {
                logger.warning("the offer has no \(sender.kind) section: not sending \(sender.kind)")
                continue
            }
            do throws(PeerConnectionError) {
                let rtp = try connection.addTrack(sender.track)
                state.withLock { $0.rtpSenders[sender.kind] = rtp }
            } catch {
                logger.warning("cannot send \(sender.kind): \(error)")
            }
        }
        for transceiver in connection.transceivers where !options.receives(transceiver.kind) {
            let sends = transceiver.sender.track != nil
            try? transceiver.setDirection(sends ? .sendonly : .inactive)
        }
    }

    func finish(_ connection: PeerConnection) async {
        stop.set()
        let (sending, tasks) = state.withLock { s in (s.sending, s.tasks) }
        sending?.cancel()  // a wait for `connected` ends at once; the send loops stop at `stop`
        await sending?.value
        tasks.forEach { $0.cancel() }
        for task in tasks { await task.value }
        await reportReceived(connection)
        let counters = state.withLock { $0.counters }
        for sender in senders { sender.track.finishKeyframeRequests() }
        guard let directory = options.record else { return }
        for (kind, counter) in counters {
            guard let recording = counter.recording, let file = recording.file else { continue }
            let path = directory + "/" + (kind == .video ? "video.ivf" : "audio.ogg")
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try Data(file).write(to: URL(fileURLWithPath: path))
                logger.info("recorded \(recording.frames) \(kind) frames to \(path)")
            } catch {
                logger.error("cannot write \(path): \(error)")
            }
        }
    }

    // MARK: Sending

    private func send(_ connection: PeerConnection) async {
        let rtpSenders = state.withLock { $0.rtpSenders }
        await withTaskGroup(of: Void.self) { group in
            for sender in senders {
                guard let codec = rtpSenders[sender.kind]?.codec else {
                    logger.warning("\(sender.kind) not negotiated: not sending it")
                    continue
                }
                logger.info("sending \(sender.kind) as \(codec.name)/\(codec.clockRate) payload type \(codec.payloadType)")
                let watcher = sender.watchKeyframeRequests(logger: logger)
                state.withLock { $0.tasks.append(watcher) }
                let ssrc = rtpSenders[sender.kind]?.ssrc
                let reports = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                group.addTask {
                    // The lines read the sender's outbound-rtp stats: off the pacing loop.
                    for await _ in reports.stream { await self.reportSent(sender, ssrc: ssrc, connection) }
                }
                group.addTask {
                    await sender.run(duration: self.options.duration, stop: self.stop, logger: self.logger) {
                        reports.continuation.yield()
                    }
                    reports.continuation.finish()
                }
            }
        }
        for sender in senders where rtpSenders[sender.kind]?.codec != nil {
            await reportSent(sender, ssrc: rtpSenders[sender.kind]?.ssrc, connection)
            let t = sender.sent
            logger.info("\(sender.kind): sent \(t.frames) frames (\(t.bytes) bytes), \(t.keyframes) keyframes, \(t.keyframeRequests) keyframe requests")
        }
        if !senders.isEmpty, !stop.isSet { output.send("media-done") }
    }

    /// A `media` sent line: frames from the sender, packets and bytes from the stats'
    /// outbound-rtp (the RTP payload bytes, retransmissions included, as W3C counts them).
    private func reportSent(_ sender: FileSender, ssrc: UInt32?, _ connection: PeerConnection) async {
        let t = sender.sent
        let outbound = await connection.stats().outboundRtp.first { $0.ssrc == ssrc }
        output.send("media", [
            "dir": .string("sent"), "kind": .string(sender.kind.rawValue), "frames": .int(t.frames),
            "packets": .int(Int(outbound?.packetsSent ?? 0)), "bytes": .int(Int(outbound?.bytesSent ?? 0)),
            "keyframes": .int(t.keyframes),
        ])
    }

    // MARK: Receiving

    private func track(_ event: TrackEvent) {
        let track = event.track
        guard options.receives(track.kind) else {
            logger.info("not counting the peer's \(track.kind) track '\(track.id)' (no --receive-\(track.kind))")
            return
        }
        let counter = TrackCounter(track: track, record: options.record != nil)
        let fresh = state.withLock { s -> Bool in
            guard s.counters[track.kind] == nil else { return false }
            s.counters[track.kind] = counter
            return true
        }
        guard fresh else {
            logger.warning("ignoring a second \(track.kind) track '\(track.id)'")
            return
        }
        logger.info("peer's \(track.kind) track '\(track.id)', streams \(event.streamIds), codecs \(track.codecs.map(\.name))")
        let task = counter.run(pliAt: options.pliAt, ms: { self.ms() }, logger: logger) { sent, at in
            self.output.send("pli", ["sent_ms": .int(sent), "keyframe_ms": .int(at)])
        }
        state.withLock { $0.tasks.append(task) }
    }

    /// One `media` recv line per kind received (zeros for a kind that never came).
    private func reportReceived(_ connection: PeerConnection) async {
        let kinds = MediaKind.allCases.filter { options.receives($0) }.sorted { $0.rawValue > $1.rawValue }
        guard !kinds.isEmpty else { return }
        let counters = state.withLock { $0.counters }
        let stats = await connection.stats().inboundRtp
        for kind in kinds {
            let counter = counters[kind]
            let c = counter?.counts ?? TrackCounter.Counts()
            let inbound = counter?.track.ssrc.flatMap { ssrc in stats.first { $0.ssrc == ssrc } }
            var fields: [(String, JSONValue)] = [
                ("dir", .string("recv")), ("kind", .string(kind.rawValue)), ("frames", .int(c.frames)),
                ("keyframes", .int(c.keyframes)), ("incomplete", .int(c.incomplete)), ("packets", .int(c.packets)),
                ("lost", .int(Int(inbound?.packetsLost ?? 0))), ("nacks", .int(Int(inbound?.nackCount ?? 0))),
                ("plis", .int(Int(inbound?.pliCount ?? 0))),
            ]
            if options.record != nil { fields.append(("recorded", .int(counter?.recording?.frames ?? 0))) }
            output.send("media", fields)
        }
    }
}
