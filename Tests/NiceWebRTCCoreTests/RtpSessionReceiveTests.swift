import Testing

@testable import NiceWebRTCCore

/// Receive statistics: RFC 3550 A.3 loss, A.8 jitter, A.1 jumps, LSR/DLSR.
@Suite("RTP session: receive statistics", .timeLimit(.minutes(1)))
struct RtpSessionReceiveTests {
    static let ms = RtpClock.millisecond

    @Test("Loss per A.3: cumulative and per interval, a late packet reduces it, a duplicate is discarded")
    func loss() throws {
        var s = RtpReceiveStatistics(ssrc: 7, clockRate: 90_000)
        let result1 = s.makeReportBlock(now: 0)
        #expect(result1 == nil)
        for n: UInt16 in 0...9 where n != 3 && n != 4 {
            let result2 = s.received(sequenceNumber: n, rtpTimestamp: 0, payloadBytes: 100, now: 0)
            #expect(result2)
        }
        let firstMade = s.makeReportBlock(now: 0)
        let first = try #require(firstMade)
        #expect(first.ssrc == 7)
        #expect(first.cumulativeLost == 2)
        #expect(first.fractionLost == 51)  // (2 << 8) / 10
        #expect(first.extendedHighestSequenceNumber == 9)
        for n: UInt16 in 10...19 { s.received(sequenceNumber: n, rtpTimestamp: 0, payloadBytes: 100, now: 0) }
        let secondMade = s.makeReportBlock(now: 0)
        let second = try #require(secondMade)
        #expect(second.fractionLost == 0)
        #expect(second.cumulativeLost == 2)
        let result3 = s.received(sequenceNumber: 3, rtpTimestamp: 0, payloadBytes: 100, now: 0)
        #expect(result3)  // late
        let result4 = s.received(sequenceNumber: 5, rtpTimestamp: 0, payloadBytes: 100, now: 0)
        #expect(!result4)  // duplicate
        let result5 = s.received(sequenceNumber: 19, rtpTimestamp: 0, payloadBytes: 100, now: 0)
        #expect(!result5)  // duplicate of the highest
        #expect(s.cumulativeLost == 1)
        let stats = s.inboundStats
        #expect(stats.packetsReceived == 19)
        #expect(stats.bytesReceived == 1_900)
        #expect(stats.packetsLost == 1)
        #expect(stats.packetsDiscarded == 2)
        // The late packet makes the interval's received exceed its expected: fraction 0.
        let made1 = s.makeReportBlock(now: 0)
        let made1Value = try #require(made1)
        #expect(made1Value.fractionLost == 0)
    }

    @Test("The extended highest sequence number counts a wrap at 65535")
    func wrap() throws {
        var s = RtpReceiveStatistics(ssrc: 1, clockRate: 48_000)
        for n: UInt16 in [65_533, 65_534, 65_535, 1, 0, 2] {
            s.received(sequenceNumber: n, rtpTimestamp: 0, payloadBytes: 10, now: 0)
        }
        let blockMade = s.makeReportBlock(now: 0)
        let block = try #require(blockMade)
        #expect(block.extendedHighestSequenceNumber == 0x0001_0002)
        #expect(block.cumulativeLost == 0)
        #expect(block.fractionLost == 0)
    }

    @Test("Jitter per A.8 on a hand-computed sequence (8 kHz, 20 ms packets, one 10 ms late)")
    func jitter() {
        var s = RtpReceiveStatistics(ssrc: 1, clockRate: 8_000)
        s.received(sequenceNumber: 0, rtpTimestamp: 0, payloadBytes: 160, now: 0)
        s.received(sequenceNumber: 1, rtpTimestamp: 160, payloadBytes: 160, now: 20 * Self.ms)  // D = 0
        #expect(s.jitter == 0)
        s.received(sequenceNumber: 2, rtpTimestamp: 320, payloadBytes: 160, now: 50 * Self.ms)  // D = 240 − 160 = 80
        #expect(s.jitter == 5)  // 80 / 16
        s.received(sequenceNumber: 3, rtpTimestamp: 480, payloadBytes: 160, now: 60 * Self.ms)  // |D| = 80
        #expect(s.jitter == 9)  // 5 + 75/16 = 9.6875
        #expect(abs(s.inboundStats.jitter - 9.6875 / 8_000) < 1e-12)
        // A reordered packet does not move the jitter.
        s.received(sequenceNumber: 5, rtpTimestamp: 800, payloadBytes: 160, now: 100 * Self.ms)
        let before = s.inboundStats.jitter
        s.received(sequenceNumber: 4, rtpTimestamp: 640, payloadBytes: 160, now: 300 * Self.ms)
        #expect(s.inboundStats.jitter == before)
    }

