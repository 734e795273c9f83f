/// The shape every layer's error shares: *what kind* of failure (``code``), *which* input field
/// (``field``, when the error is about input), and *why* (``reason``, for a human, never secrets).
///
/// ``IceError``, NiceWebRTC's `DtlsError`, `DataChannelError`, `SdpError` and
/// `PeerConnectionError` conform, so code that reports or logs errors of any layer (a signalling
/// server answering a bad offer, a metrics label) can treat them alike. Each keeps its own `Code`
/// (ICE's is an extensible struct, the others enums) and may add context of its own (ICE's `state`,
/// SDP's `line`, the peer connection's `sdpError`). The states every layer shares have the same
/// spelling in each: `closed`, `timedOut`, `cancelled`, `invalidState`.
public protocol LayerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    associatedtype Code: Hashable & Sendable
    /// What kind of failure this is.
    var code: Code { get }
    /// The input field that was wrong, when the error is about input.
    var field: String? { get }
    /// A human-readable explanation.
    var reason: String { get }
    /// The code's stable spelling, for logs and metrics (`closed`, `invalidCandidate`, …).
    var codeName: String { get }
}

extension LayerError where Code: RawRepresentable, Code.RawValue == String {
    /// The code's raw value.
    public var codeName: String { code.rawValue }
}

extension IceError: LayerError {
    /// The code's raw value.
    public var codeName: String { code.rawValue }
}
