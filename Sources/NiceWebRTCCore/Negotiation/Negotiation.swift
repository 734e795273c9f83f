import NiceICECore

/// JSEP (RFC 8829) for a session with a data section, audio and video sections, or both
/// (Unified Plan, one BUNDLE group, one transport), as a value: the signalling state, the four
/// descriptions, rollback, the ICE and DTLS roles, the data section's mid, ICE restart
/// generations, the routing of trickled candidates, local transceivers and what each audio or
/// video section negotiated (``negotiatedMedia``). No I/O, no clock: the runtime
/// (`PeerConnection`) calls it and carries out the ``NegotiationEffect``s it returns.
///
/// The transport: every accepted section shares one ICE and DTLS transport (max-bundle), that
/// of the transport section, the first accepted section of the BUNDLE group (the data
/// section's group, or in a media-only session the group of the first audio or video section
/// with a port). Sections outside that group are rejected; rejected m-lines stay in every later
/// offer and are never reused (RFC 8829 §5.2.2), and a section a later offer adds is appended.
///
/// Media-only sessions (WHIP, WHEP: a browser's or OBS's offer with audio and video sections
/// only): a remote offer without a data section is answered with the sections a transceiver or
/// ``remoteMediaPolicy`` takes, and no ``NegotiationEffect/startSctp(remotePort:remoteMaxMessageSize:)``
/// comes; with ``offersDataSection`` false our offers have only our transceivers' sections.
/// Setting it true later (W3C: the first `createDataChannel`) makes the next offer append a
/// bundled data section, and the answer that accepts it brings `startSctp`.
///
/// Media: ``addTransceiver(_:)`` adds a local audio or video transceiver (the next offer gets a
/// section for it; a remote offer's section of its kind takes it); ``remoteMediaPolicy`` says
/// what an answer does with a remote section no transceiver takes (reject by default, as a
/// data-only session); ``capabilities`` are the codecs and header extensions we support. After
/// each completed exchange ``negotiatedMedia`` has, per section, the codecs with their payload
/// types, the extension ids, our direction and the peer's SSRCs and msid.
///
/// ```swift
/// var negotiation = Negotiation(local: LocalTransportValues(ice: credentials, fingerprints: [fingerprint]))
/// let effects = try negotiation.setRemoteDescription(SessionDescription(type: .offer, sdp: browserOffer))
/// let answer = try negotiation.createAnswer()
/// effects += try negotiation.setLocalDescription(answer)   // … .startDtls(role: .client, …)
/// switch try negotiation.route(IceCandidateInit(candidate: line, sdpMid: "0")) { … }
/// ```
public struct Negotiation: Sendable {
    /// Our ICE credentials, fingerprints and SCTP values. The runtime may change them; a local
    /// description with new credentials replaces ``LocalTransportValues/ice`` when applied, and a
    /// rollback of it restores the previous ones.
    public var local: LocalTransportValues
    /// The W3C signalling state.
    public internal(set) var signalingState: SignalingState = .stable
    /// Our ICE role, decided by the first offer applied (local or remote), decided again by an
    /// ICE restart (the side that offers it controls, RFC 8839: a restart decides the roles again, as the first exchange did) and by ICE-lite
    /// peers (the full agent controls, RFC 8445 §6.1.1); nil before any offer.
    public internal(set) var iceRole: IceRole?
    /// Our DTLS role, decided when the first answer is applied (local or remote); nil before.
    public internal(set) var dtlsRole: DtlsRole?
    /// The data section's mid once a description set it; nil in a media-only session.
    public internal(set) var dataMid: String?
    /// The data section's m-line index once a description set it; nil in a media-only session.
    public internal(set) var dataMLineIndex: Int?
    /// Whether our offers have a data section (W3C: whether a data channel was created).
    /// - nil (the default): a first offer has one (without transceivers, the data-only offer;
    ///   with transceivers, the data section last); a later offer in a session negotiated
    ///   without one (a media-only answer we gave, to WHIP or WHEP) adds none.
    /// - false: our first offer has only the sections of our transceivers (a WHEP viewer, a WHIP
    ///   publisher, a media offerer; `createOffer` throws when there is none).
    /// - true: as nil for a first offer; in a session negotiated without a data section, the
    ///   next offer appends one, bundled (RFC 8829 §5.2.2), and the answer that accepts it
    ///   brings ``NegotiationEffect/startSctp(remotePort:remoteMaxMessageSize:)``.
    ///
    /// Once a data section was negotiated it stays in every later offer, whatever this says
    /// (JSEP never removes a section).
    public var offersDataSection: Bool?
    /// The remote ICE credentials in effect (the current remote generation).
    public internal(set) var remoteIce: IceParameters?
    /// Whether the remote description in effect says `a=ice-lite`.
    public internal(set) var remoteIceLite = false
    /// The codecs and header extensions we support (``MediaCapabilities/default``): offers list
    /// them, answers keep what of an offer matches them.
    public var capabilities: MediaCapabilities = .default
    /// What an answer does with a remote audio or video section no local transceiver takes:
    /// ``RemoteMediaPolicy/reject`` by default (a data-only session).
    public var remoteMediaPolicy: RemoteMediaPolicy = .reject
    /// The local audio and video transceivers, in the order they were added or created.
    public internal(set) var transceivers: [MediaTransceiver] = []
    /// Per audio or video section of the last completed exchange, what it decided (codecs,
    /// extension ids, our direction, the peer's SSRCs and msid), in m-line order; rejected
    /// sections included (``NegotiatedMedia/isRejected``). Empty before the first answer.
    public internal(set) var negotiatedMedia: [NegotiatedMedia] = []
    /// The id the next transceiver gets.
    var nextTransceiverId = 0
    /// Whether ``NegotiationEffect/startSctp(remotePort:remoteMaxMessageSize:)`` was returned
    /// (the first completed exchange with a data section).
    var sctpStarted = false

