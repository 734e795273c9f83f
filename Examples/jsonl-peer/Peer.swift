// One WebRTC-JSONL peer on a NiceWebRTC PeerConnection: the offer/answer flow, trickle in both
// directions, the state lines, ICE restarts, and close. The connection's handlers (and its
// channels') run on one serial queue; stdin lines are applied one at a time, in order, by one task.
// Shared by dc-peer and media-peer (which adds its tracks through a `PeerExtension`).
import Dispatch
import Foundation
import Logging
import NiceWebRTC
import Synchronization

/// Why the connection could not be made or the offer written (as text).
package struct SetupError: Error, CustomStringConvertible {
    package var description: String
}

package final class Peer: Sendable {
    let options: Options
    private let output: ProtocolOutput
    private let addOn: (any PeerExtension)?
    private let started: ContinuousClock.Instant
    private let logger: Logger
    private let queue: DispatchQueue
    private let connection: PeerConnection
    private let receiver: Receiver
    /// What the signalling task applies, in order: stdin's lines, our own restarts, and the end.
    private let commands = AsyncStream.makeStream(of: Command.self)
    /// Set on close: the sender stops before its next message.
    private let stopSending = StopFlag()

    private enum Command {
        case line(String)
        /// `--restart-after`: restart ICE from this side.
        case restart
        /// EOF on stdin.
        case endOfInput
    }

    private struct State {
        var channel: DataChannel?
        var sender: Task<Void, Never>?
        /// The last value written per `state` kind.
        var last: [String: String] = [:]
        var closing = false
        /// False from applying a local description until its `sdp` line is written: local
        /// candidates wait in `held` meanwhile (WebRTC-JSONL: the sdp comes first).
        var sdpWritten = false
        var held: [IceCandidateInit?] = []
    }
    private let state = Mutex(State())

    /// Creates the connection (gathering starts at once, on `--bind` only). `program` names the
    /// logger and the queue; `output` is where every protocol line goes.
    package init(
        options: Options, started: ContinuousClock.Instant, program: String = "dc-peer", output: ProtocolOutput = ProtocolOutput(),
        queue: DispatchQueue? = nil, extension addOn: (any PeerExtension)? = nil
    ) throws(SetupError) {
        self.options = options
        self.started = started
        self.output = output
        self.addOn = addOn
        self.queue = queue ?? DispatchQueue(label: program + ".events")
        var logger = Logger(label: program)
        logger[metadataKey: "name"] = "\(options.name)"
        self.logger = logger
        receiver = Receiver(output: output, queue: self.queue)
        var configuration = PeerConnection.Configuration(localAddresses: [options.bind], queue: self.queue)
        if let stun = options.stun {
            configuration.iceServers.append(IceServer(url: "stun:" + stun))
        }
        if let turn = options.turn {
            configuration.iceServers.append(IceServer(url: "turn:" + turn, username: options.turnUser, credential: options.turnPass))
        }
        if options.relayOnly {
            configuration.iceTransportPolicy = .relay
        }
        // DC_PEER_RECEIVE_LIMIT=BYTES: a small receive budget makes SCTP's read pause (and its
        // wake-up by the consumer) happen all the time; for soaks of that path.
        if let text = ProcessInfo.processInfo.environment["DC_PEER_RECEIVE_LIMIT"], let limit = Int(text), limit > 0 {
            configuration.sctp.receiveBufferLimit = limit
        }
        addOn?.configure(&configuration)
        do throws(PeerConnectionError) {
            connection = try PeerConnection(configuration: configuration, logger: logger)
        } catch {
            throw SetupError(description: "PeerConnection: \(error)")
        }
    }

    private var ms: Int {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Running

    /// Starts (the offerer creates its channel and writes its offer at once), applies stdin's
    /// lines, and returns once closed after `{"t":"close"}` or EOF. Throws when the offerer's
    /// channel or offer cannot be made.
    package func run() async throws(SetupError) {
        writeState("ice", IceConnectionState.new.rawValue)
        writeState("conn", PeerConnectionState.new.rawValue)
        installHandlers()
        addOn?.start(connection)
        if options.offerer { try await offer() }
        startStdinReader()
        var why = "EOF on stdin"
        loop: for await command in commands.stream {
            switch command {
            case .line(let line):
                if await handle(line) {
                    why = "close requested"
                    break loop
                }
            case .restart:
                await restart()
            case .endOfInput:
                break loop
            }
        }
        logger.info("closing: \(why)")
        await close()
    }

    private func close() async {
        let sender = state.withLock { s in
            s.closing = true
            return s.sender
        }
        // The stop flag ends the sender at its next message, and closing the connection (its
        // association aborts) wakes a waiting `write`, which then throws.
        stopSending.set()
        let (d, c) = (connection.dtlsTransport.counters, connection.sctpTransport.counters)
        logger.info("""
            counters: SCTP \(c.messagesSent) messages sent, \(c.messagesReceived) received, \(c.packetsSent) packets sent, \
            \(c.packetsReceived) received, \(c.watchdogResends) watchdog resends; DTLS \(d.datagramsSent) datagrams sent, \(d.sendFailures) send failures, \
            \(d.datagramsReceived) received, \(d.receiveDropped) dropped on receipt
            """)
        await addOn?.finish(connection)
        logStats(await connection.stats())
        await connection.closeAndWait()
        logger.debug("connection closed")
        if let sender {
            await sender.value
            logger.debug("sender ended")
        }
        queue.sync {}  // the last messages, delivered before the totals
        queue.sync { receiver.write() }
        let totals = receiver.received
        logger.info("received \(totals.messages) messages (\(totals.bytes) bytes)")
        writeState("conn", PeerConnectionState.closed.rawValue)
    }

    /// One stderr line with what W3C `getStats()` says about the selected pair and the channel.
    private func logStats(_ report: StatsReport) {
        var parts = ["ICE \(report.transport.iceRole) \(report.transport.iceState)", "DTLS \(report.transport.dtlsState)"]
        if let pair = report.selectedCandidatePair {
            let rtt = pair.currentRoundTripTime.map { " rtt \(Int(($0 * 1000).rounded())) ms" } ?? ""
            parts.append(
                "pair \(pair.state)\(pair.nominated ? " nominated" : ""): \(pair.packetsSent) packets / \(pair.bytesSent) bytes sent, "
                    + "\(pair.packetsReceived) / \(pair.bytesReceived) received\(rtt)")
        }
        for channel in report.dataChannels {
            parts.append(
                "channel '\(channel.label)' \(channel.dataChannelIdentifier.map(String.init) ?? "-") \(channel.state): "
                    + "\(channel.messagesSent) messages / \(channel.bytesSent) bytes sent, "
                    + "\(channel.messagesReceived) / \(channel.bytesReceived) received")
        }
        logger.info("stats: \(parts.joined(separator: "; "))")
    }

    // MARK: The connection's events (on `queue`)

    private func installHandlers() {
        connection.iceConnectionStateHandler = { s in
            self.logger.info("ICE \(s.rawValue)")
            self.writeState("ice", s.rawValue)
        }
        connection.connectionStateHandler = { s in
            self.logger.info("connection \(s.rawValue)")
            if s == .closed, self.state.withLock({ $0.closing }) { return }  // written last by close()
            self.writeState("conn", s.rawValue)
        }
        connection.signalingStateHandler = { s in self.logger.debug("signalling \(s.rawValue)") }
        connection.iceCandidateHandler = { candidate in self.localCandidate(candidate) }
        connection.dataChannelHandler = { channel in self.announced(channel) }
        // Layer details the protocol asks for (`pair`) or the interop scripts read in our log (the
        // cipher), from the connection's own events.
        connection.selectedCandidatePairHandler = { pair in
            self.logger.info("selected pair \(pair)")
            self.output.send("pair", ["local": .string(pair.local.type.rawValue), "remote": .string(pair.remote.type.rawValue)])
        }
        let dtls = connection.dtlsTransport
        connection.dtlsStateHandler = { change in
            if change.state == .connected {
                // what the handshake settled on (interop runs read it, e.g. scripts/dc-firefox-interop.sh)
                self.logger.info("DTLS \(change): cipher \(dtls.cipherSuite ?? "?"), SRTP profile \(dtls.srtpProfile ?? "none")")
            } else {
                self.logger.info("DTLS \(change)")
            }
        }
        // The SCTP transport's state handler is the application's (it runs on `queue`).
        connection.sctpTransport.stateHandler = { s in self.logger.info("SCTP \(s.rawValue)") }
    }

    /// A local candidate: a `cand` line with its mid, `eoc` at the end of the round (W3C's nil;
    /// its end-of-candidates candidate "" says the same and is not repeated); held until the
    /// description it belongs to is written.
    private func localCandidate(_ candidate: IceCandidateInit?) {
        if let candidate, candidate.candidate.isEmpty { return }
        state.withLock { s in
            guard s.sdpWritten else {
                s.held.append(candidate)
                return
            }
            send(candidate)
        }
    }

    private func send(_ candidate: IceCandidateInit?) {
        guard let candidate else {
            output.send("eoc")
            return
        }
        if let mid = candidate.sdpMid {
            output.send("cand", ["c": .string(candidate.candidate), "mid": .string(mid)])
        } else {
            output.send("cand", ["c": .string(candidate.candidate)])
        }
    }

    /// Applies W3C's implicit local description (an offer in `stable`, else the answer the state
    /// calls for) and writes it as `sdp`, then the candidates that came meanwhile.
    private func applyAndWriteLocal() async throws(PeerConnectionError) {
        state.withLock { $0.sdpWritten = false }
        let description: SessionDescription
        do {
            description = try await connection.setLocalDescription()
        } catch {
            // nothing to write: candidates go out as they come (there are none of a new round)
            let held = state.withLock { s in
                s.sdpWritten = true
                defer { s.held = [] }
                return s.held
            }
            for candidate in held { send(candidate) }
            throw error
        }
        state.withLock { s in
            output.send("sdp", ["type": .string(description.type.rawValue), "sdp": .string(description.sdp)])
            for candidate in s.held { send(candidate) }
            s.held = []
            s.sdpWritten = true
        }
    }

    // MARK: Negotiation (on the signalling task)

    /// The offerer: the channel, then the offer (without candidates: they follow as `cand` lines).
    private func offer() async throws(SetupError) {
        do throws(PeerConnectionError) {
            try addOn?.willOffer(connection)
        } catch {
            connection.close()
            throw SetupError(description: "tracks: \(error)")
        }
        if options.dataChannel {
            let channel: DataChannel
            do throws(PeerConnectionError) {
                channel = try connection.createDataChannel(
                    options.label, options: DataChannelOptions(ordered: !options.unordered, maxRetransmits: options.maxRetransmits))
            } catch {
                connection.close()
                throw SetupError(description: "createDataChannel: \(error)")
            }
            logger.info("channel '\(options.label)': ordered \(!options.unordered), maxRetransmits \(options.maxRetransmits.map(String.init) ?? "-")")
            queue.sync { attach(channel) }
        }
        do throws(PeerConnectionError) {
            try await applyAndWriteLocal()
        } catch {
            connection.close()
            throw SetupError(description: "offer: \(error)")
        }
    }

    /// `--restart-after`: a new offer with new ICE credentials (W3C `restartIce()`), in `stable`.
    private func restart() async {
        guard connection.signalingState == .stable else {
            logger.warning("not restarting ICE in signalling state \(connection.signalingState.rawValue)")
            return
        }
        logger.info("restarting ICE")
        connection.restartIce()
        do throws(PeerConnectionError) {
            try await applyAndWriteLocal()
        } catch {
            logger.error("could not offer an ICE restart: \(error)")
        }
    }

    /// The peer's description: an answer to our offer, or an offer (the first, or a later one
    /// such as an ICE restart) that we answer at once.
    private func remoteDescription(type: String, sdp: String) async {
        guard let kind = SdpType(rawValue: type), kind == .offer || kind == .answer else {
            logger.warning("ignoring remote sdp of type '\(type.prefix(40))'")
            return
        }
        if kind == .offer, connection.remoteDescription == nil, options.offerer {
            logger.warning("ignoring a remote offer: we offer")
            return
        }
        do throws(PeerConnectionError) {
            try await connection.setRemoteDescription(SessionDescription(type: kind, sdp: sdp))
        } catch {
            logger.error("could not apply the remote \(type): \(error)")
            return
        }
        guard kind == .offer else { return }
        addOn?.willAnswer(connection)
        do throws(PeerConnectionError) {
            try await applyAndWriteLocal()
        } catch {
            logger.error("could not answer the offer: \(error)")
        }
    }

    // MARK: The channel (on `queue`)

    private func announced(_ channel: DataChannel) {
        let first = state.withLock { $0.channel == nil }
        guard first else {
            logger.warning("ignoring a second channel \(channel)")
            return
        }
        logger.info("peer opened \(channel): ordered \(channel.ordered), \(channel.reliability)")
        attach(channel)
    }

    private func attach(_ channel: DataChannel) {
        state.withLock { $0.channel = channel }
        channel.messageHandler = { message in
            self.receiver.count(message)
            if let n = self.options.restartAfter, self.receiver.received.messages == n {
                self.commands.continuation.yield(.restart)
            }
        }
        channel.errorHandler = { error in self.logger.warning("channel error: \(error)") }
        channel.stateHandler = { s in self.channelState(s, channel) }
        channelState(channel.readyState, channel)
    }

    private func channelState(_ s: DataChannelState, _ channel: DataChannel) {
        writeState("dc", s.rawValue)
        guard s == .open else { return }
        let start = state.withLock { st -> Bool in st.sender == nil && !st.closing }
        guard start else { return }
        let task = Sender.start(on: channel, options: options, stop: stopSending, logger: logger)
        state.withLock { $0.sender = task }
    }

    /// Writes a `state` line unless `kind` is in `s` already.
    private func writeState(_ kind: String, _ s: String) {
        let changed = state.withLock { st -> Bool in
            guard st.last[kind] != s else { return false }
            st.last[kind] = s
            return true
        }
        if changed { output.send("state", ["k": .string(kind), "s": .string(s), "ms": .int(ms)]) }
    }

    // MARK: Signalling input

    private func startStdinReader() {
        let continuation = commands.continuation
        Thread.detachNewThread {
            while let line = readLine(strippingNewline: true) {
                continuation.yield(.line(line))
            }
            continuation.yield(.endOfInput)
        }
    }

    /// Applies one stdin line; true for `close`.
    private func handle(_ line: String) async -> Bool {
        let message: RemoteMessage
        do throws(RemoteMessage.Ignored) {
            guard let m = try RemoteMessage(line: line) else { return false }
            message = m
        } catch {
            logger.warning("ignoring stdin line: \(error)")
            return false
        }
        switch message {
        case .close:
            return true
        case .sdp(let type, let sdp):
            await remoteDescription(type: type, sdp: sdp)
        case .candidate(let candidate):
            await add(candidate)
        case .endOfCandidates:
            await add(nil)
        }
        return false
    }

    /// W3C `addIceCandidate`: the connection keeps candidates that come before the remote
    /// description and ignores those of another section or generation; one it cannot use (an
    /// mDNS `.local` name, a line that does not parse) is logged and skipped.
    private func add(_ candidate: IceCandidateInit?) async {
        let what = candidate.map { "candidate \($0.candidate.prefix(200))" } ?? "end-of-candidates"
        do throws(PeerConnectionError) {
            try await connection.addIceCandidate(candidate)
            logger.debug("remote \(what)")
        } catch {
            logger.info("skipping remote \(what): \(error)")
        }
    }
}
