internal import COpenSSL
import Foundation
import NiceWebRTCCore

/// A certificate, its private key and the DTLS context built for them, owned together.
///
/// `@unchecked Sendable` is safe because all three OpenSSL objects are built in `init` and never
/// modified afterwards (only read: digested, exported, used by `SSL_new`), which OpenSSL 3 allows
/// from any number of threads at once; they are freed once, in `deinit`.
final class CertificateIdentity: @unchecked Sendable {
    let x509: OpaquePointer
    let key: OpaquePointer
    let context: SharedOpenSSLObject
    let notAfter: Date

    private init(
        x509: OpaquePointer, key: OpaquePointer, notAfter: Date, policy: OpenSSL.ContextPolicy = .webRTC
    ) throws(DtlsError) {
        self.x509 = x509
        self.key = key
        self.notAfter = notAfter
        do {
            context = try OpenSSL.makeContext(certificate: x509, key: key, policy: policy)
        } catch {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw error
        }
    }

    deinit {
        OpenSSL.freeContext(context)
        X509_free(x509)
        EVP_PKEY_free(key)
    }

    /// W3C `generateCertificate({name: "ECDSA", namedCurve: "P-256"})`: a new P-256 key and a
    /// self-signed X.509 v3 certificate for it, signed with ECDSA-SHA256, valid from a day ago (clock
    /// skew) for `lifetime`, with a random 64-bit serial number and subject CN "NiceWebRTC".
    static func generate(lifetime: Duration) throws(DtlsError) -> CertificateIdentity {
        try generate(lifetime: lifetime, key: .p256)
    }

    /// The key types `generate` can make: P-256 (the library's), RSA (tests only: peers such as
    /// some non-browser stacks, and too-weak ones).
    enum KeyType: Sendable {
        case p256
        case rsa(bits: UInt32)
    }

