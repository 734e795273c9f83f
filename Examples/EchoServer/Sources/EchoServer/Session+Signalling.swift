// A session's signalling input: offers (the first makes the connection; a later one renegotiates
// or restarts ICE, which the connection tells apart), trickled candidates, end-of-candidates, bye.
import Logging
import NiceWebRTC
import Synchronization

extension Session {
    /// Handles one message from the page and returns once it was handled, so that a WebSocket's
    /// messages are handled in order and never pile up.
    func receive(_ message: ClientMessage) async {
        guard !isEnding else { return }
        switch message {
        case .offer(let sdp):
            // Every offer (an ICE restart too) costs a token of the server-wide budget: making a
            // connection (agent, sockets, key, certificate, TURN allocation) or restarting ICE is
            // what a page could otherwise make the server do without bound.
            guard offerBudget.take() else {
                report(SignallingError(
                    field: "rate",
                    reason: "the server takes at most \(Self.rateText(offerBudget.rate)) offers a second (\(offerBudget.burst) at once): offer dropped, try again later"))
                return
            }
            await answer(sdp)
        case .candidate(let line, let mid, let index, let ufrag):
            // Without mid and index: the first media section.
            await add(IceCandidateInit(candidate: line, sdpMid: mid, sdpMLineIndex: mid == nil && index == nil ? 0 : index, usernameFragment: ufrag))
        case .endOfCandidates:
            await add(nil)
        case .bye:
            logger.info("the page said bye")
            beginEnd(.pageBye)
        }
    }

    /// Answers an offer: the first, a renegotiation or an ICE restart alike. The first one makes
    /// the connection, kept only if the offer is usable (a page sending garbage costs no agent).
    /// Our candidates wait until the answer is queued, so that the page gets the answer first.
    private func answer(_ sdp: String) async {
        let existing = state.withLock { $0.connection }
        guard let connection = existing ?? makeConnection() else { return }
        state.withLock { $0.held = $0.held ?? [] }
        var adopted = existing != nil
        do throws(PeerConnectionError) {
            try await connection.setRemoteDescription(SessionDescription(type: .offer, sdp: sdp))
            if !adopted {
                guard await adopt(connection) else { return }
                adopted = true
            }
            let answer = try await connection.setLocalDescription()
            logger.info("answering an offer (our ufrag \(connection.iceTransport.localParameters.usernameFragment))")
            send { s in
                defer { s.held = nil }
                return [.answer(sdp: answer.sdp)] + (s.held ?? []).map(Self.message)
            }
        } catch {
            if !adopted {
                connection.close()
            } else if connection.signalingState == .haveRemoteOffer {
                try? await connection.setRemoteDescription(SessionDescription(type: .rollback, sdp: ""))
            }
            send { s in
                defer { s.held = nil }
                return (s.held ?? []).map(Self.message)
            }
            report(Self.signallingError(error, context: "offer", field: "sdp"))
        }
    }

    /// A new connection (it starts gathering at once), or nil after telling the page why not.
    private func makeConnection() -> PeerConnection? {
        do throws(PeerConnectionError) {
            return try PeerConnection(configuration: settings.connection, logger: logger)
        } catch {
            logger.error("could not make the connection: \(error)")
            report(SignallingError(field: error.field ?? "connection", reason: "connection: \(error.reason)"))
            return nil
        }
    }

    /// Makes `connection` the session's, once the first offer was applied: its events go to the
    /// page from now on (every stream starts with the current state), and the candidates that
    /// came before the offer go to it. False (and the connection closed) if the session is ending.
    private func adopt(_ connection: PeerConnection) async -> Bool {
        let pending = state.withLock { s -> [IceCandidateInit?]? in
            guard s.endReason == nil else { return nil }
            s.connection = connection
            s.observer = observe(connection)
            defer { s.pending = [] }
            return s.pending
        }
        guard let pending else {
            connection.close()
            return false
        }
        for candidate in pending { await add(candidate, to: connection) }
        return true
    }

    /// Gives a remote candidate (nil: end-of-candidates) to the connection, or keeps it until
    /// the first offer made one.
    private func add(_ candidate: IceCandidateInit?) async {
        enum Target { case connection(PeerConnection), kept, full }
        let target = state.withLock { s -> Target in
            if let connection = s.connection { return .connection(connection) }
            guard s.pending.count < ServerSettings.maxPendingCandidates else { return .full }
            s.pending.append(candidate)
            return .kept
        }
        switch target {
        case .connection(let connection): await add(candidate, to: connection)
        case .kept: break
        case .full: report(SignallingError(field: "candidate", reason: "more than \(ServerSettings.maxPendingCandidates) candidates before the offer"))
        }
    }

    /// W3C `addIceCandidate`: routed by mid and ufrag; candidates for rejected sections, of an
    /// earlier ICE generation or `.local` (mDNS) are skipped without an error.
    private func add(_ candidate: IceCandidateInit?, to connection: PeerConnection) async {
        do throws(PeerConnectionError) {
            try await connection.addIceCandidate(candidate)
        } catch {
            report(Self.signallingError(error, context: candidate == nil ? "end-of-candidates" : "candidate", field: "candidate"))
        }
    }

    /// One of our candidates for the page (from ``observe(_:)``): held while an offer is being
    /// answered. W3C's null candidate, which follows the end-of-candidates one, is not sent.
    func trickle(_ candidate: IceCandidateInit?) {
        guard let candidate else { return }
        send { s in
            guard s.held == nil else {
                s.held?.append(candidate)
                return []
            }
            return [Self.message(candidate)]
        }
    }

    static func message(_ candidate: IceCandidateInit) -> ServerMessage {
        candidate.isEndOfCandidates
            ? .endOfCandidates
            : .candidate(candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex, usernameFragment: candidate.usernameFragment)
    }

    /// `10`, `0.5`: a rate as it reads best.
    static func rateText(_ rate: Double) -> String {
        rate == rate.rounded() && rate < 1e9 ? String(Int(rate)) : String(rate)
    }

    /// A connection's typed error as an `error` message body: the SDP reader's field and line
    /// when the SDP was at fault (`offer: line 13: …`), else the error's field (or `field`).
    static func signallingError(_ error: PeerConnectionError, context: String, field: String) -> SignallingError {
        if let sdp = error.sdpError {
            return SignallingError(field: sdp.field ?? field, reason: "\(context): \(sdp.located)")
        }
        return SignallingError(field: error.field ?? field, reason: "\(context): \(error.reason)")
    }
}
