import Dispatch
import Logging
import NiceICE
import NiceWebRTCCore

/// The runtime of one ``PeerConnection``: the three transports, the ``Negotiation`` value that
/// decides, and the glue between them (what a server wrote by hand before issue 18).
///
/// **Roles and credentials.** The ``IceTransport`` is created at once (gathering starts with the
/// connection, so candidates are ready by the time a description is applied) as `controlled`,
/// with its own random credentials, which go into the first description. The first offer applied
/// decides the role (``NegotiationEffect/startIce(role:)``): ``IceTransport/setRole(_:)`` sets
/// libnice's controlling mode before any remote parameter, so before any check. An ICE restart we
/// offer takes the credentials written into the offer (``IceTransport/restartIce(with:)``: libnice's
/// `nice_agent_restart_stream` + `nice_agent_set_local_credentials`) when the offer is applied; a
/// restart by the peer restarts the agent when its offer is applied (``IceTransport/setRemoteParameters(_:)``
/// generates our new credentials) and the answer carries those. DTLS starts `.auto` and takes the
/// role the negotiation decided (``DtlsTransport/setRemoteParameters(_:localRole:)``).
///
/// **Candidate release.** Local candidates are collected from the start but signalled (the
/// `icecandidate` event) only once a local description carrying the agent's current credentials
/// is applied: after the first `setLocalDescription`, and after a restart only once the description
/// with the new ufrag is applied (our restart offer, or our answer to the peer's restart).
///
/// **Threads.** Signalling calls run one at a time on the caller's thread (``OperationChain``);
/// the transports' events arrive on a private serial queue; the user's events leave through
/// ``PeerConnectionHub`` on the handler queue. Lock order: operation chain → `state` → hub.
final class PeerConnectionCore: Sendable {
    struct State: Sendable {
        var negotiation: Negotiation
        var closed = false
        /// The current gathering round of the agent (candidates as libnice gave them) and how far
        /// it was signalled.
        var gathered: [IceCandidate] = []
        var gatheringDone = false
        var released = 0
        var releasedEnd = false
        var releasedGathering = false
        /// The ufrag of the local description in effect; candidates are signalled while the agent
        /// uses it.
        var releasedUfrag: String?
        /// Remote candidates added before a remote description existed, in order.
        var early: [IceCandidateInit?] = []
        /// The remote candidates of the current remote generation (to restore after a rolled-back
        /// restart).
        var remoteCandidates: [IceCandidate] = []
        /// The remote candidates a restart we offered made the agent forget, until its answer
        /// arrives (a rollback of the offer gives them back).
        var restartUndo: [IceCandidate]?
        /// A data channel was created (W3C: negotiation is needed while no data section was
        /// negotiated, which in `stable` means no data mid).
        var createdChannel = false
        /// `negotiationneeded` fired and the negotiation it asked for has not completed.
        var negotiationNeededFired = false
        /// A data section was negotiated and SCTP given the peer's port (W3C `sctp` is set).
        var sctpNegotiated = false
    }

    /// Remote candidates kept before the remote description, at most.
    static let earlyLimit = 1024

    let ice: IceTransport
    let dtls: DtlsTransport
    let sctp: SctpTransport
    let certificate: Certificate
    let hub: PeerConnectionHub
    let logger: Logger
    let chain = OperationChain()
    let state: Locked<State>
    /// Where the transports' events arrive.
    let layerQueue: DispatchQueue
    /// The media runtime (bindings, SRTP once media is negotiated).
    let media: MediaSession
    /// The `cname` of our `a=ssrc` lines (RFC 7022: random, one per connection).
    let cname = "nice-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

