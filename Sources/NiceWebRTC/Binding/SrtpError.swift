/// Why an SRTP operation failed: libsrtp's status, mapped to what the media layer counts and
/// reports, plus the media layer's own refusals.
package struct SrtpError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, Equatable {
        /// The packet's authentication tag did not verify (forged, corrupted, or another key).
        case authFail
        /// The packet's index was seen before (a replay or a duplicate).
        case replayFail
        /// The packet's index is older than the replay window.
        case replayOld
        /// libsrtp refused a parameter (a key of the wrong size, a packet it cannot parse).
        case badParam
        /// libsrtp could not allocate.
        case allocFail
        /// The cipher failed (libsrtp's crypto back end, NSS on Debian).
        case cipherFail
        /// `srtp_init` failed: no SRTP in this process.
        case initFailed
        /// The negotiated profile is one libsrtp does not accept here.
        case unsupportedProfile
        /// Too short for an RTP (12 bytes) or RTCP (8 bytes) header, or too long to protect.
        case malformedPacket
        /// No keys yet: DTLS has not connected, or the peer did not negotiate DTLS-SRTP.
        case notReady
        /// The media layer or its DTLS transport is closed.
        case closed
        /// The DTLS transport has a media layer already.
        case invalidState
        /// ICE refused the protected packet.
        case sendFailed
        /// Any other libsrtp status (its number is in `status`).
        case other
    }

    package let code: Code
    /// libsrtp's `srtp_err_status_t` value, when the error came from libsrtp (0 otherwise).
    package let status: Int32
    package let reason: String

    package init(_ code: Code, status: Int32 = 0, reason: String = "") {
        self.code = code
        self.status = status
        self.reason = reason
    }

    package var description: String {
        var text = "SRTP \(code.rawValue)"
        if status != 0 { text += " (libsrtp status \(status))" }
        if !reason.isEmpty { text += ": \(reason)" }
        return text
    }
}
