/// W3C `RTCStatsIceCandidatePairState`.
public enum IceCandidatePairState: String, Sendable, Hashable {
    case frozen, waiting, inProgress = "in-progress", failed, succeeded
}

/// One candidate pair in ``IceStats``.
public struct IceCandidatePairStats: Sendable, Hashable {
    /// The component the pair belongs to.
    public var component: Int
    /// Our candidate.
    public var local: IceCandidate
    /// The peer's candidate.
    public var remote: IceCandidate
    /// The pair's check state.
    public var state: IceCandidatePairState
    /// Whether the pair was nominated (it is then the selected pair).
    public var nominated: Bool
}

/// A snapshot of a connection's ICE statistics, from ``IceTransport/stats()``.
///
/// libnice 0.1.21 does not publish its check list or round-trip times: ``candidatePairs`` holds
/// the selected (nominated, succeeded) pair of each component, and ``roundTripTime`` is `nil`.
/// Counters count what went through NiceICE's `send` and receive path.
public struct IceStats: Sendable, Hashable {
    /// When the snapshot was taken.
    public var timestamp: ContinuousClock.Instant
    /// The connection state at that moment.
    public var iceConnectionState: IceConnectionState
    /// The gathering state at that moment.
    public var iceGatheringState: IceGatheringState
    /// The selected pair of each component that has one.
    public var selectedPairs: [CandidatePair]
    /// Every candidate pair NiceICE knows the state of (see the type's note).
    public var candidatePairs: [IceCandidatePairStats]
    /// Our candidates, as gathered (host addresses, not the advertised 1:1 NAT ones).
    public var localCandidates: [IceCandidate]
    /// The peer's candidates, including peer-reflexive ones learned from its checks.
    public var remoteCandidates: [IceCandidate]
    /// libnice's own component states (`"ready"`, `"failed"`, …), by component.
    public var componentStates: [Int: String]
    /// STUN/TURN errors seen while gathering.
    public var candidateErrors: [IceCandidateError]
    /// Datagrams and bytes sent with ``IceTransport/send(_:component:)-([UInt8],_)``.
    public var datagramsSent: UInt64
    public var bytesSent: UInt64
    /// Datagrams and bytes delivered to the receive handler and streams
    /// (``DataCounters/datagramsReceived``: not those a layer above ICE takes).
    public var datagramsReceived: UInt64
    public var bytesReceived: UInt64
    /// Every datagram and byte libnice handed to the connection, before routing
    /// (``DataCounters/datagramsArrived``): what arrived over ICE, whoever took it.
    public var datagramsArrived: UInt64
    public var bytesArrived: UInt64
    /// Round-trip time of the selected pair, when known (libnice 0.1.21 does not expose it).
    public var roundTripTime: Duration?
}