    /// As `generate(lifetime:)` with another key type and context policy. Tests use it to build
    /// RSA peers, including ones the WebRTC policy refuses (an RSA-1024 peer needs a weaker
    /// `policy` for its own context, since level 2 refuses to load its certificate).
    static func generate(
        lifetime: Duration, key type: KeyType, policy: OpenSSL.ContextPolicy = .webRTC
    ) throws(DtlsError) -> CertificateIdentity {
        OpenSSL.clearErrors()
        let generated: OpaquePointer? =
            switch type {
            case .p256: cnssl_generate_p256()
            case .rsa(let bits): cnssl_generate_rsa(bits)
            }
        guard let key = generated else {
            throw DtlsError(.cryptoFailure, field: "key", reason: OpenSSL.lastErrorReason(or: "key generation failed"))
        }
        guard let x509 = X509_new() else {
            EVP_PKEY_free(key)
            throw DtlsError(.cryptoFailure, field: "certificate", reason: "X509_new failed")
        }
        let seconds = max(1, lifetime.components.seconds)
        var serial: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &serial) { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        let ok =
            cnssl_x509_set_v3(x509) == 1
            && ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial >> 1) == 1
            && X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil
            && X509_gmtime_adj(X509_getm_notAfter(x509), Int(seconds)) != nil
            && X509_set_pubkey(x509, key) == 1
            && setName(x509)
            && X509_sign(x509, key, EVP_sha256()) > 0
        guard ok else {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw DtlsError(.cryptoFailure, field: "certificate", reason: OpenSSL.lastErrorReason(or: "could not build the certificate"))
        }
        let notAfter = Date(timeIntervalSinceNow: TimeInterval(seconds))
        return try CertificateIdentity(x509: x509, key: key, notAfter: notAfter, policy: policy)
    }

    private static func setName(_ x509: OpaquePointer) -> Bool {
        guard let name = X509_get_subject_name(x509) else { return false }
        let added = "NiceWebRTC".withCString { value in
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, value, -1, -1, 0) == 1
        }
        return added && X509_set_issuer_name(x509, name) == 1
    }

    /// Reads a certificate and its private key from PEM text (both blocks, any order). The key must
    /// be EC (P-256, P-384) or RSA and match the certificate.
    static func load(pem: String) throws(DtlsError) -> CertificateIdentity {
        guard pem.utf8.count <= 64 * 1024 else {
            throw DtlsError(.invalidCertificate, field: "pem", reason: "longer than 65,536 bytes")
        }
        OpenSSL.clearErrors()
        // One read-only BIO per object (PEM_read_bio_* skip blocks of other types); BIO_new_mem_buf
        // does not copy, so both reads happen while the C string lives.
        let (x509, key): (OpaquePointer?, OpaquePointer?) = pem.withCString { text in
            let length = Int32(strlen(text))
            guard let certBio = BIO_new_mem_buf(text, length) else { return (nil, nil) }
            defer { BIO_free(certBio) }
            let cert = PEM_read_bio_X509(certBio, nil, nil, nil)
            guard let keyBio = BIO_new_mem_buf(text, length) else { return (cert, nil) }
            defer { BIO_free(keyBio) }
            let key = PEM_read_bio_PrivateKey(keyBio, nil, nil, nil)
            return (cert, key)
        }
        guard let x509 else {
            if let key { EVP_PKEY_free(key) }
            throw DtlsError(.invalidCertificate, field: "pem", reason: "no readable CERTIFICATE block")
        }
        guard let key else {
            X509_free(x509)
            throw DtlsError(.invalidCertificate, field: "pem", reason: "no readable (unencrypted) PRIVATE KEY block")
        }
        OpenSSL.clearErrors()
        let type = EVP_PKEY_get_base_id(key)
        guard type == EVP_PKEY_EC || type == EVP_PKEY_RSA else {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw DtlsError(.invalidCertificate, field: "pem", reason: "the key is neither EC nor RSA")
        }
        let bits = EVP_PKEY_get_security_bits(key)
        let needed = OpenSSL.minimumKeyBits(securityLevel: OpenSSL.securityLevel)
        guard bits >= needed else {
            let size = EVP_PKEY_get_bits(key)
            X509_free(x509)
            EVP_PKEY_free(key)
            throw DtlsError(
                .invalidCertificate, field: "pem",
                reason: "the key is too weak: \(size) bits give \(bits)-bit security, at least \(needed) needed")
        }
        guard X509_check_private_key(x509, key) == 1 else {
            X509_free(x509)
            EVP_PKEY_free(key)
            OpenSSL.clearErrors()
            throw DtlsError(.invalidCertificate, field: "pem", reason: "the private key does not belong to the certificate")
        }
        var day: Int32 = 0
        var second: Int32 = 0
        let notAfterTime = X509_get0_notAfter(x509)
        guard ASN1_TIME_diff(&day, &second, nil, notAfterTime) == 1 else {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw DtlsError(.invalidCertificate, field: "pem", reason: "unreadable notAfter time")
        }
        let notAfter = Date(timeIntervalSinceNow: TimeInterval(day) * 86_400 + TimeInterval(second))
        guard notAfter > Date() else {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw DtlsError(.invalidCertificate, field: "pem", reason: "the certificate expired")
        }
        return try CertificateIdentity(x509: x509, key: key, notAfter: notAfter)
    }

    /// The certificate (and, when asked, the PKCS#8 private key first) as PEM text.
    func pem(includingPrivateKey: Bool) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        if includingPrivateKey {
            guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else { return "" }
        }
        guard PEM_write_bio_X509(bio, x509) == 1 else { return "" }
        var data: UnsafeMutablePointer<CChar>?
        let length = cnssl_bio_get_mem_data(bio, &data)
        guard length > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// The fingerprint of this certificate.
    func fingerprint(_ algorithm: DtlsFingerprint.Algorithm) -> DtlsFingerprint? {
        OpenSSL.fingerprint(of: x509, algorithm)
    }
}

extension OpenSSL {
    /// The digest of a certificate's DER encoding (RFC 8122 §5).
    static func fingerprint(of x509: OpaquePointer, _ algorithm: DtlsFingerprint.Algorithm) -> DtlsFingerprint? {
        let md: OpaquePointer? =
            switch algorithm {
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(x509, md, &digest, &length) == 1 else { return nil }
        return try? DtlsFingerprint(algorithm: algorithm, digest: Array(digest.prefix(Int(length))))
    }
}