    /// The `o=` session id of what we write.
    let sessionId: UInt64
    /// The `o=` session version of the next description we write (RFC 3264 §8: it grows with
    /// each new local description).
    var sessionVersion: UInt64 = 2
    var pendingLocal: AppliedDescription?
    var currentLocal: AppliedDescription?
    var pendingRemote: AppliedDescription?
    var currentRemote: AppliedDescription?
    /// The values of the last stable state, while an offer is pending (for rollback).
    var stableSnapshot: NegotiationSnapshot?
    /// W3C `[[LocalIceCredentialsToReplace]]`: the ufrags a ``restartIce()`` wants replaced.
    var credentialsToReplace: Set<String> = []
    /// Every ufrag an applied remote description gave a section, by section (mid, or `#index`).
    var remoteUfrags: [String: Set<String>] = [:]

    /// Creates a negotiation in state `stable` with no description.
    ///
    /// - Parameters:
    ///   - local: What goes into our descriptions.
    ///   - sessionId: The `o=` session id; random below 2⁶³ by default (RFC 8829 §5.2.1).
    public init(local: LocalTransportValues, sessionId: UInt64 = .random(in: 1...UInt64(Int64.max))) {
        self.local = local
        self.sessionId = sessionId
    }

    /// The local description of the last completed offer/answer exchange (W3C
    /// `currentLocalDescription`).
    public var currentLocalDescription: SessionDescription? { currentLocal?.description }
    /// The local offer or pranswer of the exchange in progress (W3C `pendingLocalDescription`).
    public var pendingLocalDescription: SessionDescription? { pendingLocal?.description }
    /// The remote description of the last completed exchange (W3C `currentRemoteDescription`).
    public var currentRemoteDescription: SessionDescription? { currentRemote?.description }
    /// The remote offer or pranswer of the exchange in progress (W3C `pendingRemoteDescription`).
    public var pendingRemoteDescription: SessionDescription? { pendingRemote?.description }
    /// W3C `localDescription`: the pending local description, else the current one.
    public var localDescription: SessionDescription? { pendingLocalDescription ?? currentLocalDescription }
    /// W3C `remoteDescription`: the pending remote description, else the current one.
    public var remoteDescription: SessionDescription? { pendingRemoteDescription ?? currentRemoteDescription }

