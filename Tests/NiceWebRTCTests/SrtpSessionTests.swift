import NiceWebRTCCore
import Testing

@testable import NiceWebRTC

/// An RTP packet (version 2, payload type 96) with the given sequence number and a payload that
/// says which one it is.
func rtpPacket(seq: UInt16, ssrc: UInt32 = 0x1234_5678, payloadSize: Int = 160, marker: Bool = false) -> [UInt8] {
    var p: [UInt8] = [0x80, (marker ? 0x80 : 0) | 96, UInt8(seq >> 8), UInt8(seq & 0xFF)]
    let timestamp = UInt32(seq) &* 960
    p += [UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF)]
    p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    p += (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &+ Int(seq)) }
    return p
}

/// An RTCP receiver report (PT 201) with one report block, from `ssrc`.
func rtcpReceiverReport(ssrc: UInt32 = 0x1234_5678, tag: UInt8 = 0) -> [UInt8] {
    var p: [UInt8] = [0x81, 201, 0x00, 0x07]
    p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    p += [0xCA, 0xFE, 0xBA, 0xBE, tag] + [UInt8](repeating: 0, count: 19)
    return p
}

@Suite("SRTP sessions over libsrtp2")
struct SrtpSessionTests {
    static func pair(_ profile: SrtpProfile, otherKey: Bool = false) throws -> (out: SrtpSession, into: SrtpSession) {
        let key = (0..<profile.keyLength).map { UInt8($0 &* 7) }
        let salt = (0..<profile.saltLength).map { UInt8($0 &* 13) }
        let inKey = otherKey ? key.map { $0 ^ 1 } : key
        return (
            try SrtpSession(profile: profile, key: key, salt: salt, direction: .outbound),
            try SrtpSession(profile: profile, key: inKey, salt: salt, direction: .inbound)
        )
    }

    @Test("the run-time probe: libsrtp here supports the two offered profiles", .timeLimit(.minutes(1)))
    func probe() {
        let setup = Srtp.setup
        #expect(setup.initStatus == 0)
        #expect(Srtp.supportedProfiles.contains(.aeadAes128Gcm), "\(Srtp.supportedProfiles) on \(setup.version)")
        #expect(Srtp.supportedProfiles.contains(.aes128CmSha1_80), "\(Srtp.supportedProfiles) on \(setup.version)")
        #expect(Srtp.offeredProfiles == "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80")
    }

    @Test("RTP and RTCP round trip, byte-exact, for each probed profile", .timeLimit(.minutes(1)),
          arguments: SrtpProfile.allCases)
    func roundTrip(profile: SrtpProfile) throws {
        guard Srtp.supportedProfiles.contains(profile) else { return }
        let (out, into) = try Self.pair(profile)
        for seq in UInt16(1)...200 {
            let original = rtpPacket(seq: seq, payloadSize: Int(seq) * 5)
            var packet = original
            try out.protectRtp(&packet)
            #expect(packet.count > original.count, "a tag was added")
            #expect(Array(packet[0..<12]) == Array(original[0..<12]), "the header stays in clear")
            #expect(packet[12...].elementsEqual(original[12...]) == false, "the payload is encrypted")
            try into.unprotectRtp(&packet)
            #expect(packet == original)
        }
        for tag in UInt8(0)..<20 {
            let original = rtcpReceiverReport(tag: tag)
            var packet = original
            try out.protectRtcp(&packet)
            #expect(packet.count >= original.count + 4 + (profile == .aes128CmSha1_32 ? 10 : profile.saltLength == 14 ? 10 : 16))
            try into.unprotectRtcp(&packet)
            #expect(packet == original)
        }
        #expect(into.authFailures == 0 && into.replays == 0)
    }

