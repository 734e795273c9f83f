// A session's signalling input, on its queue: offers (the first builds the stack, a later one
// renegotiates or restarts ICE), trickled candidates, end-of-candidates, bye.
import Logging
import NiceWebRTC
import Synchronization

extension Session {
    /// One message from the page, on ``queue``.
    func handle(_ message: ClientMessage) {
        guard !isEnding else { return }
        switch message {
        case .offer(let sdp):
            // Every offer (an ICE restart too) costs a token of the server-wide budget: building a
            // stack (agent, sockets, key, certificate, TURN allocation) or restarting ICE is what
            // a page could otherwise make the server do without bound.
            guard offerBudget.take() else {
                report(SignallingError(
                    field: "rate",
                    reason: "the server takes at most \(Self.rateText(offerBudget.rate)) offers a second (\(offerBudget.burst) at once): offer dropped, try again later"))
                return
            }
            answer(sdp)
        case .candidate(let line, let mid, let index):
            let candidate: IceCandidate
            do throws(IceError) {
                // Without mid and index: the first media section, as W3C's addIceCandidate does.
                candidate = try IceCandidate(parsing: line, sdpMid: mid, sdpMLineIndex: mid == nil && index == nil ? 0 : index)
            } catch {
                report(SignallingError(field: error.field ?? "candidate", reason: "candidate: \(error.reason)"))
                return
            }
            addOrKeep(candidate)
        case .endOfCandidates:
            addOrKeep(nil)
        case .bye:
            logger.info("the page said bye")
            beginEnd(.pageBye)
        }
    }

    // MARK: Offers

    /// Answers an offer. The first one builds the stack; a later one with new ICE credentials
    /// (the page's `restartIce()`) restarts our ICE side with new credentials of ours, and one
    /// with the same credentials is answered as it stands. DTLS, SCTP and the channels go on in
    /// both cases.
    private func answer(_ sdp: String) {
        let remote: DataChannelRemoteDescription
        do throws(SdpError) {
            remote = try DataChannelRemoteDescription(parsing: sdp)
        } catch {
            report(Self.signallingError(error, context: "offer"))
            return
        }
        let existing = state.withLock { ($0.stack, $0.remoteIce) }
        let stack: SessionStack
        let isFirst = existing.0 == nil
        if let current = existing.0 {
            stack = current
        } else {
            var ice = settings.ice
            ice.role = remote.iceLite ? .controlling : .controlled
            do throws(StackError) {
                stack = try SessionStack(ice: ice, queue: queue, logger: logger)
            } catch {
                logger.error("could not build the connection: \(error.reason)")
                report(SignallingError(field: error.field, reason: error.reason))
                return
            }
        }
        let restart = !isFirst && existing.1 != remote.ice
        do {
            // Against the page's actpass we are the DTLS client (a=setup:active); a renegotiation
            // with the same fingerprints changes nothing.
            let decided = try stack.dtls.setRemoteParameters(remote.dtls)
            // restartIce() hands out our new credentials at once (what the answer must carry);
            // the page's new ones then apply to the restarted agent.
            let local: IceParameters
            if restart {
                local = try stack.connection.restartIce()
            } else {
                local = stack.connection.localParameters
            }
            let version = state.withLock { s -> UInt64 in
                s.answers += 1
                return s.answers + 1
            }
            let answer = try DataChannelAnswer(
                offer: sdp, ice: local, dtls: decided, sctpPort: stack.sctp.localParameters.port,
                maxMessageSize: stack.sctp.localParameters.maxMessageSize, sessionId: sdpSessionId, sessionVersion: version)
            try stack.connection.setRemoteParameters(answer.remoteIce)
            for candidate in answer.remoteCandidates {
                do throws(IceError) { try stack.connection.addIceCandidate(candidate) } catch {
                    report(SignallingError(field: error.field ?? "a=candidate", reason: "offer candidate: \(error.reason)"))
                }
            }
            if answer.remoteEndOfCandidates { try stack.connection.addIceCandidate(nil) }
            try stack.sctp.setRemoteParameters(SctpParameters(port: answer.remoteSctpPort, maxMessageSize: answer.remoteMaxMessageSize))
            let pending = state.withLock { s in
                s.stack = stack
                s.answer = answer
                s.remoteIce = answer.remoteIce
                defer { s.pending = [] }
                return s.pending
            }
            logger.info("""
                \(isFirst ? "answering" : restart ? "ICE restart: answering" : "renegotiation: answering") \
                as ICE \(answer.role.rawValue), DTLS \(answer.localDtls.role.setupValue), data mid \(answer.dataMid ?? "-"), \
                \(answer.rejectedMids.count) section(s) rejected, \(answer.remoteCandidates.count) candidate(s) in the offer
                """)
            send(.answer(sdp: answer.sdp))
            if isFirst { start(stack) }
            for candidate in pending { add(candidate, to: stack, answer: answer) }
        } catch {
            if isFirst { stack.close() }
            report(Self.signallingError(error, context: "offer"))
        }
    }