    init(configuration: PeerConnection.Configuration, queue: DispatchQueue, logger: Logger) throws(PeerConnectionError) {
        self.logger = logger
        hub = PeerConnectionHub(queue: queue)
        layerQueue = DispatchQueue(label: "NiceWebRTC.PeerConnection.layers")
        let certificate: Certificate
        if let first = configuration.certificates.first {
            certificate = first
        } else {
            do throws(DtlsError) {
                certificate = try Certificate.generate()
            } catch {
                throw PeerConnectionError(.operationError, field: "certificates", reason: "cannot generate a certificate: \(error.reason)")
            }
        }
        self.certificate = certificate
        do throws(IceError) {
            ice = try IceTransport(configuration: configuration.iceConfiguration, context: configuration.context, logger: logger)
        } catch {
            throw Self.configurationError(error)
        }
        do throws(DtlsError) {
            dtls = try DtlsTransport(iceTransport: ice, configuration: .init(certificate: certificate), logger: logger)
        } catch {
            ice.close()
            throw PeerConnectionError(error.code == .invalidCertificate ? .invalidAccess : .operationError, field: "certificates", reason: "DTLS: \(error.reason)")
        }
        do throws(DataChannelError) {
            var sctpConfiguration = configuration.sctp
            sctpConfiguration.queue = queue
            sctp = try SctpTransport(dtlsTransport: dtls, configuration: sctpConfiguration, logger: logger)
        } catch {
            dtls.close()
            throw PeerConnectionError(.typeError, field: "sctp." + (error.field ?? "configuration"), reason: "SCTP: \(error.reason)")
        }
        let local = LocalTransportValues(
            ice: ice.localParameters, fingerprints: [certificate.fingerprint], sctpPort: sctp.localParameters.port,
            maxMessageSize: sctp.localParameters.maxMessageSize, iceLite: configuration.iceLite)
        var negotiation = Negotiation(local: local)
        negotiation.remoteMediaPolicy = configuration.remoteMediaPolicy
        state = Locked(State(negotiation: negotiation))
        media = MediaSession(dtls: dtls, logger: logger, control: RtcpEngine(cname: cname))
        wireLayers()
    }

    /// W3C's constructor errors for what `IceTransport` refused: a URL that does not parse is a
    /// `SyntaxError`, anything else an `InvalidAccessError` (a TURN server without credentials),
    /// both naming the field.
    static func configurationError(_ error: IceError) -> PeerConnectionError {
        let code: PeerConnectionError.Code = error.code == .invalidIceServer && error.field == "url" ? .syntaxError : .invalidAccess
        return PeerConnectionError(code, field: error.field, reason: "ICE: \(error.reason)")
    }

    /// The transports' events, on ``layerQueue``. Every handler holds the core weakly: the layers
    /// never keep the session alive. The handlers set here belong to the connection (the public
    /// docs of ``PeerConnection/iceTransport`` and ``PeerConnection/dtlsTransport`` say so).
    private func wireLayers() {
        // The states follow the transports in the critical sections that record them (no hop
        // through layerQueue, issue 18): `connectionState` is `connected` when the DTLS transport
        // is, so before SCTP can connect or a channel open, and `iceConnectionState` keeps its
        // place before it. The hub's lock is a leaf, so taking it under the transports' is safe.
        ice.setTap { [weak self] event in
            switch event {
            case .state(let change):
                self?.hub.emit(.iceConnection(change.state))
            case .selectedPair(let pair):
                // Every session uses component 1 only (BUNDLE and rtcp-mux: data, RTP and RTCP share it).
                guard pair.component == 1 else { return }
                self?.hub.emit(.selectedPair(pair))
            }
        }
        ice.gatheringStateHandler = { [weak self] gathering in
            self?.iceGathering(gathering)
        }
        ice.candidateHandler = { [weak self] candidate in
            self?.iceCandidate(candidate)
        }
        dtls.core.hub.setTap { [weak self] event in
            switch event {
            case .dtls(let change): self?.hub.emit(.dtls(change))
            case .connection(let change): self?.hub.emit(.connection(change.state))
            }
        }
        ice.start(queue: layerQueue)
        dtls.start(queue: layerQueue)
    }

    // MARK: Local candidates (layer queue)

    private func iceGathering(_ gathering: IceGatheringState) {
        state.withLock { s in
            switch gathering {
            case .gathering:
                // A new round (the first, or a restart's replay): what was collected belongs to the old one.
                s.gathered = []
                s.gatheringDone = false
                s.released = 0
                s.releasedEnd = false
                s.releasedGathering = false
            case .complete:
                // The round's end, taken from the transport's `complete` (which follows its nil
                // candidate) so the transport's gathering state is `complete` when ours is (W3C).
                s.gatheringDone = true
            case .new:
                break
            }
        }
        release()
    }

