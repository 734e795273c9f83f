import NiceICECore

/// The checks and state changes behind ``Negotiation/setLocalDescription(_:)`` and
/// ``Negotiation/setRemoteDescription(_:)``, one function per description kind.
extension Negotiation {
    // MARK: Errors

    static func closedError(_ call: String) -> PeerConnectionError {
        PeerConnectionError(.invalidState, reason: "\(call): the session is closed")
    }

    func wrongState(_ call: String, allowed: String) -> PeerConnectionError {
        PeerConnectionError(.invalidState, field: "type", reason: "\(call) in signaling state \(signalingState.rawValue): only in \(allowed)")
    }

    static func notOurs(_ reason: String, field: String? = nil, sdpError: SdpError? = nil) -> PeerConnectionError {
        PeerConnectionError(.invalidModification, field: field, reason: "not the description we created: \(reason)", sdpError: sdpError)
    }

    static func doesNotFit(_ reason: String, field: String? = nil) -> PeerConnectionError {
        PeerConnectionError(.invalidAccess, field: field, reason: reason)
    }

    static func readLocal(_ description: SessionDescription) throws(PeerConnectionError) -> AppliedDescription {
        do { return try AppliedDescription(description) } catch { throw notOurs(error.located, field: error.field ?? "sdp", sdpError: error) }
    }

    static func readRemote(_ description: SessionDescription) throws(PeerConnectionError) -> AppliedDescription {
        do {
            return try AppliedDescription(description)
        } catch {
            throw PeerConnectionError(sdp: error, "the remote \(description.type.rawValue) cannot be applied")
        }
    }

    // MARK: Roles

    /// The answerer's ICE role: controlled, unless exactly one side is ICE-lite (the full agent
    /// controls, RFC 8445 §6.1.1).
    func answererRole(remoteLite: Bool) -> IceRole {
        remoteLite && !local.iceLite ? .controlling : .controlled
    }

    /// The offerer's ICE role: controlling, unless we are ICE-lite and the peer is not (known
    /// once its answer is read; a lite offerer assumes a full peer until then).
    func offererRole(remoteLite: Bool) -> IceRole {
        local.iceLite && !remoteLite ? .controlled : .controlling
    }

    mutating func decideIceRole(_ role: IceRole, into effects: inout [NegotiationEffect]) {
        guard role != iceRole else { return }
        iceRole = role
        effects.append(.startIce(role: role))
    }

    // MARK: Local descriptions

    func checkLocalOffer(_ offer: AppliedDescription) throws(PeerConnectionError) {
        try checkFingerprints(offer)
        let role = dtlsRole ?? .auto
        guard offer.dtls.role == role else {
            throw Self.notOurs("its a=setup is \(offer.dtls.role.setupValue), ours is \(role.setupValue)", field: "a=setup")
        }
        try checkLayout(offer, against: currentLocal, growing: true, fault: Self.notOurs)
        if offer.credentials != local.ice, localDescription == nil {
            throw Self.notOurs("its ICE credentials are not ours", field: "a=ice-ufrag")
        }
        guard offer.iceLite == local.iceLite else { throw Self.notOurs("its a=ice-lite is not ours", field: "a=ice-lite") }
    }

    func checkLocalAnswer(_ answer: AppliedDescription, to offer: AppliedDescription) throws(PeerConnectionError) {
        try checkFingerprints(answer)
        let role = answer.dtls.role
        let expected = dtlsRole ?? DtlsRole.answering(offer.dtls.role)
        guard role != .auto, role != offer.dtls.role || offer.dtls.role == .auto, dtlsRole == nil || role == dtlsRole else {
            throw Self.notOurs("its a=setup is \(role.setupValue), the answer is \(expected.setupValue)", field: "a=setup")
        }
        try checkLayout(answer, against: offer, fault: Self.notOurs)
        if answer.credentials != local.ice, !needsNewLocalIceForAnswer {
            throw Self.notOurs("its ICE credentials are not ours (only an answer to an ICE restart changes them)", field: "a=ice-ufrag")
        }
        guard answer.iceLite == local.iceLite else { throw Self.notOurs("its a=ice-lite is not ours", field: "a=ice-lite") }
    }

