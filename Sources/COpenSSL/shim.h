// COpenSSL: the C surface NiceWebRTC uses from OpenSSL 3 (Debian 12: libssl-dev 3.0).
//
// Swift imports OpenSSL's functions directly. Many of OpenSSL's documented calls, though, are
// function-like macros over `SSL_ctrl`/`BIO_ctrl` with magic numbers, or variadic functions; Swift
// imports neither. Each shim below wraps exactly one of them, says which, and adds no logic and no
// state. Everything else (SSL_new, SSL_read, X509_digest, ...) is called directly from
// Sources/NiceWebRTC/Binding.
#ifndef CNICE_OPENSSL_SHIM_H
#define CNICE_OPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

// MARK: - Context policy (SSL_CTX_ctrl macros)

/// Why: `SSL_CTX_set_min_proto_version` is a macro over `SSL_CTX_ctrl`. Pins DTLS 1.2.
static inline int cnssl_ctx_set_dtls12_only(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
           SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
}

/// Why: `SSL_CTX_set1_groups_list` is a macro over `SSL_CTX_ctrl`. ECDHE groups we offer.
static inline int cnssl_ctx_set_groups(SSL_CTX *ctx, const char *groups) {
    return (int)SSL_CTX_set1_groups_list(ctx, groups);
}

/// Why: `SSL_CTX_set1_sigalgs_list` is a macro over `SSL_CTX_ctrl` (SSL_CTRL_SET_SIGALGS_LIST). The
/// signature algorithms we offer (signature_algorithms), accept in the peer's ServerKeyExchange and
/// CertificateVerify, and list in our CertificateRequest (with no client list set, OpenSSL 3.0 uses
/// this one there too: `tls12_get_psigalgs`).
static inline int cnssl_ctx_set_sigalgs(SSL_CTX *ctx, const char *sigalgs) {
    return (int)SSL_CTX_set1_sigalgs_list(ctx, sigalgs);
}

/// Why: `SSL_OP_*` are 64-bit macro constants built from `SSL_OP_BIT(n)` (a function-like macro,
/// which Swift does not import). The options every session gets: no compression (RFC 8261 §5), no
/// renegotiation (RFC 8827 §6.5), no path-MTU query (RFC 8261: the MTU is ours to set; the BIO is
/// not a socket), no session tickets (no resumption: each connection has its own handshake),
/// cipher order chosen by the server.
static inline void cnssl_ctx_set_webrtc_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                                 SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

/// Why: `SSL_CTX_set_session_cache_mode` is a macro over `SSL_CTX_ctrl`. Turns the server-side
/// session cache off: one context serves every connection of a certificate, and a cache would keep
/// a session per handshake (up to 20,480 by default) for resumptions WebRTC never makes.
static inline void cnssl_ctx_disable_session_cache(SSL_CTX *ctx) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

/// Why: `SSL_CTX_set_read_ahead` is a macro over `SSL_CTX_ctrl`. DTLS reads whole datagrams.
static inline void cnssl_ctx_set_read_ahead(SSL_CTX *ctx) { SSL_CTX_set_read_ahead(ctx, 1); }

/// Why: `SSL_CTX_set_mode` is a macro. A retried `SSL_write` may pass a buffer at another address
/// (Swift arrays move between calls); without this mode OpenSSL refuses such a retry.
static inline void cnssl_ctx_set_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

// MARK: - Session (SSL_ctrl macros)

/// Why: `SSL_set_mtu` and `DTLS_set_link_mtu` are macros over `SSL_ctrl`. With
/// SSL_OP_NO_QUERY_MTU the session fragments handshake messages to this size.
static inline int cnssl_set_mtu(SSL *ssl, long mtu) { return (int)SSL_set_mtu(ssl, mtu); }

/// Why: `DTLSv1_get_timeout` is a macro over `SSL_ctrl` (DTLS_CTRL_GET_TIMEOUT) returning a
/// `struct timeval`. Writes the time to the next retransmission in microseconds; returns 0 when no
/// timer runs.
static inline int cnssl_get_timeout_us(SSL *ssl, long long *microseconds) {
    struct timeval tv = {0, 0};
    if (!DTLSv1_get_timeout(ssl, &tv)) return 0;
    *microseconds = (long long)tv.tv_sec * 1000000LL + (long long)tv.tv_usec;
    return 1;
}

