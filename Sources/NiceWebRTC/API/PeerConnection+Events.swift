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
    /// Fires in `stable` only, once per need.
    public var negotiationNeededHandler: (@Sendable () -> Void)? {
        get { core.hub.handler(\.negotiationNeeded) }
        set { core.hub.setHandlers { $0.negotiationNeeded = newValue } }
    }

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