    func checkFingerprints(_ description: AppliedDescription) throws(PeerConnectionError) {
        guard Set(description.dtls.fingerprints) == Set(local.fingerprints) else {
            throw Self.notOurs("its certificate fingerprints are not ours", field: "a=fingerprint")
        }
    }

    /// The sections of `description` against `reference` (the offer answered, or the session
    /// a later offer continues): as many `m=` lines (at least as many when `growing`: a later
    /// offer may add sections), the data section at the same index with the same mid (or, when
    /// `growing` and the session has none, a data section after the session's sections: added
    /// by this offer), and the data mid decided so far.
    func checkLayout(
        _ description: AppliedDescription, against reference: AppliedDescription?, growing: Bool = false,
        fault: (String, String?, SdpError?) -> PeerConnectionError
    ) throws(PeerConnectionError) {
        let data = description.data
        if let reference {
            let count = description.mediaLines.count
            guard count == reference.mediaLines.count || (growing && count > reference.mediaLines.count) else {
                throw fault("it has \(description.mediaLines.count) m= sections, not \(reference.mediaLines.count)", "m=", nil)
            }
            if let expected = reference.data {
                guard let data, data.mLineIndex == expected.mLineIndex, data.mid == expected.mid else {
                    throw fault("its data section is not at m-line \(expected.mLineIndex) with mid \(expected.mid ?? "none")", "a=mid", nil)
                }
            } else if let data, !growing || data.mLineIndex < reference.mediaLines.count {
                throw fault("it has a data section (m-line \(data.mLineIndex)) where the session has none", "m=application", nil)
            }
        }
        if let dataMid, data?.mid != dataMid {
            throw fault("its data section's mid is \(data?.mid ?? "none"), not \(dataMid)", "a=mid", nil)
        }
        if let dataMLineIndex, data?.mLineIndex != dataMLineIndex {
            throw fault("its data section is at m-line \(data.map { String($0.mLineIndex) } ?? "none"), not \(dataMLineIndex)", "m=", nil)
        }
    }

    mutating func applyLocalOffer(_ offer: AppliedDescription) -> [NegotiationEffect] {
        if signalingState == .stable { stableSnapshot = snapshot() }
        var effects: [NegotiationEffect] = []
        let restart = localDescription != nil && offer.credentials != local.ice
        pendingLocal = offer
        signalingState = .haveLocalOffer
        sessionVersion += 1
        if dataMid == nil, dataMLineIndex == nil, let data = offer.data {
            dataMid = data.mid
            dataMLineIndex = data.mLineIndex
        }
        if iceRole == nil || restart {
            decideIceRole(offererRole(remoteLite: restart ? remoteIceLite : false), into: &effects)
        }
        if offer.credentials != local.ice {
            local.ice = offer.credentials
            effects.append(.useLocalIce(offer.credentials))
        }
        associateTransceivers(with: offer)
        return effects
    }

    mutating func applyLocalAnswer(_ answer: AppliedDescription, to offer: AppliedDescription) -> [NegotiationEffect] {
        var effects: [NegotiationEffect] = []
        sessionVersion += 1
        if answer.credentials != local.ice {
            local.ice = answer.credentials
            effects.append(.useLocalIce(answer.credentials))
        }
        guard answer.description.type == .answer else {
            pendingLocal = answer
            signalingState = .haveLocalPranswer
            return effects
        }
        currentLocal = answer
        currentRemote = offer
        settleMedia(offer: offer, answer: answer, localIsOfferer: false)
        pendingLocal = nil
        pendingRemote = nil
        signalingState = .stable
        stableSnapshot = nil
        if dtlsRole == nil {
            dtlsRole = answer.dtls.role
            effects.append(.startDtls(role: answer.dtls.role, remote: offer.dtls))
        }
        startSctp(with: offer.data, into: &effects)
        settleRestart()
        return effects
    }

    // MARK: Remote descriptions