    private func iceCandidate(_ candidate: IceCandidate?) {
        // nil: the end of the round, acted on at the transport's `complete` that follows it.
        guard let candidate else { return }
        state.withLock { $0.gathered.append(candidate) }
        release()
    }

    /// Signals what the current round gathered and was not signalled yet, if the local
    /// description in effect carries the agent's credentials (W3C order: candidates, the
    /// end-of-candidates candidate "", `icegatheringstatechange` complete, then nil).
    func release() {
        let ufrag = ice.localParameters.usernameFragment
        state.withLock { s in
            guard !s.closed, s.releasedUfrag == ufrag else { return }
            if !s.releasedGathering {
                s.releasedGathering = true
                hub.emit(.gathering(.gathering))
            }
            while s.released < s.gathered.count {
                if let init_ = s.negotiation.trickled(s.gathered[s.released]) { hub.emit(.candidate(init_)) }
                s.released += 1
            }
            if s.gatheringDone && !s.releasedEnd {
                s.releasedEnd = true
                if let end = s.negotiation.trickled(nil) { hub.emit(.candidate(end)) }
                hub.emit(.gathering(.complete))
                hub.emit(.candidate(nil))
            }
        }
    }

    // MARK: Signalling (caller's thread, one at a time)

    var signalingState: SignalingState { state.withLock { $0.negotiation.signalingState } }
    /// Whether a data section was negotiated (W3C `sctp` non-null).
    var sctpNegotiated: Bool { state.withLock { $0.sctpNegotiated } }

    func negotiation<R>(_ read: (Negotiation) -> R) -> R {
        state.withLock { read($0.negotiation) }
    }

    private static let closedError = PeerConnectionError(.invalidState, reason: "the PeerConnection is closed")

    func createOffer(iceRestart: Bool) throws(PeerConnectionError) -> SessionDescription {
        try chain.run { () throws(PeerConnectionError) -> SessionDescription in try offer(iceRestart: iceRestart) }
    }

    private func offer(iceRestart: Bool) throws(PeerConnectionError) -> SessionDescription {
        let ufrag = ice.localParameters.usernameFragment
        let result = state.withLock { s -> Result<SessionDescription, PeerConnectionError> in
            guard !s.closed else { return .failure(Self.closedError) }
            let restart = iceRestart || s.negotiation.restartPending
            // Candidates already signalled go into a re-offer (not into a restart's: the new
            // generation trickles them again).
            let known = !restart && s.releasedUfrag == ufrag
            return Result { () throws(PeerConnectionError) in
                try s.negotiation.createOffer(
                    iceRestart: restart, newIce: restart ? IceParameters.random() : nil,
                    candidates: known ? s.gathered : [], endOfCandidates: known && s.gatheringDone)
            }
        }
        return try result.get()
    }

    func createAnswer() throws(PeerConnectionError) -> SessionDescription {
        try chain.run { () throws(PeerConnectionError) -> SessionDescription in try answer() }
    }

    private func answer() throws(PeerConnectionError) -> SessionDescription {
        let current = ice.localParameters
        let result = state.withLock { s -> Result<SessionDescription, PeerConnectionError> in
            guard !s.closed else { return .failure(Self.closedError) }
            // A restart by the peer restarted our agent when its offer was applied: the answer
            // carries the credentials the agent took then.
            let restart = s.negotiation.needsNewLocalIceForAnswer || current != s.negotiation.local.ice
            let known = !restart && s.releasedUfrag == current.usernameFragment
            return Result { () throws(PeerConnectionError) in
                try s.negotiation.createAnswer(
                    newIce: restart ? current : nil, candidates: known ? s.gathered : [], endOfCandidates: known && s.gatheringDone)
            }
        }
        return try result.get()
    }