    @Test("a tampered packet fails authentication and is counted; a wrong key too", .timeLimit(.minutes(1)),
          arguments: [SrtpProfile.aeadAes128Gcm, .aes128CmSha1_80])
    func tamper(profile: SrtpProfile) throws {
        let (out, into) = try Self.pair(profile)
        var packet = rtpPacket(seq: 1)
        try out.protectRtp(&packet)
        var bad = packet
        bad[20] ^= 0x01
        #expect(throws: SrtpError.self) { try into.unprotectRtp(&bad) }
        #expect(into.authFailures == 1)
        var rtcp = rtcpReceiverReport()
        try out.protectRtcp(&rtcp)
        rtcp[rtcp.count - 1] ^= 0x80
        do {
            try into.unprotectRtcp(&rtcp)
            Issue.record("a tampered SRTCP packet was accepted")
        } catch {
            #expect(error.code == .authFail)
        }
        #expect(into.authFailures == 2)
        // The untouched packet still passes (a failure does not poison the stream).
        try into.unprotectRtp(&packet)
        #expect(packet == rtpPacket(seq: 1))

        let (out2, wrong) = try Self.pair(profile, otherKey: true)
        var p2 = rtpPacket(seq: 5)
        try out2.protectRtp(&p2)
        do {
            try wrong.unprotectRtp(&p2)
            Issue.record("another key's packet was accepted")
        } catch {
            #expect(error.code == .authFail)
        }
        #expect(wrong.authFailures == 1)
    }

    @Test("a replayed packet is refused and counted; one older than the window too", .timeLimit(.minutes(1)),
          arguments: [SrtpProfile.aeadAes128Gcm, .aes128CmSha1_80])
    func replay(profile: SrtpProfile) throws {
        let (out, into) = try Self.pair(profile)
        var protected: [UInt16: [UInt8]] = [:]
        for seq in [UInt16(1), 2, 3, 2000] {
            var p = rtpPacket(seq: seq)
            try out.protectRtp(&p)
            protected[seq] = p
        }
        var first = protected[1]!
        try into.unprotectRtp(&first)
        var again = protected[1]!
        do {
            try into.unprotectRtp(&again)
            Issue.record("a replay was accepted")
        } catch {
            #expect(error.code == .replayFail)
        }
        var newest = protected[2000]!
        try into.unprotectRtp(&newest)
        var old = protected[3]!  // 1,997 behind the newest: outside the 1,024-packet window
        do {
            try into.unprotectRtp(&old)
            Issue.record("a packet older than the window was accepted")
        } catch {
            #expect(error.code == .replayOld)
        }
        #expect(into.replays == 2 && into.authFailures == 0)
        // The outbound session may send the same packet again (a NACK answered from history)
        // within its window; not one older than the window.
        var resend = rtpPacket(seq: 2000)
        try out.protectRtp(&resend)
        #expect(resend == protected[2000]!)
        var stale = rtpPacket(seq: 1)
        #expect(throws: SrtpError.self) { try out.protectRtp(&stale) }
    }

    @Test("bad parameters and malformed packets are typed errors, never crashes", .timeLimit(.minutes(1)))
    func refusals() throws {
        #expect(throws: SrtpError(.badParam, reason: "SRTP_AEAD_AES_128_GCM takes a 16-byte key and a 12-byte salt")) {
            try SrtpSession(profile: .aeadAes128Gcm, key: [1, 2, 3], salt: [], direction: .outbound)
        }
        let (out, into) = try Self.pair(.aeadAes128Gcm)
        var short: [UInt8] = [0x80, 96, 0, 1]
        #expect(throws: SrtpError.self) { try out.protectRtp(&short) }
        #expect(short == [0x80, 96, 0, 1])
        var garbage = [UInt8](repeating: 0x80, count: 40)
        #expect(throws: SrtpError.self) { try into.unprotectRtp(&garbage) }
        var empty: [UInt8] = []
        #expect(throws: SrtpError.self) { try into.unprotectRtcp(&empty) }
        for _ in 0..<500 {
            var random = (0..<Int.random(in: 8...300)).map { _ in UInt8.random(in: 0...255) }
            random[0] = 0x80 | (random[0] & 0x3F)
            _ = try? into.unprotectRtp(&random)
            _ = try? into.unprotectRtcp(&random)
        }
    }
}