    /// W3C `createOffer`: our offer for the state we are in. A first offer without transceivers
    /// has one section, the data section (mid "0", `a=setup:actpass`, in `a=group:BUNDLE 0`);
    /// with transceivers, a section per transceiver (mids "0", "1", …, our codecs and header
    /// extensions, its direction, `a=msid` and `a=ssrc` when it sends) and the data section last
    /// (none when ``offersDataSection`` is false: a media-only offer), all in one BUNDLE group,
    /// candidates in the first section; every section has our `a=ice-ufrag`, `a=ice-pwd`,
    /// `a=ice-options`, `a=fingerprint` and `a=setup`. A later offer keeps every section of the
    /// session in order (accepted audio and video again with their negotiated payload types and
    /// ids, the others rejected, port 0), appends a section per new transceiver and, in a
    /// session without one, a data section when ``offersDataSection`` is true; it keeps the data
    /// mid, our credentials and the negotiated DTLS role (`a=setup:active` / `passive`).
    ///
    /// - Parameters:
    ///   - iceRestart: Restart ICE (also implied by a pending ``restartIce()``): the offer carries
    ///     new credentials, which take effect when the offer is applied
    ///     (``NegotiationEffect/useLocalIce(_:)``). No effect before the first local description
    ///     (there are no credentials to replace yet).
    ///   - newIce: The new credentials for a restart; fresh random ones when nil.
    ///   - candidates: Our candidates gathered so far.
    ///   - endOfCandidates: Whether `candidates` is complete.
    /// - Throws: ``PeerConnectionError/Code/invalidState`` when closed or in a state other than
    ///   stable and have-local-offer (W3C); ``PeerConnectionError/Code/operationError`` when
    ///   our values cannot be written (then ``PeerConnectionError/sdpError`` says which), and
    ///   with field `m=` when the offer would have no section to carry the transport (no data
    ///   section and no transceiver that is not stopped).
    public func createOffer(
        iceRestart: Bool = false, newIce: IceParameters? = nil, candidates: [IceCandidate] = [], endOfCandidates: Bool = false
    ) throws(PeerConnectionError) -> SessionDescription {
        guard signalingState != .closed else { throw Self.closedError("createOffer") }
        guard signalingState == .stable || signalingState == .haveLocalOffer else {
            throw PeerConnectionError(.invalidState, reason: "createOffer in signaling state \(signalingState.rawValue): only in stable or have-local-offer")
        }
        var ice = local.ice
        if iceRestart || restartPending, localDescription != nil {
            ice = newIce ?? .random()
        }
        let layout = currentLocal
        let dataOnly = layout.map { $0.data != nil } ?? (offersDataSection ?? true)
        if needsMediaOffer || !dataOnly {
            return try createMediaOffer(ice: ice, candidates: candidates, endOfCandidates: endOfCandidates)
        }
        do {
            let offer = try DataChannelOffer(
                ice: ice, candidates: candidates, endOfCandidates: endOfCandidates,
                dtls: DtlsParameters(role: dtlsRole ?? .auto, fingerprints: local.fingerprints),
                sctpPort: local.sctpPort, maxMessageSize: local.maxMessageSize, mid: dataMid ?? "0",
                sessionId: sessionId, sessionVersion: sessionVersion, iceLite: local.iceLite,
                otherSections: layout?.otherSections ?? [], dataMLineIndex: dataMLineIndex ?? 0)
            return SessionDescription(type: .offer, sdp: offer.sdp)
        } catch {
            throw PeerConnectionError(.operationError, field: error.field, reason: "cannot write the offer: \(error.located)", sdpError: error)
        }
    }

