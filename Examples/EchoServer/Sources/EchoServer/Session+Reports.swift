// What the session tells the page about its connection: our candidates, every state change as
// `state`, the selected pair as `pair`; and an echo for each channel the page opens.
import Logging
import NiceWebRTC
import Synchronization

extension Session {
    /// Forwards the connection's events until the session ends. Every stream yields the current
    /// state first, so the page gets each layer's `new` (SCTP: `connecting`) before its changes.
    /// The states come from the transports' streams: the ICE and DTLS ones carry the reason of
    /// each change (`checksStarted`, `pairSelected`, `consentLost`, a fingerprint mismatch, …).
    func observe(_ connection: PeerConnection) -> Task<Void, Never> {
        Task {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await candidate in connection.iceCandidates() { self.trickle(candidate) }
                }
                group.addTask {
                    for await channel in connection.incomingDataChannels() { self.opened(channel) }
                }
                group.addTask {
                    // W3C connectionState: yielded where the PeerConnection records it, so
                    // `connected` comes before SCTP connects and before the page's channel opens.
                    for await state in connection.connectionStateChanges() {
                        self.logger.info("connection \(state.rawValue)")
                        if state == .connected { self.state.withLock { $0.connected = true } }
                        self.reportState(.connection, state.rawValue)
                    }
                }
                group.addTask {
                    for await change in connection.iceTransport.stateChanges() {
                        self.logger.info("ICE \(change)")
                        self.reportState(.ice, change.state.rawValue, reason: change.reason?.rawValue)
                    }
                }
                group.addTask {
                    for await change in connection.dtlsTransport.stateChanges() {
                        self.logger.info("DTLS \(change)")
                        self.reportState(.dtls, change.state.rawValue, reason: change.reason?.description)
                    }
                }
                group.addTask {
                    for await change in connection.sctpTransport.stateChanges() {
                        self.logger.info("SCTP \(change.rawValue)")
                        self.reportState(.sctp, change.rawValue)
                    }
                }
                group.addTask {
                    for await pair in connection.iceTransport.selectedPairChanges() where pair.component == 1 {
                        self.logger.info("selected pair \(pair)")
                        let report = PairReport(
                            local: pair.local.type.rawValue, remote: pair.remote.type.rawValue,
                            localAddress: Self.endpoint(pair.local), remoteAddress: Self.endpoint(pair.remote), t: self.t)
                        self.send { s in s.finalReported ? [] : [.pair(report)] }
                    }
                }
            }
        }
    }

    /// A channel the page opened: its states as `state` messages and its echo, on a task that
    /// ends (and forgets the channel) when the channel closes.
    private func opened(_ channel: DataChannel) {
        logger.info("the page opened \(channel): ordered \(channel.ordered), \(channel.reliability)")
        let (echoed, logger) = (echoed, logger)
        state.withLock { s in
            guard s.endReason == nil else { return }
            let key = s.nextChannel
            s.nextChannel += 1
            // Made under the lock, so that its removal (which takes the lock) comes after its insertion.
            s.channels[key] = (channel, Task {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        for await change in channel.stateChanges() { self.reportState(.channel, change.rawValue, channel: channel) }
                    }
                    group.addTask { await Echo.run(on: channel, counter: echoed, logger: logger) }
                }
                self.state.withLock { _ = $0.channels.removeValue(forKey: key) }
            })
        }
    }

    /// Sends a `state` message unless the layer (or channel) is in that state already, or the
    /// final states went out.
    func reportState(_ layer: Layer, _ value: String, reason: String? = nil, channel: DataChannel? = nil) {
        send { s in stateMessage(&s, layer, value, reason: reason, channel: channel).map { [$0] } ?? [] }
    }

    /// The `state` message for a change, if it is one (under the state's lock).
    func stateMessage(_ s: inout State, _ layer: Layer, _ value: String, reason: String? = nil, channel: DataChannel? = nil) -> ServerMessage? {
        let slot = Self.slot(layer, channel)
        guard !s.finalReported, s.reported[slot] != value else { return nil }
        // A closed channel's slot is dropped: the table stays as small as the open channels.
        s.reported[slot] = layer == .channel && value == DataChannelState.closed.rawValue ? nil : value
        return .state(StateReport(layer: layer, state: value, reason: reason, label: channel?.label, id: channel?.id.map(Int.init), t: t))
    }

    /// The key of a layer's (or channel's) last reported state.
    static func slot(_ layer: Layer, _ channel: DataChannel?) -> String {
        channel.map { "channel.\(ObjectIdentifier($0).hashValue)" } ?? layer.rawValue
    }

    /// `ip:port`, `[ip]:port` for IPv6.
    static func endpoint(_ candidate: IceCandidate) -> String {
        candidate.address.contains(":") ? "[\(candidate.address)]:\(candidate.port)" : "\(candidate.address):\(candidate.port)"
    }
}
