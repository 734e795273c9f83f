import NiceICE
import NiceWebRTCCore

extension PeerConnection {
    /// W3C `onsignalingstatechange`: called on the handler queue with every new ``signalingState``.
    public var signalingStateHandler: (@Sendable (SignalingState) -> Void)? {
        get { core.hub.handler(\.signaling) }
        set { core.hub.setHandlers { $0.signaling = newValue } }
    }

    /// W3C `oniceconnectionstatechange`: every new ``iceConnectionState``.
    public var iceConnectionStateHandler: (@Sendable (IceConnectionState) -> Void)? {
        get { core.hub.handler(\.iceConnection) }
        set { core.hub.setHandlers { $0.iceConnection = newValue } }
    }

    /// W3C `onconnectionstatechange`: every new ``connectionState``.
    public var connectionStateHandler: (@Sendable (PeerConnectionState) -> Void)? {
        get { core.hub.handler(\.connection) }
        set { core.hub.setHandlers { $0.connection = newValue } }
    }

    /// W3C `onicegatheringstatechange`: every new ``iceGatheringState``.
    public var iceGatheringStateHandler: (@Sendable (IceGatheringState) -> Void)? {
        get { core.hub.handler(\.gathering) }
        set { core.hub.setHandlers { $0.gathering = newValue } }
    }

    /// W3C `onicecandidate`: each local candidate, to send to the peer's ``addIceCandidate(_:)``;
    /// at the end of a gathering round the end-of-candidates candidate (`candidate` `""`), then
    /// `nil` (W3C's `null` candidate). Only after a local description was applied.
    public var iceCandidateHandler: (@Sendable (IceCandidateInit?) -> Void)? {
        get { core.hub.handler(\.candidate) }
        set { core.hub.setHandlers { $0.candidate = newValue } }
    }

    /// W3C `onnegotiationneeded`: an offer should be made (the first data channel, ``restartIce()``).
    /// Fires in `stable` only, as W3C's "update the negotiation-needed flag" says: once per need
    /// while nothing was negotiated; a need that arises outside `stable` fires when the state
    /// returns to `stable`, and fires again then if the negotiation that completed did not
    /// satisfy it (``restartIce()`` called in `have-local-offer`, say).
    public var negotiationNeededHandler: (@Sendable () -> Void)? {
        get { core.hub.handler(\.negotiationNeeded) }
        set { core.hub.setHandlers { $0.negotiationNeeded = newValue } }
    }

    /// W3C `RTCIceTransport.onselectedcandidatepairchange`: each pair ICE selects for the data
    /// (component 1), on the handler queue, before the ``iceConnectionState`` change it causes.
    /// An ICE restart selects again (also a pair with the same addresses).
    public var selectedCandidatePairHandler: (@Sendable (CandidatePair) -> Void)? {
        get { core.hub.handler(\.selectedPair) }
        set { core.hub.setHandlers { $0.selectedPair = newValue } }
    }

    /// W3C `RTCDtlsTransport.onstatechange`: every new ``dtlsState``, with its reason (why the
    /// transport failed, for example). Once `connected`, ``DtlsTransport/cipherSuite`` and
    /// ``DtlsTransport/srtpProfile`` of ``dtlsTransport`` say what the handshake settled on.
    public var dtlsStateHandler: (@Sendable (DtlsTransportStateChange) -> Void)? {
        get { core.hub.handler(\.dtls) }
        set { core.hub.setHandlers { $0.dtls = newValue } }
    }

    /// A new stream of the selected candidate pair: the current one first (if ICE selected one),
    /// then every selection, as ``selectedCandidatePairHandler`` gets them. Finishes on ``close()``.
    public func selectedCandidatePairChanges() -> AsyncStream<CandidatePair> { core.hub.makePairStream() }

    /// A new stream of ``dtlsState``: the current state first, then every change; finishes after
    /// `closed` on ``close()``.
    public func dtlsStateChanges() -> AsyncStream<DtlsTransportStateChange> { core.hub.makeDtlsStream() }

    /// A new stream of ``signalingState``: the current state first, then every change; finishes
    /// after `closed` on ``close()``.
    public func signalingStateChanges() -> AsyncStream<SignalingState> { core.hub.makeSignalingStream() }

    /// A new stream of ``iceConnectionState``: the current state first, then every change;
    /// finishes after `closed` on ``close()``.
    public func iceConnectionStateChanges() -> AsyncStream<IceConnectionState> { core.hub.makeIceConnectionStream() }

    /// A new stream of ``connectionState``: the current state first, then every change; finishes
    /// after `closed` on ``close()``.
    public func connectionStateChanges() -> AsyncStream<PeerConnectionState> { core.hub.makeConnectionStream() }

    /// A new stream of ``iceGatheringState``: the current state first, then every change.
    public func iceGatheringStateChanges() -> AsyncStream<IceGatheringState> { core.hub.makeGatheringStream() }

    /// A new stream of local candidates as ``iceCandidateHandler`` gets them: first those of the
    /// current gathering round signalled so far (and its `nil`, if it ended), then every new one.
    /// Finishes on ``close()``.
    public func iceCandidates() -> AsyncStream<IceCandidateInit?> { core.hub.makeCandidateStream() }

    /// A new stream of `negotiationneeded` events: yields at once if one fired and its
    /// negotiation has not completed yet. Finishes on ``close()``.
    public func negotiationNeededEvents() -> AsyncStream<Void> { core.hub.makeNegotiationStream() }

    /// Waits until ``connectionState`` is `connected`.
    ///
    /// - Throws: ``PeerConnectionError`` `OperationError` when the connection fails, or after
    ///   `timeout`, `InvalidStateError` when it closes, cancellation included.
    public func waitUntilConnected(timeout: Duration = .seconds(30)) async throws(PeerConnectionError) {
        let outcome = await StateWait.wait(on: connectionStateChanges(), timeout: timeout) {
            (state: PeerConnectionState) -> Result<Void, PeerConnectionError>? in
            switch state {
            case .connected: return .success(())
            case .failed: return .failure(PeerConnectionError(.operationError, reason: "the connection failed"))
            case .closed: return .failure(PeerConnectionError(.invalidState, reason: "the PeerConnection is closed"))
            case .new, .connecting, .disconnected: return nil
            }
        }
        switch outcome {
        case .succeeded: return
        case .failed(let error): throw error
        case .finished: throw PeerConnectionError(.invalidState, reason: "the PeerConnection is closed")
        case .timedOut: throw PeerConnectionError(.operationError, reason: "not connected after \(timeout) (\(connectionState.rawValue))")
        case .cancelled: throw PeerConnectionError(.operationError, reason: "the waiting task was cancelled")
        }
    }
}