    /// W3C `createAnswer`: our answer to the remote offer in effect, accepting its data section
    /// (if it has one) and the audio and video sections a transceiver took when the offer was
    /// applied (codecs both support with the offerer's payload types, ``MediaNegotiator``; the
    /// JSEP direction against the transceiver's), all in one BUNDLE group in the offer's order,
    /// and rejecting every other one with port 0 and its mid (without media:
    /// ``DataChannelAnswer``), with `a=setup:active` to a first offer's `actpass` (as browsers
    /// answer) and the negotiated role after that. Every accepted section has our ICE
    /// credentials, `a=fingerprint` and `a=setup`; our candidates go into the transport section
    /// (the first of the answer's BUNDLE group).
    ///
    /// - Parameters:
    ///   - newIce: The new credentials when the remote offer restarts ICE
    ///     (``needsNewLocalIceForAnswer``; fresh random ones when nil); ignored otherwise.
    ///   - candidates: Our candidates gathered so far.
    ///   - endOfCandidates: Whether `candidates` is complete.
    /// - Throws: ``PeerConnectionError/Code/invalidState`` unless in have-remote-offer or
    ///   have-local-pranswer; ``PeerConnectionError/Code/operationError`` when the answer cannot
    ///   be written (our values, or an offer whose data section cannot be answered).
    public func createAnswer(
        newIce: IceParameters? = nil, candidates: [IceCandidate] = [], endOfCandidates: Bool = false
    ) throws(PeerConnectionError) -> SessionDescription {
        guard signalingState != .closed else { throw Self.closedError("createAnswer") }
        guard signalingState == .haveRemoteOffer || signalingState == .haveLocalPranswer, let offer = pendingRemote else {
            throw PeerConnectionError(
                .invalidState, reason: "createAnswer in signaling state \(signalingState.rawValue): only in have-remote-offer or have-local-pranswer")
        }
        let ice = needsNewLocalIceForAnswer ? newIce ?? .random() : local.ice
        if !offer.answerPlan.isEmpty {
            return try createMediaAnswer(to: offer, ice: ice, candidates: candidates, endOfCandidates: endOfCandidates)
        }
        do {
            let answer = try DataChannelAnswer(
                offer: offer.description.sdp, ice: ice, candidates: candidates, endOfCandidates: endOfCandidates,
                dtls: DtlsParameters(role: dtlsRole ?? .auto, fingerprints: local.fingerprints),
                sctpPort: local.sctpPort, maxMessageSize: local.maxMessageSize, sessionId: sessionId,
                sessionVersion: sessionVersion, iceLite: local.iceLite)
            return SessionDescription(type: .answer, sdp: answer.sdp)
        } catch {
            throw PeerConnectionError(.operationError, field: error.field, reason: "cannot write the answer: \(error.located)", sdpError: error)
        }
    }

    /// Whether the remote offer in effect restarts ICE (its credentials differ from those of
    /// the last completed exchange) and we have not answered it yet, so
    /// ``createAnswer(newIce:candidates:endOfCandidates:)`` writes new local credentials.
    public var needsNewLocalIceForAnswer: Bool {
        guard signalingState == .haveRemoteOffer, let offer = pendingRemote, let previous = currentRemote, let ours = currentLocal else {
            return false
        }
        return offer.credentials != previous.credentials && local.ice == ours.credentials
    }

    /// W3C `restartIce()`: the next offer restarts ICE, with new credentials. Before the first
    /// local description it does nothing (W3C: there are no credentials to replace). A remote
    /// offer that restarts ICE satisfies it; a rollback does not cancel it.
    ///
    /// - Returns: Whether negotiation is needed now (W3C's `negotiationneeded`): true in state
    ///   stable with a restart pending. Outside stable, W3C waits: check ``restartPending``
    ///   each time a description brings the state back to stable.
    public mutating func restartIce() -> Bool {
        guard signalingState != .closed else { return false }
        for applied in [currentLocal, pendingLocal] {
            if let ufrag = applied?.credentials.usernameFragment { credentialsToReplace.insert(ufrag) }
        }
        return signalingState == .stable && restartPending
    }

