import Foundation
import NiceWebRTCCore

/// A DTLS identity: a private key and its self-signed certificate (W3C `RTCCertificate`).
///
/// ```swift
/// let certificate = try Certificate.generate()          // ECDSA P-256, valid 30 days
/// certificate.fingerprint.description                   // "sha-256 3F:A2:…" for a=fingerprint
/// try store.save(certificate.pemWithPrivateKey())       // keep one identity across restarts
/// let same = try Certificate(pem: store.load())
/// ```
///
/// The private key never appears in ``description``, in logs or in errors; only
/// ``pemWithPrivateKey()`` hands it out. A certificate is immutable and may be shared by any number
/// of transports on any threads.
public final class Certificate: Sendable, CustomStringConvertible {
    let identity: CertificateIdentity

    /// The sha-256 fingerprint (RFC 8122 form), what `a=fingerprint` signals.
    public let fingerprint: DtlsFingerprint

    /// W3C `getFingerprints()`: sha-256, sha-384 and sha-512.
    public let fingerprints: [DtlsFingerprint]

    /// When the certificate stops being valid (W3C `expires`).
    public var expires: Date { identity.notAfter }

    /// Thirty days, W3C's and the browsers' default lifetime.
    public static let defaultLifetime: Duration = .seconds(30 * 86_400)

    /// Internal (not private) so tests can wrap identities the public API does not make (RSA keys).
    init(identity: CertificateIdentity) throws(DtlsError) {
        var all: [DtlsFingerprint] = []
        for algorithm in DtlsFingerprint.Algorithm.allCases {
            guard let f = identity.fingerprint(algorithm) else {
                throw DtlsError(.cryptoFailure, field: "fingerprint", reason: "could not digest the certificate")
            }
            all.append(f)
        }
        self.identity = identity
        self.fingerprints = all
        self.fingerprint = all[0]
    }

    /// W3C `generateCertificate`: a new ECDSA P-256 key and a self-signed certificate valid for
    /// `lifetime` (from a day ago, for clock skew).
    ///
    /// - Throws: ``DtlsError`` `invalidCertificate` for a lifetime under one second or over ten
    ///   years; `cryptoFailure` if OpenSSL fails.
    public static func generate(lifetime: Duration = defaultLifetime) throws(DtlsError) -> Certificate {
        guard lifetime >= .seconds(1), lifetime <= .seconds(3650 * 86_400) else {
            throw DtlsError(.invalidCertificate, field: "lifetime", reason: "must be between 1 second and 10 years")
        }
        return try Certificate(identity: .generate(lifetime: lifetime))
    }

    /// Loads a certificate and its unencrypted private key from PEM text (as written by
    /// ``pemWithPrivateKey()``; the blocks in any order). EC (P-256, P-384) and RSA keys of at
    /// least 2,048 bits are accepted.
    ///
    /// - Throws: ``DtlsError`` `invalidCertificate`, field `pem`: no certificate or key block, a key
    ///   that does not belong to the certificate, an expired certificate, another key type, a key
    ///   under 112-bit security (RSA under 2,048 bits).
    public convenience init(pem: String) throws(DtlsError) {
        try self.init(identity: .load(pem: pem))
    }

    /// The private key (PKCS#8) followed by the certificate, as PEM: what ``init(pem:)`` reads.
    /// Treat it as a secret.
    public func pemWithPrivateKey() -> String { identity.pem(includingPrivateKey: true) }

    /// The certificate alone, as PEM (public).
    public var pemCertificate: String { identity.pem(includingPrivateKey: false) }

    /// The fingerprint and expiry; never the key.
    public var description: String { "Certificate(\(fingerprint), expires \(expires))" }
}