    /// W3C setLocalDescription; nil is the implicit form (an offer or answer as the state asks).
    func setLocal(_ description: SessionDescription?) throws(PeerConnectionError) -> SessionDescription? {
        try chain.run { () throws(PeerConnectionError) -> SessionDescription? in
            var description = description
            let signaling = signalingState
            guard signaling != .closed else { throw Self.closedError }
            if description == nil || description?.sdp.isEmpty == true && description?.type != .rollback {
                switch description?.type ?? (signaling == .haveRemoteOffer || signaling == .haveLocalPranswer ? .answer : .offer) {
                case .offer: description = try offer(iceRestart: false)
                case .answer, .pranswer:
                    var made = try answer()
                    made.type = description?.type ?? .answer
                    description = made
                case .rollback: break
                }
            }
            guard let description else { throw PeerConnectionError(.typeError, field: "type", reason: "no description") }
            try applyLocal(description)
            return state.withLock { $0.negotiation.localDescription }
        }
    }

    /// `settled`: W3C's end of "set the description" (update the negotiation-needed flag); false
    /// for the implicit rollback inside ``setRemote(_:)``, which is one operation with it.
    private func applyLocal(_ description: SessionDescription, settled: Bool = true) throws(PeerConnectionError) {
        let result = state.withLock { s in
            Result { () throws(PeerConnectionError) in try s.negotiation.setLocalDescription(description) }
        }
        let effects = try result.get()
        emitSignaling()
        try apply(effects, rollback: description.type == .rollback)
        syncMedia(remote: false)
        state.withLock { s in
            s.releasedUfrag = s.negotiation.localDescription == nil ? nil : s.negotiation.local.ice.usernameFragment
        }
        release()
        if settled { descriptionSettled() }
    }

    func setRemote(_ description: SessionDescription) throws(PeerConnectionError) {
        try chain.run { () throws(PeerConnectionError) in
            let signaling = signalingState
            guard signaling != .closed else { throw Self.closedError }
            // W3C: a remote offer in have-local-offer rolls our offer back first (perfect
            // negotiation's polite peer relies on it).
            if description.type == .offer && signaling == .haveLocalOffer {
                try applyLocal(SessionDescription(type: .rollback, sdp: ""), settled: false)
            }
            let result = state.withLock { s in
                Result { () throws(PeerConnectionError) in try s.negotiation.setRemoteDescription(description) }
            }
            let effects = try result.get()
            emitSignaling()
            try apply(effects, rollback: false)
            syncMedia(remote: true)
            if description.type == .answer {
                state.withLock { $0.restartUndo = nil }
            }
            // Remote candidates that came first, in order.
            let early = state.withLock { s -> [IceCandidateInit?] in
                guard s.negotiation.remoteDescription != nil else { return [] }
                defer { s.early = [] }
                return s.early
            }
            for candidate in early {
                do throws(PeerConnectionError) { try applyCandidate(candidate) } catch {
                    logger.info("a remote candidate given before the remote description was refused: \(error)")
                }
            }
            release()
            descriptionSettled()
        }
    }