    /// Whether a ``restartIce()`` waits for the next offer: the credentials in use are to be
    /// replaced.
    public var restartPending: Bool { credentialsToReplace.contains(local.ice.usernameFragment) }

    /// W3C `setLocalDescription` (rollback included): an offer or answer we created (an empty
    /// `sdp` creates it, as W3C's implicit form), or a rollback.
    ///
    /// Effects: the first offer gives ``NegotiationEffect/startIce(role:)``; new credentials
    /// (a restart) ``NegotiationEffect/useLocalIce(_:)``; the first answer
    /// ``NegotiationEffect/startDtls(role:remote:)`` (we answer `active`: DTLS client); the
    /// first answer with a data section
    /// ``NegotiationEffect/startSctp(remotePort:remoteMaxMessageSize:)``; a rollback restores
    /// what the offer changed (see ``NegotiationEffect``).
    ///
    /// - Throws: ``PeerConnectionError``: `invalidState` when closed or the type does not fit
    ///   the state (rollback outside have-local-offer and have-remote-offer; an offer outside
    ///   stable and have-local-offer; an answer or pranswer outside have-remote-offer and
    ///   have-local-pranswer); `invalidModification` for a description that is not one we
    ///   created (other fingerprints, credentials, DTLS role, mid or sections); what
    ///   creating it throws for the implicit form.
    public mutating func setLocalDescription(_ description: SessionDescription) throws(PeerConnectionError) -> [NegotiationEffect] {
        guard signalingState != .closed else { throw Self.closedError("setLocalDescription") }
        switch description.type {
        case .rollback:
            return try rollback("setLocalDescription(rollback)")
        case .offer:
            guard signalingState == .stable || signalingState == .haveLocalOffer else {
                throw wrongState("setLocalDescription(offer)", allowed: "stable or have-local-offer")
            }
            let sdp = description.sdp.isEmpty ? try createOffer().sdp : description.sdp
            let applied = try Self.readLocal(SessionDescription(type: .offer, sdp: sdp))
            try checkLocalOffer(applied)
            return applyLocalOffer(applied)
        case .answer, .pranswer:
            guard signalingState == .haveRemoteOffer || signalingState == .haveLocalPranswer, let offer = pendingRemote else {
                throw wrongState("setLocalDescription(\(description.type.rawValue))", allowed: "have-remote-offer or have-local-pranswer")
            }
            let sdp = description.sdp.isEmpty ? try createAnswer().sdp : description.sdp
            let applied = try Self.readLocal(SessionDescription(type: description.type, sdp: sdp))
            try checkLocalAnswer(applied, to: offer)
            return applyLocalAnswer(applied, to: offer)
        }
    }