    /// `10`, `0.5`: a rate as it reads best.
    static func rateText(_ rate: Double) -> String {
        rate == rate.rounded() && rate < 1e9 ? String(Int(rate)) : String(rate)
    }

    /// The typed errors of the layers as an `error` message body: the field, and the reason after
    /// `context` (an SDP error's line first, `offer: line 13: …`).
    static func signallingError(_ error: any Error, context: String) -> SignallingError {
        switch error {
        case let e as SdpError: SignallingError(field: e.field ?? "sdp", reason: "\(context): \(e.located)")
        case let e as DtlsError: SignallingError(field: e.field ?? "sdp", reason: "\(context): \(e.reason)")
        case let e as IceError: SignallingError(field: e.field ?? "sdp", reason: "\(context): \(e.reason)")
        case let e as DataChannelError: SignallingError(field: e.field ?? "sdp", reason: "\(context): \(e.reason)")
        default: SignallingError(field: "sdp", reason: "\(context): \(error)")
        }
    }

    // MARK: Candidates

    /// Adds a remote candidate, or keeps it until the first offer is answered.
    private func addOrKeep(_ candidate: IceCandidate?) {
        enum Outcome { case ready(SessionStack, DataChannelAnswer), kept, full }
        let outcome = state.withLock { s -> Outcome in
            if let stack = s.stack, let answer = s.answer { return .ready(stack, answer) }
            guard s.pending.count < ServerSettings.maxPendingCandidates else { return .full }
            s.pending.append(candidate)
            return .kept
        }
        switch outcome {
        case .ready(let stack, let answer):
            add(candidate, to: stack, answer: answer)
        case .kept:
            break
        case .full:
            report(SignallingError(field: "candidate", reason: "more than \(ServerSettings.maxPendingCandidates) candidates before the offer"))
        }
    }

    /// Adds a remote candidate (nil: end-of-candidates) for the data transport. Candidates for
    /// the sections the answer rejected (a browser's audio or video) are skipped; `.local` mDNS
    /// candidates are skipped by NiceICE, which learns the page's address from its checks.
    private func add(_ candidate: IceCandidate?, to stack: SessionStack, answer: DataChannelAnswer) {
        guard let candidate else {
            do throws(IceError) { try stack.connection.addIceCandidate(nil) } catch {
                report(SignallingError(field: error.field ?? "end-of-candidates", reason: "end-of-candidates: \(error.reason)"))
            }
            return
        }
        do throws(SdpError) {
            guard try answer.isDataCandidate(candidate) else {
                logger.debug("skipping a candidate for mid \(candidate.sdpMid ?? "-"), not the data section")
                return
            }
        } catch {
            report(SignallingError(field: error.field ?? "candidate", reason: "candidate: \(error.reason)"))
            return
        }
        do throws(IceError) {
            try stack.connection.addIceCandidate(candidate)
            logger.debug("remote candidate \(candidate.type.rawValue) \(candidate.address):\(candidate.port)")
        } catch {
            report(SignallingError(field: error.field ?? "candidate", reason: "candidate: \(error.reason)"))
        }
    }
}