    /// Carries out what the negotiation decided, in its order. `rollback`: the effects undo an
    /// offer (the core restores the credentials and role it replaced).
    private func apply(_ effects: [NegotiationEffect], rollback: Bool) throws(PeerConnectionError) {
        for effect in effects {
            switch effect {
            case .startIce(let role):
                logger.debug("ICE role \(role.rawValue)")
                ice.setRole(role)
            case .useLocalIce(let parameters):
                guard parameters != ice.localParameters else { continue }
                let remote = ice.remoteParameters
                let undo = state.withLock { s -> [IceCandidate] in
                    defer { s.restartUndo = rollback ? nil : s.remoteCandidates }
                    return s.restartUndo ?? s.remoteCandidates
                }
                do throws(IceError) {
                    try ice.restartIce(with: parameters)
                } catch {
                    throw PeerConnectionError(.operationError, field: "a=ice-ufrag", reason: "ICE restart: \(error.reason)")
                }
                state.withLock { $0.remoteCandidates = [] }
                guard rollback else {
                    logger.info("ICE restart (ours)")
                    continue
                }
                // Our restart offer was rolled back: the agent goes back to the credentials the
                // peer still uses, and to the peer's parameters and candidates, which libnice's
                // restart forgot (the core sees no remote change, so it says nothing of them).
                logger.info("ICE restart rolled back: previous credentials restored")
                guard let remote = remote ?? negotiation({ $0.remoteIce }) else { continue }
                try? ice.setRemoteParameters(remote)
                for candidate in undo { try? ice.addIceCandidate(candidate) }
                state.withLock { $0.remoteCandidates = undo }
            case .setRemoteIce(let parameters, let candidates, let end, _):
                let changed = ice.remoteParameters != parameters
                do throws(IceError) {
                    try ice.setRemoteParameters(parameters)
                } catch {
                    throw PeerConnectionError(.operationError, field: error.field.map { $0 == "ufrag" ? "a=ice-ufrag" : "a=ice-pwd" } ?? "sdp", reason: "ICE: \(error.reason)")
                }
                if changed { state.withLock { $0.remoteCandidates = [] } }
                for candidate in candidates {
                    do throws(IceError) {
                        try ice.addIceCandidate(candidate)
                        state.withLock { $0.remoteCandidates.append(candidate) }
                    } catch {
                        logger.info("a candidate in the remote description was refused: \(error.reason)")
                    }
                }
                if end { try? ice.addIceCandidate(nil) }
            case .startDtls(let role, let remote):
                do throws(DtlsError) {
                    try dtls.setRemoteParameters(remote, localRole: role)
                } catch {
                    throw PeerConnectionError(.operationError, field: error.field.map { $0 == "role" ? "a=setup" : "a=fingerprint" } ?? "sdp", reason: "DTLS: \(error.reason)")
                }
            case .startSctp(let port, let maxMessageSize):
                do throws(DataChannelError) {
                    try sctp.setRemoteParameters(SctpParameters(port: port, maxMessageSize: maxMessageSize))
                    state.withLock { $0.sctpNegotiated = true }
                } catch {
                    throw PeerConnectionError(.operationError, field: "a=sctp-port", reason: "SCTP: \(error.reason)")
                }
            }
        }
    }

    private func emitSignaling() {
        hub.emit(.signaling(signalingState))
    }

    // MARK: Remote candidates

    func addCandidate(_ candidate: IceCandidateInit?) throws(PeerConnectionError) {
        if let candidate, !candidate.candidate.isEmpty, candidate.sdpMid == nil, candidate.sdpMLineIndex == nil {
            throw PeerConnectionError(.typeError, field: "sdpMid", reason: "a candidate needs sdpMid or sdpMLineIndex")
        }
        try chain.run { () throws(PeerConnectionError) in
            let kept = state.withLock { s -> Result<Bool, PeerConnectionError> in
                guard !s.closed else { return .failure(Self.closedError) }
                guard s.negotiation.remoteDescription == nil else { return .success(false) }
                guard s.early.count < Self.earlyLimit else {
                    return .failure(PeerConnectionError(.operationError, field: "candidate", reason: "more than \(Self.earlyLimit) candidates before the remote description"))
                }
                s.early.append(candidate)
                return .success(true)
            }
            if try kept.get() { return }
            do throws(PeerConnectionError) {
                try applyCandidate(candidate)
            } catch where error.code == .operationError && error.field == "usernameFragment" {
                // A candidate of a generation no remote description announced yet: the peer's
                // restart candidates overtook its offer (its icecandidate handler and the code
                // that sends the offer race, as they do with Pion or libwebrtc's native API).
                // Kept for the next remote description, routed (or refused, logged) then.
                try keep(candidate, error)
            }
        }
    }

    private func keep(_ candidate: IceCandidateInit?, _ error: PeerConnectionError) throws(PeerConnectionError) {
        let kept = state.withLock { s -> Bool in
            guard s.early.count < Self.earlyLimit else { return false }
            s.early.append(candidate)
            return true
        }
        guard kept else { throw error }
        logger.debug("kept a remote candidate of an ICE generation not signalled yet")
    }