    func checkRemoteOffer(_ offer: AppliedDescription) throws(PeerConnectionError) {
        if let previous = currentRemote {
            guard offer.mediaLines.count >= previous.mediaLines.count else {
                throw Self.doesNotFit(
                    "the offer has \(offer.mediaLines.count) m= sections, fewer than the session's \(previous.mediaLines.count) (RFC 8829 §5.2.2)",
                    field: "m=")
            }
            if let expected = previous.data {
                guard offer.data?.mLineIndex == expected.mLineIndex, offer.data?.mid == expected.mid else {
                    throw Self.doesNotFit("the offer moves the data section or changes its mid", field: "a=mid")
                }
            } else if let data = offer.data, data.mLineIndex < previous.mediaLines.count {
                throw Self.doesNotFit(
                    "the offer adds a data section at m-line \(data.mLineIndex), an m-line of the session: a new section is appended (RFC 8829 §5.2.2)",
                    field: "m=application")
            }
            try checkSameCertificate(offer, previous)
        }
        if let role = dtlsRole, offer.dtls.role != .auto, DtlsRole.answering(offer.dtls.role) != role {
            throw Self.doesNotFit(
                "the offer's a=setup:\(offer.dtls.role.setupValue) swaps the negotiated DTLS roles (we are \(role.rawValue)); a new DTLS association is not supported",
                field: "a=setup")
        }
    }

    func checkRemoteAnswer(_ answer: AppliedDescription, to offer: AppliedDescription) throws(PeerConnectionError) {
        let role = answer.dtls.role
        guard role != .auto else {
            throw Self.doesNotFit("the \(answer.description.type.rawValue) has a=setup:actpass; an answer must be active or passive (RFC 8842 §5.3)", field: "a=setup")
        }
        guard offer.dtls.role == .auto || role != offer.dtls.role else {
            throw Self.doesNotFit("the \(answer.description.type.rawValue)'s a=setup:\(role.setupValue) is the role our offer took", field: "a=setup")
        }
        try checkLayout(answer, against: offer) { reason, field, _ in
            Self.doesNotFit("the \(answer.description.type.rawValue) does not answer our offer: \(reason)", field: field)
        }
        if let previous = currentRemote { try checkSameCertificate(answer, previous) }
    }

    func checkSameCertificate(_ description: AppliedDescription, _ previous: AppliedDescription) throws(PeerConnectionError) {
        guard Set(description.dtls.fingerprints) == Set(previous.dtls.fingerprints) else {
            throw Self.doesNotFit("the peer's certificate fingerprints changed; a new DTLS association is not supported", field: "a=fingerprint")
        }
    }

    mutating func applyRemoteOffer(_ offer: AppliedDescription) -> [NegotiationEffect] {
        if signalingState == .stable { stableSnapshot = snapshot() }
        var effects: [NegotiationEffect] = []
        let restart = currentRemote.map { offer.credentials != $0.credentials } ?? false
        var offer = offer
        planAnswer(&offer)
        pendingRemote = offer
        signalingState = .haveRemoteOffer
        remember(offer)
        if dataMid == nil, dataMLineIndex == nil, let data = offer.data {
            dataMid = data.mid
            dataMLineIndex = data.mLineIndex
        }
        remoteIceLite = offer.iceLite
        if iceRole == nil || restart {
            decideIceRole(answererRole(remoteLite: offer.iceLite), into: &effects)
        }
        setRemoteIce(from: offer, into: &effects)
        return effects
    }

    mutating func applyRemoteAnswer(_ answer: AppliedDescription) -> [NegotiationEffect] {
        var effects: [NegotiationEffect] = []
        // The answerer picks the transport: the first section of its BUNDLE group (ours when it
        // keeps our tag; the data section when it rejected the sections before it).
        pendingLocal?.transportIndex = answer.transportIndex
        remember(answer)
        remoteIceLite = answer.iceLite
        if local.iceLite {
            decideIceRole(offererRole(remoteLite: answer.iceLite), into: &effects)
        }
        setRemoteIce(from: answer, into: &effects)
        guard answer.description.type == .answer else {
            pendingRemote = answer
            signalingState = .haveRemotePranswer
            return effects
        }
        if let offer = pendingLocal { settleMedia(offer: offer, answer: answer, localIsOfferer: true) }
        currentLocal = pendingLocal
        currentRemote = answer
        pendingLocal = nil
        pendingRemote = nil
        signalingState = .stable
        stableSnapshot = nil
        if dtlsRole == nil {
            let role = DtlsRole.answering(answer.dtls.role)
            dtlsRole = role
            effects.append(.startDtls(role: role, remote: answer.dtls))
        }
        startSctp(with: answer.data, into: &effects)
        settleRestart()
        return effects
    }

