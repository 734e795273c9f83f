extension PeerConnection {
    /// A new stream of ``iceConnectionState`` changes, from this call on (read
    /// ``iceConnectionState`` for the current value). Each call returns its own stream; it
    /// finishes on ``close()``. Never drops a change.
    public func stateChanges() -> AsyncStream<IceStateChange> {
        hub.makeStateStream()
    }

    /// A new stream of local candidates from this call on, `nil` marking end-of-candidates (also
    /// after ``restartIce()``). Finishes on ``close()``.
    public func localCandidates() -> AsyncStream<IceCandidate?> {
        hub.makeCandidateStream()
    }

    /// A new stream of received datagrams from this call on. It buffers up to
    /// ``Configuration/receiveStreamBufferLimit`` datagrams and drops newer ones while full (UDP
    /// semantics: a slow reader loses datagrams, memory stays bounded). Finishes on ``close()``.
    public func receivedDatagrams() -> AsyncStream<Datagram> {
        hub.makeDatagramStream()
    }
}
