// One WebRTC-JSONL peer: the offer/answer flow, trickle in both directions, the state lines, and
// close. Every handler of the transports and every stdin line run on one serial queue, in order.
import Dispatch
import Foundation
import Logging
import NiceICE
import NiceWebRTC
import Synchronization

final class Peer: Sendable {
    let options: Options
    private let output = ProtocolOutput()
    private let started: ContinuousClock.Instant
    private let logger: Logger
    private let queue = DispatchQueue(label: "dc-peer.events")
    private let receiver: Receiver
    private let closeRequests = AsyncStream.makeStream(of: String.self)
    /// Set on close: the sender stops before its next message.
    private let stopSending = StopFlag()

    /// A remote candidate from a `cand` line (nil: `eoc`), kept until the remote description is applied.
    private typealias Pending = IceCandidate?

    /// What the offer/answer exchange has produced so far.
    private enum Negotiation {
        /// Answerer, before the offer.
        case waitingForOffer
        /// Offerer, before the answer.
        case offered(DataChannelOffer)
        /// Offerer, after the answer.
        case answered(DataChannelOffer)
        /// Answerer, after the offer.
        case answering(DataChannelAnswer)
        /// The remote description could not be applied: later candidates are dropped.
        case broken
    }

    private struct State {
        var stack: Stack?
        var negotiation: Negotiation
        var pending: [Pending] = []
        var channel: DataChannel?
        var sender: Task<Void, Never>?
        var last: [String: String] = [:]
        var closing = false
    }
    private let state: Mutex<State>

    init(options: Options, started: ContinuousClock.Instant) {
        self.options = options
        self.started = started
        var logger = Logger(label: "dc-peer")
        logger[metadataKey: "name"] = "\(options.name)"
        self.logger = logger
        receiver = Receiver(output: output, queue: queue)
        state = Mutex(State(negotiation: .waitingForOffer))
    }