    /// A completed exchange: ``NegotiationEffect/startSctp(remotePort:remoteMaxMessageSize:)``
    /// with the peer's data section the first time an exchange has one (the first exchange, or
    /// the later one that added it to a media-only session); nothing without one.
    mutating func startSctp(with remote: DataChannelRemoteDescription?, into effects: inout [NegotiationEffect]) {
        guard !sctpStarted, let remote else { return }
        sctpStarted = true
        effects.append(.startSctp(remotePort: remote.sctpPort, remoteMaxMessageSize: remote.maxMessageSize))
    }

    mutating func setRemoteIce(from description: AppliedDescription, into effects: inout [NegotiationEffect]) {
        let transport = description.transport
        guard transport.ice != remoteIce else { return }
        remoteIce = transport.ice
        effects.append(
            .setRemoteIce(transport.ice, candidates: transport.candidates, endOfCandidates: transport.endOfCandidates, lite: description.iceLite))
    }

    /// Records every section's ufrag, for ``route(_:)``'s generation checks.
    mutating func remember(_ description: AppliedDescription) {
        for (index, ufrag) in description.ufrags.enumerated() {
            guard let ufrag else { continue }
            remoteUfrags[Self.sectionKey(mid: description.mids[index], index: index), default: []].insert(ufrag)
        }
    }

    static func sectionKey(mid: String?, index: Int) -> String {
        mid ?? "#\(index)"
    }

    /// W3C: back in stable, a ``restartIce()`` is done once the credentials in use are new.
    mutating func settleRestart() {
        if !credentialsToReplace.isEmpty, !restartPending { credentialsToReplace.removeAll() }
    }

    // MARK: Rollback

    func snapshot() -> NegotiationSnapshot {
        NegotiationSnapshot(
            iceRole: iceRole, dataMid: dataMid, dataMLineIndex: dataMLineIndex, remoteIce: remoteIce, remoteIceLite: remoteIceLite,
            localIce: local.ice, transceivers: transceivers)
    }

    /// W3C rollback: from have-local-offer or have-remote-offer back to stable, the pending
    /// descriptions dropped and what the offer changed restored, with the effects that undo it.
    mutating func rollback(_ call: String) throws(PeerConnectionError) -> [NegotiationEffect] {
        guard signalingState == .haveLocalOffer || signalingState == .haveRemoteOffer else {
            throw wrongState(call, allowed: "have-local-offer or have-remote-offer")
        }
        pendingLocal = nil
        pendingRemote = nil
        signalingState = .stable
        guard let saved = stableSnapshot else { return [] }
        stableSnapshot = nil
        var effects: [NegotiationEffect] = []
        if let role = saved.iceRole, role != iceRole {
            effects.append(.startIce(role: role))
        }
        iceRole = saved.iceRole
        if local.ice != saved.localIce {
            local.ice = saved.localIce
            effects.append(.useLocalIce(saved.localIce))
        }
        if let ice = saved.remoteIce, ice != remoteIce {
            let transport = currentRemote?.transport
            effects.append(
                .setRemoteIce(
                    ice, candidates: transport?.candidates ?? [], endOfCandidates: transport?.endOfCandidates ?? false, lite: saved.remoteIceLite))
        }
        restoreTransceivers(saved.transceivers)
        remoteIce = saved.remoteIce
        remoteIceLite = saved.remoteIceLite
        dataMid = saved.dataMid
        dataMLineIndex = saved.dataMLineIndex
        return effects
    }
}
