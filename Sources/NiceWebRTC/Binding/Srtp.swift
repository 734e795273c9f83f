internal import CSrtp
import NiceWebRTCCore

/// The one funnel through which NiceWebRTC calls libsrtp2. With ``SrtpSession`` (its extension in
/// `Binding/`) it is the only code that imports `CSrtp`.
///
/// libsrtp needs `srtp_init` once per process before anything else; ``ready`` runs it, and the
/// profile probe, exactly once (a Swift global's initialiser runs once, thread-safely), so every
/// other call happens after both. On Debian libsrtp is built on NSS, whose first cipher allocation
/// initialises NSS itself (`NSS_NoDB_Init` in libsrtp's NSS back end, not thread-safe); the probe
/// makes that first allocation inside the one-time initialiser, before any session can be
/// created on another thread.
enum Srtp {
    /// What the one-time initialisation found.
    struct Setup: Sendable {
        /// `srtp_init`'s status (0 = ok).
        let initStatus: Int32
        /// The profiles libsrtp protected and unprotected a test RTP and RTCP packet with here.
        let supported: [SrtpProfile]
        let version: String
    }

    /// Runs `srtp_init` and the probe, once. Never shut down: sessions may exist until exit.
    static let setup: Setup = {
        let status = srtp_init()
        let version = srtp_get_version_string().map { String(cString: $0) } ?? "libsrtp2"
        guard status == srtp_err_status_ok else {
            return Setup(initStatus: Int32(bitPattern: status.rawValue), supported: [], version: version)
        }
        return Setup(initStatus: 0, supported: SrtpProfile.allCases.filter(probe), version: version)
    }()

    /// The profiles this process can protect media with (probed at run time, as libdatachannel
    /// does: libsrtp's cipher set depends on how it was built).
    static var supportedProfiles: [SrtpProfile] { setup.supported }

    /// The `use_srtp` list for OpenSSL (RFC 5764): ``SrtpProfile/offerOrder`` restricted to what
    /// libsrtp supports. When libsrtp supports none of them (a broken install), the full list is
    /// still offered: peers such as aiortc refuse a handshake without the extension, and data
    /// channels do not need SRTP; the media layer then reports `unsupportedProfile`.
    static var offeredProfiles: String {
        let offered = SrtpProfile.offerOrder.filter(supportedProfiles.contains)
        return (offered.isEmpty ? SrtpProfile.offerOrder : offered).map(\.rawValue).joined(separator: ":")
    }

    /// libsrtp's profile constant.
    static func libsrtpProfile(_ profile: SrtpProfile) -> srtp_profile_t {
        switch profile {
        case .aeadAes128Gcm: srtp_profile_aead_aes_128_gcm
        case .aes128CmSha1_80: srtp_profile_aes128_cm_sha1_80
        case .aeadAes256Gcm: srtp_profile_aead_aes_256_gcm
        case .aes128CmSha1_32: srtp_profile_aes128_cm_sha1_32
        }
    }

    /// Protects and unprotects one RTP and one RTCP packet with a fixed key: a profile counts as
    /// supported only when libsrtp accepts its policy, creates both sessions and round-trips both.
    private static func probe(_ profile: SrtpProfile) -> Bool {
        let key = [UInt8](repeating: 0x5A, count: profile.keyLength)
        let salt = [UInt8](repeating: 0xA5, count: profile.saltLength)
        do {
            let out = try SrtpSession(profile: profile, key: key, salt: salt, direction: .outbound, checkSetup: false)
            let into = try SrtpSession(profile: profile, key: key, salt: salt, direction: .inbound, checkSetup: false)
            let rtp: [UInt8] = [0x80, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78] + Array(repeating: 0xAB, count: 32)
            let rtcp: [UInt8] = [0x81, 0xC9, 0x00, 0x07, 0x12, 0x34, 0x56, 0x78] + Array(repeating: 0, count: 24)
            var a = rtp, b = rtcp
            try out.protectRtp(&a)
            try out.protectRtcp(&b)
            try into.unprotectRtp(&a)
            try into.unprotectRtcp(&b)
            return a == rtp && b == rtcp
        } catch {
            return false
        }
    }

    /// libsrtp's status as a typed error.
    static func error(_ status: srtp_err_status_t, _ what: String) -> SrtpError {
        let code: SrtpError.Code =
            switch status {
            case srtp_err_status_auth_fail: .authFail
            case srtp_err_status_replay_fail: .replayFail
            case srtp_err_status_replay_old: .replayOld
            case srtp_err_status_bad_param: .badParam
            case srtp_err_status_alloc_fail: .allocFail
            case srtp_err_status_cipher_fail: .cipherFail
            case srtp_err_status_init_fail: .initFailed
            default: .other
            }
        return SrtpError(code, status: Int32(bitPattern: status.rawValue), reason: what)
    }
}
