// A session's stack handlers, on its queue: our candidates out, every state change out as `state`,
// the selected pair as `pair`, and an echo for each channel the page opens.
import Logging
import NiceWebRTC
import Synchronization

extension Session {
    /// Installs the handlers and starts delivery on ``queue`` (after the first answer was queued,
    /// so our candidates follow it).
    func start(_ stack: SessionStack) {
        let connection = stack.connection
        connection.candidateHandler = { [weak self] candidate in
            guard let self else { return }
            guard let candidate else {
                self.send(.endOfCandidates)
                return
            }
            guard let answer = self.state.withLock({ $0.answer }) else { return }
            let trickled = answer.trickled(candidate)
            self.logger.debug("local candidate \(candidate.type.rawValue) \(candidate.address):\(candidate.port)")
            self.send(.candidate(candidate: trickled.candidateLine, sdpMid: trickled.sdpMid, sdpMLineIndex: trickled.sdpMLineIndex))
        }
        connection.stateUpdateHandler = { [weak self] change in
            self?.logger.info("ICE \(change)")
            self?.reportState(.ice, change.state.rawValue, reason: change.reason?.rawValue)
        }
        connection.selectedPairHandler = { [weak self] pair in
            guard let self, pair.component == 1 else { return }
            self.logger.info("selected pair \(pair)")
            self.send(.pair(PairReport(
                local: pair.local.type.rawValue, remote: pair.remote.type.rawValue,
                localAddress: Self.endpoint(pair.local), remoteAddress: Self.endpoint(pair.remote), t: self.t)))
        }
        connection.candidateErrorHandler = { [weak self] error in
            self?.logger.warning("ICE server gave no candidate: \(error)")
        }
        stack.dtls.stateUpdateHandler = { [weak self] change in
            self?.logger.info("DTLS \(change)")
            self?.reportState(.dtls, change.state.rawValue, reason: change.reason?.description)
        }
        stack.dtls.connectionStateHandler = { [weak self] change in
            guard let self else { return }
            self.logger.info("connection \(change.state.rawValue)")
            if change.state == .connected { self.state.withLock { $0.connected = true } }
            self.reportState(.connection, change.state.rawValue, reason: Self.reason(of: change))
        }
        stack.sctp.stateHandler = { [weak self] s in
            self?.logger.info("SCTP \(s.rawValue)")
            self?.reportState(.sctp, s.rawValue, reason: nil)
        }
        stack.sctp.dataChannelHandler = { [weak self] channel in self?.opened(channel) }
        // The W3C initial states; every change since the stack was built is still queued for the
        // handlers (nothing is delivered before start(queue:)) and follows, with its reason.
        reportState(.ice, IceConnectionState.new.rawValue, reason: nil)
        reportState(.connection, PeerConnectionState.new.rawValue, reason: nil)
        reportState(.dtls, DtlsTransportState.new.rawValue, reason: nil)
        reportState(.sctp, SctpTransportState.connecting.rawValue, reason: nil)
        connection.start(queue: queue)
        stack.dtls.start(queue: queue)
    }

    /// A channel the page opened: report its states, echo its messages.
    private func opened(_ channel: DataChannel) {
        guard !isEnding else { return }
        logger.info("the page opened \(channel): ordered \(channel.ordered), \(channel.reliability)")
        let key = "channel.\(ObjectIdentifier(channel).hashValue)"
        channel.stateHandler = { [weak self, weak channel] s in
            guard let self, let channel else { return }
            self.reportChannel(channel, s, key: key)
        }
        channel.errorHandler = { [weak self] error in
            self?.logger.warning("channel error: \(error)")
        }
        reportChannel(channel, channel.readyState, key: key)
        // The echo is created under the lock, so its own removal (which takes the lock) always
        // comes after its insertion, even when the channel is closed already.
        state.withLock { s in
            let key = s.nextEcho
            s.nextEcho += 1
            s.echoes[key] = Echo.start(on: channel, counter: echoed, logger: logger) { [weak self] in
                self?.state.withLock { _ = $0.echoes.removeValue(forKey: key) }
            }
        }
    }

    private func reportChannel(_ channel: DataChannel, _ s: DataChannelState, key: String) {
        reportState(.channel, s.rawValue, reason: nil, label: channel.label, id: channel.id.map(Int.init), key: key)
    }

    /// Sends a `state` message unless the layer (or channel) is in that state already.
    func reportState(_ layer: Layer, _ value: String, reason: String?, label: String? = nil, id: Int? = nil, key: String? = nil) {
        let slot = key ?? layer.rawValue
        let changed = state.withLock { s -> Bool in
            guard s.reported[slot] != value else { return false }
            // A closed channel's slot is dropped: the table stays as small as the open channels.
            s.reported[slot] = layer == .channel && value == DataChannelState.closed.rawValue ? nil : value
            return true
        }
        guard changed else { return }
        send(.state(StateReport(layer: layer, state: value, reason: reason, label: label, id: id, t: t)))
    }

    /// `ip:port`, `[ip]:port` for IPv6.
    static func endpoint(_ candidate: IceCandidate) -> String {
        candidate.address.contains(":") ? "[\(candidate.address)]:\(candidate.port)" : "\(candidate.address):\(candidate.port)"
    }

    /// Why the connection state changed: the DTLS reason if it has one, else ICE's.
    static func reason(of change: PeerConnectionStateChange) -> String? {
        switch change.state {
        case .failed:
            change.dtls.state == .failed ? change.dtls.reason?.description : change.ice.reason.map { "ICE \($0.rawValue)" }
        case .disconnected:
            change.ice.reason.map { "ICE \($0.rawValue)" }
        default:
            change.dtls.reason?.description ?? change.ice.reason.map { "ICE \($0.rawValue)" }
        }
    }
}
