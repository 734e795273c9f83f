import NiceICECore

/// What the runtime puts into the descriptions ``Negotiation`` writes: our ICE credentials,
/// certificate fingerprints and SCTP values.
///
/// ```swift
/// var negotiation = Negotiation(local: LocalTransportValues(ice: agent.localParameters,
///                                                           fingerprints: [certificate.fingerprint]))
/// ```
public struct LocalTransportValues: Sendable, Hashable {
    /// Our ICE credentials in effect now. ``Negotiation`` replaces them when a description with
    /// new ones (a restart) is applied locally.
    public var ice: IceParameters
    /// The fingerprints of our DTLS certificate(s), at least one.
    public var fingerprints: [DtlsFingerprint]
    /// Our `a=sctp-port`.
    public var sctpPort: UInt16
    /// The largest message we receive (`a=max-message-size`; 0 = no limit).
    public var maxMessageSize: Int
    /// Whether we are an ICE-lite agent (`a=ice-lite` in what we write; we never control then).
    public var iceLite: Bool

    /// Creates the values.
    public init(
        ice: IceParameters, fingerprints: [DtlsFingerprint], sctpPort: UInt16 = 5000, maxMessageSize: Int = 262_144,
        iceLite: Bool = false
    ) {
        self.ice = ice
        self.fingerprints = fingerprints
        self.sctpPort = sctpPort
        self.maxMessageSize = maxMessageSize
        self.iceLite = iceLite
    }
}