    @Test("A jump beyond MAX_DROPOUT is dropped once, then restarts the sequence when the next follows it")
    func jump() throws {
        var s = RtpReceiveStatistics(ssrc: 1, clockRate: 90_000)
        s.received(sequenceNumber: 100, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        s.received(sequenceNumber: 101, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        let result6 = s.received(sequenceNumber: 9_000, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        #expect(!result6)
        let result7 = s.received(sequenceNumber: 102, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        #expect(result7)  // probation cleared
        let result8 = s.received(sequenceNumber: 9_000, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        #expect(!result8)
        let result9 = s.received(sequenceNumber: 9_001, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        #expect(result9)
        #expect(s.restarts == 1)
        let blockMade = s.makeReportBlock(now: 0)
        let block = try #require(blockMade)
        #expect(block.extendedHighestSequenceNumber == 9_001)
        #expect(block.cumulativeLost == 0)
        #expect(s.inboundStats.packetsReceived == 4)
        #expect(s.inboundStats.packetsDiscarded == 2)
        // Far behind (more than MAX_MISORDER) is a jump too.
        let result10 = s.received(sequenceNumber: 8_800, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        #expect(!result10)
    }

    @Test("LSR is the middle 32 bits of the last SR's NTP time and DLSR the delay since, in 1/65536 s")
    func lsrDlsr() throws {
        var s = RtpReceiveStatistics(ssrc: 1, clockRate: 90_000)
        s.received(sequenceNumber: 1, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        let made2 = s.makeReportBlock(now: 0)
        let made2Value = try #require(made2)
        #expect(made2Value.lastSenderReport == 0)
        s.receivedSenderReport(ntpTimestamp: 0xAAAA_BBBB_CCCC_DDDD, now: RtpClock.second)
        let blockMade = s.makeReportBlock(now: 1_500 * Self.ms)
        let block = try #require(blockMade)
        #expect(block.lastSenderReport == 0xBBBB_CCCC)
        #expect(block.delaySinceLastSenderReport == 32_768)
        // A clock that goes backwards gives DLSR 0, not a trap.
        let made3 = s.makeReportBlock(now: 0)
        let made3Value = try #require(made3)
        #expect(made3Value.delaySinceLastSenderReport == 0)
    }

    @Test("remote-outbound-rtp: an SR's NTP time in ms since 1970, its counts unwrapped past 32 bits")
    func remoteOutbound() {
        var s = RtpReceiveStatistics(ssrc: 7, clockRate: 90_000)
        #expect(s.remoteOutbound.reportsSent == 0 && s.remoteOutbound.remoteTimestamp == nil)
        // 2021-01-01T00:00:00.5Z: 1_609_459_200 s after 1970, half a second of fraction.
        let ntp = (UInt64(1_609_459_200) + RemoteOutboundRtpFigures.ntpToUnixSeconds) << 32 | 0x8000_0000
        s.receivedSenderReport(
            RtcpSenderReport(ssrc: 7, ntpTimestamp: ntp, rtpTimestamp: 0, packetCount: 0xFFFF_FFF0, octetCount: 100), now: 0)
        #expect(s.remoteOutbound.remoteTimestamp == 1_609_459_200_500)
        #expect(s.remoteOutbound.packetsSent == 0xFFFF_FFF0 && s.remoteOutbound.bytesSent == 100)
        // The packet count wraps; a reordered older SR steps back without losing the wrap.
        s.receivedSenderReport(RtcpSenderReport(ssrc: 7, ntpTimestamp: ntp, rtpTimestamp: 0, packetCount: 5, octetCount: 200), now: 0)
        #expect(s.remoteOutbound.packetsSent == (1 << 32) + 5 && s.remoteOutbound.bytesSent == 200)
        s.receivedSenderReport(
            RtcpSenderReport(ssrc: 7, ntpTimestamp: ntp, rtpTimestamp: 0, packetCount: 0xFFFF_FFFF, octetCount: 150), now: 0)
        #expect(s.remoteOutbound.packetsSent == 0xFFFF_FFFF && s.remoteOutbound.bytesSent == 150)
        #expect(s.remoteOutbound.reportsSent == 3)
        // The LSR for our report block comes from the same SR.
        s.received(sequenceNumber: 1, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        #expect(s.makeReportBlock(now: 0)?.lastSenderReport == RtpClock.compactNtp(ntp))
    }

    @Test("Hostile arrivals never trap and loss stays in 24 bits")
    func hostile() throws {
        var s = RtpReceiveStatistics(ssrc: 1, clockRate: 0)
        var x: UInt32 = 12_345
        for i in 0..<20_000 {
            x = x &* 1_103_515_245 &+ 12_345
            let now = UInt64(x % 7 == 0 ? UInt64.max - UInt64(i) : UInt64(i) * 1_000)
            s.received(sequenceNumber: UInt16(truncatingIfNeeded: x >> 8), rtpTimestamp: x, payloadBytes: Int(Int32(bitPattern: x)), now: now)
            if i % 100 == 0 { _ = s.makeReportBlock(now: now) }
        }
        let blockMade = s.makeReportBlock(now: 0)
        let block = try #require(blockMade)
        #expect((-0x80_0000...0x7F_FFFF).contains(block.cumulativeLost))
        #expect(s.inboundStats.jitter.isFinite)
    }
}
