/// Which end of the DTLS handshake a side takes (W3C/ORTC `RTCDtlsRole`), and its SDP form
/// (`a=setup`, RFC 8842 §5).
public enum DtlsRole: String, Sendable, Hashable, CaseIterable {
    /// Not decided yet: the offerer's `a=setup:actpass`.
    case auto
    /// Sends the ClientHello: `a=setup:active`.
    case client
    /// Waits for it: `a=setup:passive`.
    case server

    /// Parses an `a=setup` value (`actpass`, `active`, `passive`; any case). `holdconn` is refused:
    /// WebRTC never puts a transport on hold.
    public init(setup value: some StringProtocol) throws(DtlsError) {
        switch value.lowercased() {
        case "actpass": self = .auto
        case "active": self = .client
        case "passive": self = .server
        case "holdconn":
            throw DtlsError(.invalidParameters, field: "setup", reason: "'holdconn' is not used by WebRTC (RFC 8842 §5.1)")
        default:
            throw DtlsError(.invalidParameters, field: "setup", reason: "'\(value.prefix(16))' is not actpass, active or passive")
        }
    }

    /// The `a=setup` value.
    public var setupValue: String {
        switch self {
        case .auto: "actpass"
        case .client: "active"
        case .server: "passive"
        }
    }

    /// The role this side takes when the peer signalled `remote` (RFC 8842 §5.3): the opposite of
    /// a decided role; against `actpass`, an answerer is `active` (client), as browsers are.
    public static func answering(_ remote: DtlsRole) -> DtlsRole {
        switch remote {
        case .auto: .client
        case .client: .server
        case .server: .client
        }
    }
}

/// What one side signals about its DTLS end (W3C/ORTC `RTCDtlsParameters`): its role and the
/// fingerprints of its certificate.
public struct DtlsParameters: Sendable, Hashable {
    public var role: DtlsRole
    /// At least one; the peer's certificate must match one of them.
    public var fingerprints: [DtlsFingerprint]

    public init(role: DtlsRole, fingerprints: [DtlsFingerprint]) {
        self.role = role
        self.fingerprints = fingerprints
    }
}
