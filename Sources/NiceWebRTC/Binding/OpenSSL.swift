internal import COpenSSL
import NiceWebRTCCore

/// An OpenSSL object pointer (`SSL_CTX`, `X509`, `EVP_PKEY`) that is only read after creation.
///
/// `@unchecked Sendable` is safe because the objects it wraps are immutable once built (NiceWebRTC
/// never changes a context, certificate or key after set-up) and OpenSSL 3 documents concurrent
/// read-only use of them (and `SSL_new` on a shared `SSL_CTX`) from several threads as safe; their
/// reference counts are atomic. The owner frees them once, in its `deinit`.
struct SharedOpenSSLObject: @unchecked Sendable {
    let raw: OpaquePointer
}

/// The one funnel through which NiceWebRTC calls OpenSSL. Its extensions in `Binding/` (the
/// context policy, certificates, the DTLS session and its BIO) are the only code that imports
/// `COpenSSL`.
enum OpenSSL {
    /// The `SSL` ex-data slot that points back at the session (for the verify and info callbacks).
    static let sessionSlot: Int32 = cnssl_new_ex_index()

    /// Empties this thread's OpenSSL error queue. Called before every operation whose result is
    /// read with `SSL_get_error`, which would otherwise see another session's stale error.
    static func clearErrors() { ERR_clear_error() }

    /// The reason of the newest queued error (then empties the queue), for messages; never contains
    /// key material (OpenSSL's reasons are fixed strings).
    static func lastErrorReason(or fallback: String) -> String {
        let code = ERR_peek_last_error()
        defer { ERR_clear_error() }
        guard code != 0, let reason = ERR_reason_error_string(code) else { return fallback }
        return String(cString: reason)
    }

    /// The cipher suites offered and accepted: ECDHE key exchange with AEAD ciphers only
    /// (RFC 8827 §6.5 makes TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 mandatory; RSA certificates of
    /// peers are accepted with the same ciphers).
    static let cipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// Key-exchange groups, in preference order.
    static let groups = "X25519:P-256:P-384"
    /// OpenSSL's security level: 2 means at least 112 bits of security, so RSA and DH keys of at
    /// least 2,048 bits and EC keys of at least 224 bits, for our certificate (refused at set-up)
    /// and the peer's (refused in `DtlsSession.verify`, which checks the leaf's key itself because
    /// the fingerprint callback overrides OpenSSL's chain errors). OpenSSL 3.0's default is 1,
    /// which accepts RSA-1024.
    static let securityLevel: Int32 = 2
    /// The bits of security each OpenSSL security level requires of a key (`SSL_CTX_set_security_level`).
    static func minimumKeyBits(securityLevel: Int32) -> Int32 {
        switch securityLevel {
        case ...0: 0
        case 1: 80
        case 2: 112
        case 3: 128
        case 4: 192
        default: 256
        }
    }
    /// The signature algorithms offered and accepted (handshake signatures: ServerKeyExchange,
    /// CertificateVerify, and the list in our CertificateRequest): what Chrome (BoringSSL) and
    /// Firefox (NSS) offer in DTLS 1.2 minus SHA-1 — ECDSA with SHA-256/384/512, RSA-PSS (RSAE) and
    /// RSA PKCS#1 v1.5 with SHA-256/384/512. No Ed25519 (no browser uses it for DTLS) and no
    /// RSA-PSS-PSS keys. The peer's self-signed certificate's own signature is not judged: the
    /// fingerprint authenticates it (RFC 8122), as in browsers.
    static let signatureAlgorithms =
        "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512:"
        + "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:"
        + "rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512"
    /// DTLS-SRTP profiles offered (RFC 5764) on every context, media or not, as browsers do: the
    /// media layer keys SRTP from the session, and peers that insist on the extension (aiortc)
    /// accept the handshake; a data-only peer ignores it. AEAD_AES_128_GCM first, then
    /// AES128_CM_SHA1_80, each only when libsrtp supports it here (``Srtp/offeredProfiles``).
    static var srtpProfiles: String { Srtp.offeredProfiles }

    /// The context's tunable parts. The library only ever uses `.webRTC`; tests build deliberately
    /// weaker peers (an RSA-1024 certificate, SHA-1-only signatures) with other values.
    struct ContextPolicy: Sendable {
        var securityLevel: Int32 = OpenSSL.securityLevel
        var signatureAlgorithms: String = OpenSSL.signatureAlgorithms
        static let webRTC = ContextPolicy()
    }

    /// A DTLS 1.2 context for one certificate, with the WebRTC policy (see the shims' comments in
    /// `COpenSSL/shim.h`). Every session of the certificate shares it.
    static func makeContext(
        certificate: OpaquePointer, key: OpaquePointer, policy: ContextPolicy = .webRTC
    ) throws(DtlsError) -> SharedOpenSSLObject {
        clearErrors()
        guard let method = DTLS_method(), let ctx = SSL_CTX_new(method) else {
            throw DtlsError(.cryptoFailure, field: "context", reason: lastErrorReason(or: "SSL_CTX_new failed"))
        }
        func fail(_ step: String) -> DtlsError {
            SSL_CTX_free(ctx)
            return DtlsError(.cryptoFailure, field: "context", reason: "\(step): \(lastErrorReason(or: "refused"))")
        }
        guard cnssl_ctx_set_dtls12_only(ctx) == 1 else { throw fail("DTLS 1.2 only") }
        // Before the certificate: SSL_CTX_use_certificate checks its key against the level.
        SSL_CTX_set_security_level(ctx, policy.securityLevel)
        cnssl_ctx_set_webrtc_options(ctx)
        cnssl_ctx_disable_session_cache(ctx)
        cnssl_ctx_set_read_ahead(ctx)
        cnssl_ctx_set_modes(ctx)
        SSL_CTX_set_quiet_shutdown(ctx, 0)  // close() sends close_notify
        guard SSL_CTX_set_cipher_list(ctx, cipherList) == 1 else { throw fail("cipher list") }
        guard cnssl_ctx_set_groups(ctx, groups) == 1 else { throw fail("groups") }
        guard cnssl_ctx_set_sigalgs(ctx, policy.signatureAlgorithms) == 1 else { throw fail("signature algorithms") }
        guard SSL_CTX_set_tlsext_use_srtp(ctx, srtpProfiles) == 0 else { throw fail("DTLS-SRTP profiles") }  // 0 = success
        guard SSL_CTX_use_certificate(ctx, certificate) == 1 else { throw fail("certificate") }
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1 else { throw fail("private key") }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw fail("key does not match the certificate") }
        // Self-signed certificates are normal in WebRTC: the callback ignores the chain and checks
        // the leaf against the signalled fingerprints (DtlsSession.verify).
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, DtlsSession.verifyCallback)
        return SharedOpenSSLObject(raw: ctx)
    }

    static func freeContext(_ ctx: SharedOpenSSLObject) { SSL_CTX_free(ctx.raw) }
}
