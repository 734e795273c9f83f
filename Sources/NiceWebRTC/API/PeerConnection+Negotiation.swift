import NiceICE
import NiceWebRTCCore

extension PeerConnection {
    /// W3C `createOffer()`: an offer with the data section, our credentials, fingerprint and the
    /// candidates signalled so far. It takes effect only when given to ``setLocalDescription(_:)``.
    ///
    /// - Parameter iceRestart: Restart ICE (also implied by a pending ``restartIce()``): the offer
    ///   carries new credentials, which the agent takes when the offer is applied.
    /// - Throws: ``PeerConnectionError`` `InvalidStateError` when closed or while a remote offer
    ///   waits for its answer.
    public func createOffer(iceRestart: Bool = false) async throws(PeerConnectionError) -> SessionDescription {
        try core.createOffer(iceRestart: iceRestart)
    }

    /// W3C `createAnswer()`: the answer to the remote offer in effect (our DTLS role `active`
    /// against `actpass`; new credentials when the offer restarts ICE).
    ///
    /// - Throws: ``PeerConnectionError`` `InvalidStateError` unless in `have-remote-offer` or
    ///   `have-local-pranswer`, or when closed.
    public func createAnswer() async throws(PeerConnectionError) -> SessionDescription {
        try core.createAnswer()
    }

    /// W3C `setLocalDescription(description)`: applies an offer or answer we created (an empty
    /// `sdp` creates one, as W3C says), or rolls back our offer (`.rollback`). The first offer
    /// decides the ICE role; an answer decides the DTLS role and starts DTLS and SCTP once ICE is
    /// up. Local candidates are signalled from now on.
    ///
    /// - Returns: The local description now in effect (nil after a rollback to nothing).
    /// - Throws: ``PeerConnectionError``: `InvalidStateError` for a type the signalling state does
    ///   not allow or when closed, `InvalidModificationError` for an SDP we did not create,
    ///   `OperationError` when a transport refuses it.
    @discardableResult
    public func setLocalDescription(_ description: SessionDescription) async throws(PeerConnectionError) -> SessionDescription? {
        try core.setLocal(description)
    }

    /// W3C's implicit `setLocalDescription()`: creates and applies an offer in `stable` or
    /// `have-local-offer`, an answer in `have-remote-offer` or `have-local-pranswer`
    /// (perfect negotiation's form).
    ///
    /// - Returns: The description applied, to send to the peer.
    @discardableResult
    public func setLocalDescription() async throws(PeerConnectionError) -> SessionDescription {
        guard let description = try core.setLocal(nil) else {
            throw PeerConnectionError(.operationError, reason: "no local description after applying one")
        }
        return description
    }

    /// W3C `setRemoteDescription(_:)`: applies the peer's offer, answer or pranswer, or rolls back
    /// its offer. A remote offer in `have-local-offer` rolls our offer back first (W3C's implicit
    /// rollback, which perfect negotiation's polite peer uses). The remote candidates it carries
    /// and those added before are given to ICE; a remote ICE restart restarts our agent.
    ///
    /// - Throws: ``PeerConnectionError``: `InvalidStateError` for a type the signalling state
    ///   does not allow or when closed, `OperationError` for an SDP that cannot be read or used
    ///   (``PeerConnectionError/sdpError`` says where), `InvalidAccessError` for an answer that
    ///   does not fit our offer.
    public func setRemoteDescription(_ description: SessionDescription) async throws(PeerConnectionError) {
        try core.setRemote(description)
    }

    /// W3C `restartIce()`: the next offer restarts ICE (new credentials on both sides), and
    /// `negotiationneeded` fires (in `stable`). Data keeps flowing on the old pair until a new one
    /// is selected.
    public func restartIce() {
        core.restartIce()
    }
}
