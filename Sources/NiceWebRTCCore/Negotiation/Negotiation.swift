import NiceICECore

/// JSEP (RFC 8829) for a session that carries only data channels, as a value: the signalling
/// state, the four descriptions, rollback, the ICE and DTLS roles, the data section's mid,
/// ICE restart generations and the routing of trickled candidates. No I/O, no clock: the
/// runtime (`PeerConnection`) calls it and carries out the ``NegotiationEffect``s it returns.
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
    /// description with new credentials replaces ``LocalTransportValues/ice`` when applied.
    public var local: LocalTransportValues
    /// The W3C signalling state.
    public private(set) var signalingState: SignalingState = .stable
    /// The local description of the last completed offer/answer exchange (W3C
    /// `currentLocalDescription`).
    public private(set) var currentLocalDescription: SessionDescription?
    /// The local offer or pranswer of the exchange in progress (W3C `pendingLocalDescription`).
    public private(set) var pendingLocalDescription: SessionDescription?
    /// The remote description of the last completed exchange (W3C `currentRemoteDescription`).
    public private(set) var currentRemoteDescription: SessionDescription?
    /// The remote offer or pranswer of the exchange in progress (W3C `pendingRemoteDescription`).
    public private(set) var pendingRemoteDescription: SessionDescription?
    /// Our ICE role, decided by the first offer applied (local or remote); nil before.
    public private(set) var iceRole: IceRole?
    /// Our DTLS role, decided when the first answer is applied (local or remote); nil before.
    public private(set) var dtlsRole: DtlsRole?
    /// The data section's mid once a description set it.
    public private(set) var dataMid: String?
    /// The data section's m-line index once a description set it.
    public private(set) var dataMLineIndex: Int?
    /// The remote ICE credentials in effect (the current remote generation).
    public private(set) var remoteIce: IceParameters?

    /// The `o=` session id of what we write.
    let sessionId: UInt64

    /// Creates a negotiation in state `stable` with no description.
    ///
    /// - Parameters:
    ///   - local: What goes into our descriptions.
    ///   - sessionId: The `o=` session id; random below 2⁶³ by default (RFC 8829 §5.2.1).
    public init(local: LocalTransportValues, sessionId: UInt64 = .random(in: 1...UInt64(Int64.max))) {
        self.local = local
        self.sessionId = sessionId
    }

    /// W3C `localDescription`: the pending local description, else the current one.
    public var localDescription: SessionDescription? { pendingLocalDescription ?? currentLocalDescription }
    /// W3C `remoteDescription`: the pending remote description, else the current one.
    public var remoteDescription: SessionDescription? { pendingRemoteDescription ?? currentRemoteDescription }

    /// W3C `createOffer`.
    ///
    /// - Parameters:
    ///   - iceRestart: Restart ICE (also implied by a pending ``restartIce()``): the offer carries
    ///     `newIce`, which take effect when the offer is applied (``NegotiationEffect/useLocalIce(_:)``).
    ///   - newIce: Fresh credentials for a restart (the runtime passes random ones).
    ///   - candidates: Our candidates gathered so far.
    ///   - endOfCandidates: Whether `candidates` is complete.
    /// - Throws: ``PeerConnectionError/Code/invalidState`` when closed or in a state where
    ///   W3C does not allow an offer (have-remote-offer, have-local-pranswer).
    public func createOffer(
        iceRestart: Bool = false, newIce: IceParameters? = nil, candidates: [IceCandidate] = [], endOfCandidates: Bool = false
    ) throws(PeerConnectionError) -> SessionDescription {
        throw PeerConnectionError(.operationError, reason: "not implemented yet")
    }

    /// W3C `createAnswer`.
    ///
    /// - Parameters:
    ///   - newIce: Fresh credentials, needed when the remote offer restarts ICE
    ///     (``needsNewLocalIceForAnswer``).
    ///   - candidates: Our candidates gathered so far.
    ///   - endOfCandidates: Whether `candidates` is complete.
    /// - Throws: ``PeerConnectionError/Code/invalidState`` unless in have-remote-offer or
    ///   have-local-pranswer.
    public func createAnswer(
        newIce: IceParameters? = nil, candidates: [IceCandidate] = [], endOfCandidates: Bool = false
    ) throws(PeerConnectionError) -> SessionDescription {
        throw PeerConnectionError(.operationError, reason: "not implemented yet")
    }

    /// Whether the remote offer in effect restarts ICE, so ``createAnswer(newIce:candidates:endOfCandidates:)``
    /// needs fresh local credentials.
    public var needsNewLocalIceForAnswer: Bool { false }

    /// W3C `restartIce()`: the next offer restarts ICE.
    ///
    /// - Returns: Whether negotiation is needed now (W3C's `negotiationneeded`): false when
    ///   closed.
    public mutating func restartIce() -> Bool { false }

    /// Whether a ``restartIce()`` waits for the next offer.
    public var restartPending: Bool { false }

    /// W3C `setLocalDescription` (rollback included).
    ///
    /// - Returns: What the runtime must do now, in order.
    /// - Throws: ``PeerConnectionError``: see its codes.
    public mutating func setLocalDescription(_ description: SessionDescription) throws(PeerConnectionError) -> [NegotiationEffect] {
        throw PeerConnectionError(.operationError, reason: "not implemented yet")
    }

    /// W3C `setRemoteDescription` (rollback included).
    ///
    /// - Returns: What the runtime must do now, in order.
    /// - Throws: ``PeerConnectionError``: see its codes.
    public mutating func setRemoteDescription(_ description: SessionDescription) throws(PeerConnectionError) -> [NegotiationEffect] {
        throw PeerConnectionError(.operationError, reason: "not implemented yet")
    }

    /// W3C `addIceCandidate`'s checks and where the candidate goes.
    ///
    /// - Throws: ``PeerConnectionError/Code/invalidState`` without a remote description (the
    ///   runtime queues those instead) or when closed; ``PeerConnectionError/Code/typeError``
    ///   with neither `sdpMid` nor `sdpMLineIndex`; ``PeerConnectionError/Code/operationError``
    ///   for an unknown mid, an index out of range, an unknown ufrag or a line that does not parse.
    public func route(_ candidate: IceCandidateInit) throws(PeerConnectionError) -> CandidateRoute {
        throw PeerConnectionError(.operationError, reason: "not implemented yet")
    }

    /// A local candidate as the runtime signals it (W3C `icecandidate` event), with the
    /// `sdpMid`, `sdpMLineIndex` and `usernameFragment` of the local description in effect;
    /// nil (end of gathering) gives the end-of-candidates init (candidate ""). Nil without a
    /// local description.
    public func trickled(_ candidate: IceCandidate?) -> IceCandidateInit? { nil }

    /// W3C `close()`: state closed; every later call throws invalidState.
    public mutating func close() { signalingState = .closed }
}