    private func applyCandidate(_ candidate: IceCandidateInit?) throws(PeerConnectionError) {
        guard let candidate else {
            try? ice.addIceCandidate(nil)
            return
        }
        let route = try negotiation { n in Result { () throws(PeerConnectionError) in try n.route(candidate) } }.get()
        switch route {
        case .add(let c):
            do throws(IceError) {
                try ice.addIceCandidate(c)
                state.withLock { $0.remoteCandidates.append(c) }
            } catch {
                throw PeerConnectionError(.operationError, field: error.field.map { "candidate.\($0)" } ?? "candidate", reason: error.reason)
            }
        case .endOfCandidates:
            try? ice.addIceCandidate(nil)
        case .ignore(let reason):
            logger.debug("remote candidate ignored: \(reason)")
        }
    }

    // MARK: Restart, channels, negotiation-needed

    func restartIce() {
        let needed = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            return s.negotiation.restartIce()
        }
        if needed { checkNegotiationNeeded() }
    }

    func createChannel(label: String, options: DataChannelOptions) throws(PeerConnectionError) -> DataChannel {
        guard signalingState != .closed else { throw Self.closedError }
        let channel: DataChannel
        do throws(DataChannelError) {
            channel = try sctp.createDataChannel(label: label, options: options)
        } catch {
            switch error.code {
            case .invalidParameters: throw PeerConnectionError(.typeError, field: error.field, reason: error.reason)
            case .closed: throw Self.closedError
            default: throw PeerConnectionError(.operationError, field: error.field, reason: error.reason)
            }
        }
        let first = state.withLock { s -> Bool in
            s.negotiation.offersDataSection = true  // the next offer has a data section (appended if media came first)
            defer { s.createdChannel = true }
            return !s.createdChannel
        }
        if first { checkNegotiationNeeded() }
        return channel
    }

    /// W3C's "update the negotiation-needed flag" (webrtc-pc §4.7.3): in `stable`, when a data
    /// section or a restart waits to be negotiated, set the flag and fire `negotiationneeded`,
    /// unless the flag is set already; when nothing waits, clear it. Outside `stable` nothing
    /// happens: the end of the description that returns to `stable` updates the flag again
    /// (``descriptionSettled()``).
    func checkNegotiationNeeded() {
        state.withLock { s in updateNegotiationNeeded(&s) }
    }

    /// The end of W3C's "set the description" (§4.4.1.6): if the state is now `stable`, update
    /// the negotiation-needed flag; if the flag was set both before and after (the negotiation
    /// that completed did not cover what was asked, e.g. ``restartIce()`` in `have-local-offer`),
    /// fire `negotiationneeded` again.
    private func descriptionSettled() {
        state.withLock { s in
            guard !s.closed, s.negotiation.signalingState == .stable else { return }
            let before = s.negotiationNeededFired
            updateNegotiationNeeded(&s)
            if before && s.negotiationNeededFired { hub.emit(.negotiationNeeded) }
        }
    }

    /// The flag's update itself (the caller holds `state`).
    private func updateNegotiationNeeded(_ s: inout State) {
        guard !s.closed else { return }
        guard s.negotiation.signalingState == .stable else { return }
        guard (s.createdChannel && s.negotiation.dataMid == nil) || s.negotiation.restartPending || Self.mediaNeedsNegotiation(s.negotiation) else {
            s.negotiationNeededFired = false
            hub.negotiationSatisfied()
            return
        }
        guard !s.negotiationNeededFired else { return }
        s.negotiationNeededFired = true
        hub.emit(.negotiationNeeded)
    }

    // MARK: Close

    /// W3C close: every state `closed` at once, no event after, the association aborted, DTLS
    /// close_notify, ICE closed. False if already closed.
    @discardableResult
    func close() -> Bool {
        guard hub.close() else { return false }
        state.withLock { s in
            s.closed = true
            s.negotiation.close()
            s.early = []
        }
        ice.stateUpdateHandler = nil
        ice.gatheringStateHandler = nil
        ice.candidateHandler = nil
        ice.selectedPairHandler = nil
        dtls.stateUpdateHandler = nil
        dtls.connectionStateHandler = nil
        sctp.dataChannelHandler = nil
        sctp.close()
        media.close()
        logger.debug("closed")
        return true
    }
}
