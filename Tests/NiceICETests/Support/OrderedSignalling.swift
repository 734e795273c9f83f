@testable import NiceICE

/// One direction of an ordered signalling channel, as between a browser and a server: the offer
/// or answer (parameters) goes before the candidates that belong to it. Candidates produced before
/// the peer has our current parameters (for example right after `restartIce()`) are held back.
final class OrderedSignalling: Sendable {
    private let outbox = Locked<(delivered: String?, held: [IceCandidate?])>((nil, []))

    /// Sends `candidate` (nil = end-of-candidates) from `local` to `remote` now, or holds it.
    func post(_ candidate: IceCandidate?, from local: PeerConnection, to remote: PeerConnection) {
        let ufrag = local.localParameters.usernameFragment
        let send = outbox.withLock { box -> Bool in
            if box.delivered == ufrag { return true }
            box.held.append(candidate)
            return false
        }
        if send { try? remote.addIceCandidate(candidate) }
    }

    /// Gives `remote` the current parameters of `local` (optionally altered), then what was held.
    func deliverParameters(
        from local: PeerConnection, to remote: PeerConnection,
        _ transform: @Sendable (IceParameters) -> IceParameters = { $0 }
    ) throws {
        let parameters = local.localParameters
        try remote.setRemoteParameters(transform(parameters))
        let held = outbox.withLock { box in
            box.delivered = parameters.usernameFragment
            defer { box.held = [] }
            return box.held
        }
        for c in held { try? remote.addIceCandidate(c) }
    }
}
