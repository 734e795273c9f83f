/// The candidate pair libnice selected (nominated) for one component.
public struct CandidatePair: Sendable, Hashable, CustomStringConvertible {
    /// The component (1 = RTP or data, 2 = RTCP without rtcp-mux).
    public var component: Int
    /// Our side.
    public var local: IceCandidate
    /// The peer's side (may be peer-reflexive, learned from its checks).
    public var remote: IceCandidate

    /// Creates a pair.
    public init(component: Int, local: IceCandidate, remote: IceCandidate) {
        self.component = component
        self.local = local
        self.remote = remote
    }

    public var description: String {
        "\(local.type.rawValue) \(local.address):\(local.port) <-> \(remote.type.rawValue) \(remote.address):\(remote.port) (\(local.transport.rawValue))"
    }
}

/// One datagram received over ICE.
public struct Datagram: Sendable, Hashable {
    /// The payload.
    public var bytes: [UInt8]
    /// The component it arrived on.
    public var component: Int

    /// Creates a datagram.
    public init(bytes: [UInt8], component: Int = 1) {
        self.bytes = bytes
        self.component = component
    }
}