/// Why: `DTLSv1_handle_timeout` is a macro over `SSL_ctrl` (DTLS_CTRL_HANDLE_TIMEOUT). Retransmits
/// the last flight when its timer expired: > 0 retransmitted, 0 not due, < 0 failed.
static inline int cnssl_handle_timeout(SSL *ssl) { return (int)DTLSv1_handle_timeout(ssl); }

/// Why: `SSL_get_peer_signature_nid` is a macro over `SSL_ctrl` (SSL_CTRL_GET_PEER_SIGNATURE_NID).
/// The digest of the signature the peer made in the handshake (ServerKeyExchange or
/// CertificateVerify); with `SSL_get_peer_signature_type_nid` it names the negotiated algorithm.
static inline int cnssl_get_peer_signature_digest_nid(SSL *ssl, int *nid) {
    return (int)SSL_get_peer_signature_nid(ssl, nid);
}

/// Why: `SSL_get_ex_new_index` is a macro over `CRYPTO_get_ex_new_index`. One process-wide slot in
/// which each SSL keeps a pointer to its Swift session (read back by the verify callback).
static inline int cnssl_new_ex_index(void) {
    return SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

// MARK: - Memory BIOs (BIO_ctrl macros)

/// Why: `BIO_get_mem_data` is a macro over `BIO_ctrl`. Reads out a PEM export.
static inline long cnssl_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

// MARK: - Keys and certificates

/// Why: `EVP_EC_gen` is a macro over the variadic `EVP_PKEY_Q_keygen`, and Swift cannot call C
/// variadic functions. Generates an ECDSA key on P-256 (W3C generateCertificate's default).
static inline EVP_PKEY *cnssl_generate_p256(void) { return EVP_EC_gen("P-256"); }

/// Why: `EVP_RSA_gen` is a macro over the variadic `EVP_PKEY_Q_keygen`. Generates an RSA key of
/// `bits` bits. Only tests use it: RSA peers for the security-level checks (1,024 bits must be
/// refused, 2,048 accepted); the library itself generates P-256 only.
static inline EVP_PKEY *cnssl_generate_rsa(unsigned int bits) { return EVP_RSA_gen(bits); }

/// Why: `X509_set_version` takes the zero-based version number as a macro constant
/// (`X509_VERSION_3` is only in newer headers). Marks a certificate as X.509 v3.
static inline int cnssl_x509_set_v3(X509 *x509) { return X509_set_version(x509, 2); }

/// Why: a BIO type number is `BIO_get_new_index()` or'ed with the `BIO_TYPE_SOURCE_SINK` flag macro.
/// Creates the method table of one of the session's BIOs, the datagram writer or the datagram reader
/// (one each per process; Swift sets their callbacks).
static inline BIO_METHOD *cnssl_new_datagram_bio_method(const char *name) {
    return BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name);
}

/// Why: `BIO_set_retry_read` and `BIO_clear_retry_flags` are macros over `BIO_set_flags` /
/// `BIO_clear_flags` with flag macros. The datagram reader says "no datagram now, retry later"
/// (OpenSSL then reports SSL_ERROR_WANT_READ), and clears that before each read.
static inline void cnssl_bio_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void cnssl_bio_clear_retry(BIO *bio) { BIO_clear_retry_flags(bio); }

/// Why: `BIO_CTRL_*` are macro constants whose values differ in meaning per BIO type; naming the
/// ones the datagram BIOs answer keeps the Swift side free of magic numbers.
static inline int cnssl_bio_ctrl_is_flush(int cmd) { return cmd == BIO_CTRL_FLUSH; }
static inline int cnssl_bio_ctrl_is_pending(int cmd) {
    return cmd == BIO_CTRL_PENDING || cmd == BIO_CTRL_WPENDING;
}

#endif
