/// A typed error of the DTLS layer: what was wrong, and with which field or step.
///
/// Never carries key material: ``reason`` names the field and the problem, not secret values.
public struct DtlsError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A fingerprint or `a=setup` value that does not parse (``DtlsFingerprint``,
        /// ``DtlsRole``), or parameters or a configuration value the transport cannot use. Met
        /// while reading a session description, such a value is reported as an ``SdpError``
        /// (``SdpError/Code/invalidValue``) instead.
        case invalidParameters
        /// A certificate or key that cannot be used (PEM that does not parse, key and certificate
        /// that do not belong together, an expired certificate, a key type DTLS cannot use).
        case invalidCertificate
        /// A call that does not fit the transport's state (`start` twice, remote parameters without
        /// a fingerprint, a transport on a closed connection).
        case invalidState
        /// `send` before the handshake completed.
        case notConnected
        /// `send` after the transport closed or failed.
        case closed
        /// A datagram larger than ``maximumDatagramSize``-style limits allow.
        case datagramTooLarge
        /// The ICE layer refused the encrypted datagram (see the underlying ICE error in `reason`).
        case sendFailed
        /// OpenSSL refused an operation (allocation, a policy it cannot apply, keying export).
        case cryptoFailure
        /// A wait (``waitUntilConnected``-style) reached its timeout; as NiceICE's `timedOut`.
        case timedOut
        /// The waiting task was cancelled; as NiceICE's `cancelled`.
        case cancelled
    }

    public var code: Code
    /// The field, parameter or step concerned (`fingerprint`, `setup`, `pem`, `label`, …).
    public var field: String?
    /// What was wrong, for a human.
    public var reason: String

    public init(_ code: Code, field: String? = nil, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public var description: String {
        if let field { return "DtlsError.\(code.rawValue) (\(field)): \(reason)" }
        return "DtlsError.\(code.rawValue): \(reason)"
    }
}
