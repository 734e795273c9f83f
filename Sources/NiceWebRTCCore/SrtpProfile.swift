/// A DTLS-SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2): the SRTP cipher and the sizes
/// of the master key and salt that the DTLS handshake exports for it.
///
/// The raw value is the profile's name in OpenSSL's `use_srtp` list and in
/// `SSL_get_selected_srtp_profile`.
package enum SrtpProfile: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// AEAD_AES_128_GCM (RFC 7714): 16-byte key, 12-byte salt, 16-byte tag.
    case aeadAes128Gcm = "SRTP_AEAD_AES_128_GCM"
    /// AES-128 counter mode with an 80-bit HMAC-SHA1 tag (RFC 5764): 16-byte key, 14-byte salt.
    case aes128CmSha1_80 = "SRTP_AES128_CM_SHA1_80"
    /// AEAD_AES_256_GCM (RFC 7714): 32-byte key, 12-byte salt.
    case aeadAes256Gcm = "SRTP_AEAD_AES_256_GCM"
    /// AES-128 counter mode with a 32-bit HMAC-SHA1 tag on SRTP (80-bit on SRTCP).
    case aes128CmSha1_32 = "SRTP_AES128_CM_SHA1_32"

    /// The profiles we offer in the DTLS handshake, in preference order (what browsers take:
    /// GCM first, then the mandatory-to-implement CM_SHA1_80; RFC 8827 §6.5). Only those the SRTP
    /// library accepts at run time are actually offered.
    package static let offerOrder: [SrtpProfile] = [.aeadAes128Gcm, .aes128CmSha1_80]

    /// The SRTP master key's length in bytes.
    package var keyLength: Int {
        switch self {
        case .aeadAes256Gcm: 32
        case .aeadAes128Gcm, .aes128CmSha1_80, .aes128CmSha1_32: 16
        }
    }

    /// The SRTP master salt's length in bytes (RFC 7714 §12: 12 for AEAD; RFC 3711: 14).
    package var saltLength: Int {
        switch self {
        case .aeadAes128Gcm, .aeadAes256Gcm: 12
        case .aes128CmSha1_80, .aes128CmSha1_32: 14
        }
    }

    /// How many bytes of keying material the profile takes from the DTLS exporter (RFC 5764 §4.2:
    /// two keys and two salts).
    package var keyingMaterialLength: Int { 2 * (keyLength + saltLength) }

    package var description: String { rawValue }
}