    private var ms: Int {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Running

    /// Starts (the offerer builds its transports and writes its offer at once), reads stdin, and
    /// returns once closed after `{"t":"close"}` or EOF. Throws when the offerer's transports or
    /// offer cannot be built.
    func run() async throws(SetupError) {
        let setup = queue.sync { () -> Result<Void, SetupError> in
            writeState("ice", IceConnectionState.new.rawValue)
            writeState("conn", PeerConnectionState.new.rawValue)
            return Result { () throws(SetupError) in if options.offerer { try startOffer() } }
        }
        try setup.get()
        startStdinReader()
        var why = "EOF on stdin"
        for await reason in closeRequests.stream {
            why = reason
            break
        }
        logger.info("closing: \(why)")
        await close()
    }

    private func close() async {
        let (stack, sender) = state.withLock { s in
            s.closing = true
            return (s.stack, s.sender)
        }
        // The stop flag ends the sender at its next message, and closing the association wakes a
        // waiting `write`, which then throws. (This once also avoided a NiceWebRTC deadlock when a
        // waiting `write` was cancelled as the association ended, found by this example and fixed
        // in the library; DataChannelWriteCancelTests guards it.)
        stopSending.set()
        if let stack {
            let (d, c) = (stack.dtls.counters, stack.sctp.counters)
            logger.info("""
                counters: SCTP \(c.messagesSent) messages sent, \(c.messagesReceived) received, \(c.packetsSent) packets sent, \
                \(c.packetsReceived) received; DTLS \(d.datagramsSent) datagrams sent, \(d.sendFailures) send failures, \
                \(d.datagramsReceived) received, \(d.receiveDropped) dropped on receipt
                """)
            await stack.close()
            logger.debug("transports closed")
        }
        if let sender {
            await sender.value
            logger.debug("sender ended")
        }
        queue.sync {}  // the channel's `closed` and the last messages, delivered before the totals
        queue.sync { receiver.write() }
        let totals = receiver.received
        logger.info("received \(totals.messages) messages (\(totals.bytes) bytes)")
        queue.sync { writeState("conn", PeerConnectionState.closed.rawValue) }
    }

    // MARK: Building (on `queue`)

    /// The offerer: transports (controlling), the channel, the offer without candidates; the
    /// candidates follow as `cand` lines once `start` delivers them.
    private func startOffer() throws(SetupError) {
        let stack = try Stack(options: options, role: .controlling, queue: queue, logger: logger)
        let channel: DataChannel
        let offer: DataChannelOffer
        do throws(DataChannelError) {
            channel = try stack.sctp.createDataChannel(
                label: options.label,
                options: DataChannelOptions(ordered: !options.unordered, maxRetransmits: options.maxRetransmits))
        } catch {
            stack.sctp.close()
            throw SetupError(description: "createDataChannel: \(error)")
        }
        do throws(SdpError) {
            offer = try DataChannelOffer(
                ice: stack.connection.localParameters, dtls: stack.dtls.localParameters,
                sctpPort: stack.localSctp.port, maxMessageSize: stack.localSctp.maxMessageSize)
        } catch {
            stack.sctp.close()
            throw SetupError(description: "offer: \(error)")
        }
        state.withLock { s in
            s.stack = stack
            s.negotiation = .offered(offer)
        }
        logger.info("channel '\(options.label)': ordered \(!options.unordered), maxRetransmits \(options.maxRetransmits.map(String.init) ?? "-")")
        output.send("sdp", ["type": .string("offer"), "sdp": .string(offer.sdp)])
        attach(channel)
        start(stack, mid: offer.mid)
    }

    /// The answerer, on the offer: transports in the role the offer implies, the offer's ICE,
    /// DTLS and SCTP values applied, the answer written; then the queued candidates.
    private func answer(_ sdp: String) {
        let answer: DataChannelAnswer
        let stack: Stack
        do {
            let remote = try DataChannelRemoteDescription(parsing: sdp)
            stack = try Stack(options: options, role: remote.iceLite ? .controlling : .controlled, queue: queue, logger: logger)
            do {
                // Role `auto` against the offer's actpass: we become the DTLS client (a=setup:active).
                let decided = try stack.dtls.setRemoteParameters(remote.dtls)
                answer = try DataChannelAnswer(
                    offer: sdp, ice: stack.connection.localParameters, dtls: decided,
                    sctpPort: stack.localSctp.port, maxMessageSize: stack.localSctp.maxMessageSize)
                try apply(ice: answer.remoteIce, candidates: answer.remoteCandidates, end: answer.remoteEndOfCandidates, to: stack)
                try stack.sctp.setRemoteParameters(SctpParameters(port: answer.remoteSctpPort, maxMessageSize: answer.remoteMaxMessageSize))
            } catch {
                stack.sctp.close()
                throw error
            }
        } catch {
            logger.error("could not answer the offer: \(error)")
            state.withLock { $0.negotiation = .broken }
            return
        }
        logger.info("answering as ICE \(answer.role.rawValue), DTLS \(answer.localDtls.role.setupValue); data mid \(answer.dataMid ?? "-")")
        stack.sctp.dataChannelHandler = { channel in self.announced(channel) }
        let pending = state.withLock { s in
            s.stack = stack
            s.negotiation = .answering(answer)
            defer { s.pending = [] }
            return s.pending
        }
        output.send("sdp", ["type": .string("answer"), "sdp": .string(answer.sdp)])
        start(stack, mid: answer.dataMid)
        for candidate in pending { add(candidate) }
    }

    /// The offerer, on the answer.
    private func applyAnswer(_ sdp: String, offer: DataChannelOffer) {
        guard let stack = state.withLock({ $0.stack }) else { return }
        do {
            let remote = try DataChannelRemoteDescription(answer: sdp)
            if let mid = remote.mid, mid != offer.mid {
                logger.warning("the answer's data section has mid \(mid), our offer's \(offer.mid)")
            }
            try apply(ice: remote.ice, candidates: remote.candidates, end: remote.endOfCandidates, to: stack)
            try stack.dtls.setRemoteParameters(remote.dtls)
            try stack.sctp.setRemoteParameters(SctpParameters(port: remote.sctpPort, maxMessageSize: remote.maxMessageSize))
        } catch {
            logger.error("could not apply the answer: \(error)")
            state.withLock { $0.negotiation = .broken }
            return
        }
        let pending = state.withLock { s in
            s.negotiation = .answered(offer)
            defer { s.pending = [] }
            return s.pending
        }
        for candidate in pending { add(candidate) }
    }

    private func apply(ice: IceParameters, candidates: [IceCandidate], end: Bool, to stack: Stack) throws(IceError) {
        try stack.connection.setRemoteParameters(ice)
        for candidate in candidates {
            do throws(IceError) { try stack.connection.addIceCandidate(candidate) } catch {
                logger.warning("skipping remote candidate \(candidate.candidateLine): \(error)")
            }
        }
        if end { try stack.connection.addIceCandidate(nil) }
    }

    /// Installs the transports' handlers and starts delivery on `queue`: our candidates become
    /// `cand` lines (with the data section's mid), then `eoc`.
    private func start(_ stack: Stack, mid: String?) {
        let connection = stack.connection
        connection.stateUpdateHandler = { change in
            self.logger.info("ICE \(change)")
            self.writeState("ice", change.state.rawValue)
        }
        connection.candidateHandler = { candidate in
            guard let candidate else {
                self.output.send("eoc")
                return
            }
            if let mid {
                self.output.send("cand", ["c": .string(candidate.candidateLine), "mid": .string(mid)])
            } else {
                self.output.send("cand", ["c": .string(candidate.candidateLine)])
            }
        }
        connection.selectedPairHandler = { pair in
            self.logger.info("selected pair \(pair)")
            guard pair.component == 1 else { return }
            self.output.send("pair", ["local": .string(pair.local.type.rawValue), "remote": .string(pair.remote.type.rawValue)])
        }
        let dtls = stack.dtls
        stack.dtls.stateUpdateHandler = { change in
            if change.state == .connected {
                // what the handshake settled on (interop runs read it, e.g. scripts/dc-firefox-interop.sh)
                self.logger.info("DTLS \(change): cipher \(dtls.cipherSuite ?? "?"), SRTP profile \(dtls.srtpProfile ?? "none")")
            } else {
                self.logger.info("DTLS \(change)")
            }
        }
        stack.dtls.connectionStateHandler = { change in
            self.logger.info("connection \(change)")
            if change.state == .closed, self.state.withLock({ $0.closing }) { return }  // written last by close()
            self.writeState("conn", change.state.rawValue)
        }
        stack.sctp.stateHandler = { s in self.logger.info("SCTP \(s.rawValue)") }
        connection.start(queue: queue)
        stack.dtls.start(queue: queue)
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
        channel.messageHandler = { message in self.receiver.count(message) }
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
        Thread.detachNewThread {
            while let line = readLine(strippingNewline: true) {
                self.queue.async { self.handle(line) }
            }
            self.queue.async { self.closeRequests.continuation.yield("EOF on stdin") }
        }
    }

    private func handle(_ line: String) {
        let message: RemoteMessage
        do throws(RemoteMessage.Ignored) {
            guard let m = try RemoteMessage(line: line) else { return }
            message = m
        } catch {
            logger.warning("ignoring stdin line: \(error)")
            return
        }
        switch message {
        case .close:
            closeRequests.continuation.yield("close requested")
        case .sdp(let type, let sdp):
            switch (type, state.withLock { $0.negotiation }) {
            case ("offer", .waitingForOffer) where !options.offerer:
                answer(sdp)
            case ("answer", .offered(let offer)) where options.offerer:
                applyAnswer(sdp, offer: offer)
            default:
                logger.warning("ignoring remote sdp of type '\(type)' (expected one \(options.offerer ? "answer" : "offer"))")
            }
        case .candidate(let line, let mid):
            let candidate: IceCandidate
            do throws(IceError) {
                // Without a mid: the first media section (WebRTC-JSONL).
                candidate = try IceCandidate(parsing: line, sdpMid: mid, sdpMLineIndex: mid == nil ? 0 : nil)
            } catch {
                logger.info("skipping remote candidate \(line.prefix(200)): \(error)")
                return
            }
            queueOrAdd(candidate)
        case .endOfCandidates:
            queueOrAdd(nil)
        }
    }

    private func queueOrAdd(_ candidate: Pending) {
        let ready = state.withLock { s -> Bool? in
            switch s.negotiation {
            case .waitingForOffer, .offered:
                s.pending.append(candidate)
                return false
            case .answered, .answering: return true
            case .broken: return nil
            }
        }
        switch ready {
        case true?: add(candidate)
        case false?: logger.debug("queued remote \(candidate.map { "candidate \($0.candidateLine)" } ?? "end-of-candidates") until the remote sdp")
        case nil: logger.info("dropping remote \(candidate.map { "candidate \($0.candidateLine)" } ?? "end-of-candidates"): no remote description")
        }
    }

    /// Adds a remote candidate (or end-of-candidates) after the remote description. mDNS (`.local`)
    /// candidates are logged and skipped by `addIceCandidate`; candidates for another media section
    /// (a rejected one of a browser's offer) are skipped here.
    private func add(_ candidate: Pending) {
        let (stack, negotiation) = state.withLock { ($0.stack, $0.negotiation) }
        guard let stack else { return }
        if let candidate {
            switch negotiation {
            case .answering(let answer):
                let forData: Bool
                do throws(SdpError) { forData = try answer.isDataCandidate(candidate) } catch {
                    logger.info("skipping remote candidate \(candidate.candidateLine): \(error)")
                    return
                }
                guard forData else {
                    logger.info("skipping remote candidate for mid \(candidate.sdpMid ?? "-"), not the data section: \(candidate.candidateLine)")
                    return
                }
            case .answered(let offer):
                if let mid = candidate.sdpMid, mid != offer.mid {
                    logger.info("skipping remote candidate for mid \(mid), not our data section \(offer.mid): \(candidate.candidateLine)")
                    return
                }
            default: break
            }
        }
        do throws(IceError) {
            try stack.connection.addIceCandidate(candidate)
            logger.debug("remote \(candidate.map { "candidate \($0.candidateLine)" } ?? "end-of-candidates")")
        } catch {
            logger.warning("could not add remote \(candidate.map { "candidate \($0.candidateLine)" } ?? "end-of-candidates"): \(error)")
        }
    }
}
