internal import CSrtp
import NiceWebRTCCore

/// One direction of SRTP and SRTCP over libsrtp: an outbound session protects every SSRC we send
/// (`ssrc_any_outbound`), an inbound one unprotects every SSRC the peer sends (`ssrc_any_inbound`),
/// both keyed by one master key and salt (one direction of ``DtlsSrtpKeys``).
///
/// **Threads.** Not `Sendable`: a libsrtp session (`srtp_t`) keeps per-stream state (rollover
/// counters, replay windows) that it changes on every packet without a lock of its own. Its owner
/// (``SrtpCore``) calls it under one lock per session. Distinct sessions share nothing but
/// libsrtp's crypto kernel, which is read-only after ``Srtp/setup``.
///
/// **Buffers.** libsrtp protects in place and writes its trailer (tag, SRTCP index) behind the
/// packet; the `[UInt8]` methods grow the array by the most that can take (SRTP_MAX_TRAILER_LEN,
/// plus 4 for the SRTCP index) and shrink it to the result, so a caller never passes a buffer too
/// short.
///
/// Replay: a window of ``windowSize`` packets per SSRC (RFC 3711 §3.3.2); a repeated index is
/// refused with `replayFail`, one older than the window with `replayOld`. The outbound session
/// allows repeated sends of the same index (`allow_repeat_tx`): a NACK is answered by sending the
/// packet again from the send history, with the same sequence number and the same payload (within
/// the window: an index older than it is refused with `replayOld`).
final class SrtpSession {
    enum Direction: Sendable { case inbound, outbound }

    /// Packets (RTP, RTCP) kept in the replay window per SSRC; libdatachannel and Chrome use 1,024.
    static let windowSize = 1024
    /// How much an RTP packet grows at most when protected, and the room libsrtp may write into.
    static let rtpTrailerCapacity = Int(SRTP_MAX_TRAILER_LEN)
    /// The same for RTCP: the trailer and the 4-byte SRTCP index (srtp.h's warning on srtp_protect_rtcp).
    static let rtcpTrailerCapacity = Int(SRTP_MAX_TRAILER_LEN) + 4
    /// The largest packet we hand to libsrtp (its length is an `int`; no datagram is larger).
    static let maximumPacket = 65_535

    let profile: SrtpProfile
    let direction: Direction
    private let context: OpaquePointer

    /// Packets refused because their tag did not verify.
    private(set) var authFailures: UInt64 = 0
    /// Packets refused by the replay window (`replayFail` and `replayOld`).
    private(set) var replays: UInt64 = 0

    /// Creates the session. `key` and `salt` must have the profile's lengths; libsrtp copies them.
    ///
    /// - Parameter checkSetup: false only for ``Srtp/setup``'s own probe, which runs inside the
    ///   one-time initialisation (libsrtp is initialised already there).
    init(profile: SrtpProfile, key: [UInt8], salt: [UInt8], direction: Direction, checkSetup: Bool = true) throws(SrtpError) {
        if checkSetup {
            guard Srtp.setup.initStatus == 0 else {
                throw SrtpError(.initFailed, status: Srtp.setup.initStatus, reason: "srtp_init failed")
            }
            guard Srtp.supportedProfiles.contains(profile) else {
                throw SrtpError(.unsupportedProfile, reason: "libsrtp does not support \(profile.rawValue) here")
            }
        }
        guard key.count == profile.keyLength, salt.count == profile.saltLength else {
            throw SrtpError(.badParam, reason: "\(profile.rawValue) takes a \(profile.keyLength)-byte key and a \(profile.saltLength)-byte salt")
        }
        var policy = srtp_policy_t()
        let lp = Srtp.libsrtpProfile(profile)
        var status = srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, lp)
        guard status == srtp_err_status_ok else { throw Srtp.error(status, "no RTP policy for \(profile.rawValue)") }
        status = srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, lp)
        guard status == srtp_err_status_ok else { throw Srtp.error(status, "no RTCP policy for \(profile.rawValue)") }
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.window_size = UInt(Self.windowSize)
        policy.allow_repeat_tx = direction == .outbound ? 1 : 0
        policy.next = nil
        // libsrtp reads the master key as key || salt and copies it into the session.
        var master = key + salt
        var session: srtp_t?
        status = master.withUnsafeMutableBufferPointer { m in
            policy.key = m.baseAddress
            defer { policy.key = nil }
            return srtp_create(&session, &policy)
        }
        for i in master.indices { master[i] = 0 }  // best effort: our copy of the secret
        guard status == srtp_err_status_ok, let session else { throw Srtp.error(status, "srtp_create failed") }
        self.context = session
        self.profile = profile
        self.direction = direction
    }

    deinit { srtp_dealloc(context) }

    // MARK: Packets (the owner's lock held)

    /// Protects an RTP packet in place (outbound sessions).
    func protectRtp(_ packet: inout [UInt8]) throws(SrtpError) {
        try run(&packet, minimum: 12, room: Self.rtpTrailerCapacity, "srtp_protect") { srtp_protect(context, $0, $1) }
    }

    /// Unprotects an SRTP packet in place (inbound sessions). Auth failures and replays are counted.
    func unprotectRtp(_ packet: inout [UInt8]) throws(SrtpError) {
        try run(&packet, minimum: 12, room: 0, "srtp_unprotect") { srtp_unprotect(context, $0, $1) }
    }

    /// Protects an RTCP (compound) packet in place (outbound sessions).
    func protectRtcp(_ packet: inout [UInt8]) throws(SrtpError) {
        try run(&packet, minimum: 8, room: Self.rtcpTrailerCapacity, "srtp_protect_rtcp") { srtp_protect_rtcp(context, $0, $1) }
    }

    /// Unprotects an SRTCP packet in place (inbound sessions). Auth failures and replays are counted.
    func unprotectRtcp(_ packet: inout [UInt8]) throws(SrtpError) {
        try run(&packet, minimum: 8, room: 0, "srtp_unprotect_rtcp") { srtp_unprotect_rtcp(context, $0, $1) }
    }

    private func run(
        _ packet: inout [UInt8], minimum: Int, room: Int, _ name: String,
        _ call: (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t
    ) throws(SrtpError) {
        guard packet.count >= minimum, packet.count <= Self.maximumPacket else {
            throw SrtpError(.malformedPacket, reason: "\(packet.count) bytes")
        }
        var length = Int32(packet.count)
        if room > 0 { packet.append(contentsOf: repeatElement(0, count: room)) }
        let status = packet.withUnsafeMutableBytes { call($0.baseAddress!, &length) }  // non-empty: count ≥ minimum > 0
        guard status == srtp_err_status_ok, length >= 0, Int(length) <= packet.count else {
            if room > 0 { packet.removeLast(room) }
            let error = Srtp.error(status, name)
            switch error.code {
            case .authFail: authFailures += 1
            case .replayFail, .replayOld: replays += 1
            default: break
            }
            throw error
        }
        packet.removeLast(packet.count - Int(length))
    }
}
