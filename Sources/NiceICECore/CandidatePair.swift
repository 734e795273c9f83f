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