    /// W3C `setRemoteDescription` (rollback included). An offer in have-local-offer first rolls
    /// our offer back (W3C's implicit rollback, perfect negotiation's polite peer); when that
    /// offer then fails to apply, the rollback stays (W3C) and its effects are not returned:
    /// ``local`` already holds the restored credentials.
    ///
    /// Effects: a first offer gives ``NegotiationEffect/startIce(role:)`` (controlled, or
    /// controlling against an ICE-lite offerer); new remote credentials (the first, or a remote
    /// restart) ``NegotiationEffect/setRemoteIce(_:candidates:endOfCandidates:lite:)`` with the
    /// description's candidates; the first answer ``NegotiationEffect/startDtls(role:remote:)``
    /// and, the first time an exchange has a data section,
    /// ``NegotiationEffect/startSctp(remotePort:remoteMaxMessageSize:)`` (never in a media-only
    /// session).
    ///
    /// - Throws: ``PeerConnectionError``: `invalidState` when closed or the type does not fit the
    ///   state (rollback outside have-local-offer and have-remote-offer; an offer in a pranswer
    ///   state; an answer or pranswer outside have-local-offer and have-remote-pranswer);
    ///   `operationError` for an SDP that cannot be read or used (``PeerConnectionError/sdpError``
    ///   has the field and line): a data section that is rejected or bundle-only, neither a data
    ///   section nor an audio or video section (field `m=application`), a transport section
    ///   without ICE or DTLS values, and an offer without a data section of which the answer
    ///   could accept no section (field `m=`: no transceiver takes one and
    ///   ``remoteMediaPolicy`` rejects, or none is in the transport's BUNDLE group with a codec
    ///   and `a=rtcp-mux`); `invalidAccess` for one that does not fit the session (an answer
    ///   with `a=setup:actpass` or the same role as our offer, other sections or another data
    ///   mid than our offer, a re-offer that moves the data section or adds it anywhere but
    ///   after the session's sections, a DTLS role or certificate other than the negotiated
    ///   one).
    public mutating func setRemoteDescription(_ description: SessionDescription) throws(PeerConnectionError) -> [NegotiationEffect] {
        guard signalingState != .closed else { throw Self.closedError("setRemoteDescription") }
        switch description.type {
        case .rollback:
            return try rollback("setRemoteDescription(rollback)")
        case .offer:
            guard signalingState == .stable || signalingState == .haveRemoteOffer || signalingState == .haveLocalOffer else {
                throw wrongState("setRemoteDescription(offer)", allowed: "stable, have-local-offer or have-remote-offer")
            }
            var effects: [NegotiationEffect] = []
            if signalingState == .haveLocalOffer {
                effects = try rollback("setRemoteDescription(offer)")
            }
            let applied = try Self.readRemote(description)
            try checkRemoteOffer(applied)
            var next = self
            let applying = next.applyRemoteOffer(applied)
            if let offer = next.pendingRemote, offer.data == nil, offer.answerPlan.isEmpty {
                throw PeerConnectionError(
                    sdp: SdpError(
                        .unsupported, field: "m=",
                        reason: "the offer has no data section and the answer could accept none of its audio and video sections "
                            + "(none is taken by a transceiver or remoteMediaPolicy, in the transport's BUNDLE group, with a codec we support and a=rtcp-mux)"),
                    "the remote offer cannot be answered")
            }
            self = next
            return effects + applying
        case .answer, .pranswer:
            guard signalingState == .haveLocalOffer || signalingState == .haveRemotePranswer, let offer = pendingLocal else {
                throw wrongState("setRemoteDescription(\(description.type.rawValue))", allowed: "have-local-offer or have-remote-pranswer")
            }
            let applied = try Self.readRemote(description)
            try checkRemoteAnswer(applied, to: offer)
            return applyRemoteAnswer(applied)
        }
    }

    /// A local candidate as the runtime signals it (W3C `icecandidate` event), with the
    /// transport section's `sdpMid` and `sdpMLineIndex` (the BUNDLE group's first accepted
    /// section: the data section in a data-only session, the first audio or video section in
    /// a media-only one) and the ufrag of the credentials in use; nil
    /// (gathering complete) gives the end-of-candidates init (candidate ""). Nil before the
    /// first local description (W3C gathers only after it) and when closed.
    public func trickled(_ candidate: IceCandidate?) -> IceCandidateInit? {
        guard signalingState != .closed, let applied = pendingLocal ?? currentLocal else { return nil }
        return IceCandidateInit(
            candidate: candidate?.candidateLine ?? "", sdpMid: applied.transportMid, sdpMLineIndex: applied.transportIndex,
            usernameFragment: local.ice.usernameFragment)
    }

    /// W3C `close()`: state closed; every later call throws invalidState (``restartIce()``
    /// returns false, ``trickled(_:)`` nil). The descriptions stay readable.
    public mutating func close() {
        signalingState = .closed
        stableSnapshot = nil
    }
}
