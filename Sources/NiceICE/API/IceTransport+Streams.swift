extension IceTransport {
    /// A new stream of ``iceConnectionState`` changes that yields the **current** state first (with
    /// the reason of the change that led to it), then every change. Each call returns its own
    /// stream; it finishes on ``close()`` (a stream made after close yields `closed`, then
    /// finishes). Never drops a change, so a streams-only client misses nothing.
    public func stateChanges() -> AsyncStream<IceStateChange> {
        hub.makeStateStream()
    }

    /// A new stream of local candidates that first replays the candidates of the current gathering
    /// round (and its end-of-candidates `nil`, once gathering is complete), then every new one.
    /// After ``restartIce()`` the re-delivered candidates and a new `nil` follow. Finishes on
    /// ``close()``. Never drops a candidate: made at any time, it sees every one of the round.
    public func localCandidates() -> AsyncStream<IceCandidate?> {
        hub.makeCandidateStream()
    }

    /// A new stream of ``iceGatheringState`` that yields the current state first, then every
    /// change. Finishes on ``close()``.
    public func gatheringStateChanges() -> AsyncStream<IceGatheringState> {
        hub.makeGatheringStream()
    }

    /// A new stream of selected pairs: first the current selected pair of each component that has
    /// one, then every new selection (W3C `onselectedcandidatepairchange`). Finishes on ``close()``.
    public func selectedPairChanges() -> AsyncStream<CandidatePair> {
        hub.makePairStream()
    }

    /// A new stream of STUN/TURN candidate errors (W3C `onicecandidateerror`): first those seen so
    /// far, then every new one. Finishes on ``close()``.
    public func candidateErrors() -> AsyncStream<IceCandidateError> {
        hub.makeErrorStream()
    }

    /// A new stream of received datagrams from this call on. It buffers up to
    /// ``Configuration/receiveStreamBufferLimit`` datagrams and ``Configuration/receiveBufferByteLimit``
    /// bytes, and drops newer ones while full (UDP semantics: a slow reader loses datagrams, memory
    /// stays bounded; ``DataCounters/receiveDropped`` counts them). Needs no ``start(queue:)``.
    /// Finishes on ``close()``; a stream no longer referenced frees its buffer.
    public func receivedDatagrams() -> AsyncStream<Datagram> {
        hub.makeDatagramStream()
    }
}
