import Testing

@testable import NiceWebRTCCore

/// Sender statistics: SR building, RTP timestamp extrapolation, RTT from LSR/DLSR.
@Suite("RTP session: sender statistics", .timeLimit(.minutes(1)))
struct RtpSessionSenderTests {
    static let ms = RtpClock.millisecond

    @Test("The SR's RTP timestamp is the last one moved on by the time since its capture, wrapping")
    func extrapolation() throws {
        var s = RtpSenderStatistics(ssrc: 9, clockRate: 90_000)
        #expect(s.makeSenderReport(now: 0, ntp: 0) == nil)
        s.recordSent(payloadBytes: 1_000, headerBytes: 20, rtpTimestamp: 1_000, capturedAt: RtpClock.second)
        s.recordSent(payloadBytes: 500, rtpTimestamp: 1_000, capturedAt: RtpClock.second)
        s.recordSent(payloadBytes: 1_000, rtpTimestamp: 1_000, capturedAt: RtpClock.second, isRetransmission: true)
        let srMade = s.makeSenderReport(now: 1_500 * Self.ms, ntp: 0x1234_5678_9ABC_DEF0)
        let sr = try #require(srMade)
        #expect(sr.ssrc == 9)
        #expect(sr.rtpTimestamp == 46_000)
        #expect(sr.ntpTimestamp == 0x1234_5678_9ABC_DEF0)
        #expect(sr.packetCount == 2)
        #expect(sr.octetCount == 1_500)
        #expect(s.rtpTimestamp(at: RtpClock.second - Self.ms) == 910)  // before the capture
        #expect(s.outbound.packetsSent == 3)
        #expect(s.outbound.bytesSent == 2_500)
        #expect(s.outbound.headerBytesSent == 44)
        #expect(s.outbound.retransmittedPacketsSent == 1)
        #expect(s.outbound.retransmittedBytesSent == 1_000)
        var w = RtpSenderStatistics(ssrc: 9, clockRate: 90_000)
        w.recordSent(payloadBytes: 1, rtpTimestamp: 0xFFFF_FFF0, capturedAt: 0)
        #expect(w.rtpTimestamp(at: Self.ms) == 0x4A)  // 0xFFFFFFF0 + 90
        #expect(w.rtpTimestamp(at: UInt64.max) != nil)
        let many = Array(repeating: RtcpReportBlock(ssrc: 1), count: 40)
        let made1 = w.makeSenderReport(now: 0, ntp: 0, reports: many)
        let made1Value = try #require(made1)
        #expect(made1Value.reports.count == 31)
    }

    @Test("RTT = arrival − LSR − DLSR exactly, in 1/65536 s, wrapping; negative ones are ignored")
    func roundTrip() throws {
        var s = RtpSenderStatistics(ssrc: 5, clockRate: 48_000)
        let block = RtcpReportBlock(
            ssrc: 5, fractionLost: 64, cumulativeLost: 12, extendedHighestSequenceNumber: 100, jitter: 480,
            lastSenderReport: 0x0001_0000, delaySinceLastSenderReport: 0x0000_8000)
        let rttMade = s.receivedReportBlock(block, arrivalNtp: UInt64(0x0001_C000) << 16)
        let rtt = try #require(rttMade)
        #expect(rtt == 0.25)
        #expect(s.roundTripTime == 250 * Self.ms)
        #expect(s.remoteInbound.roundTripTime == 0.25)
        #expect(s.remoteInbound.fractionLost == 0.25)
        #expect(s.remoteInbound.packetsLost == 12)
        #expect(s.remoteInbound.jitter == 0.01)
        #expect(s.remoteInbound.roundTripTimeMeasurements == 1)
        // Arriving "before" LSR + DLSR: not plausible.
        let result1 = s.receivedReportBlock(block, arrivalNtp: UInt64(0x0001_7000) << 16)
        #expect(result1 == nil)
        #expect(s.implausibleRoundTrips == 1)
        // Across the compact clock's wrap.
        var wrapped = block
        wrapped.lastSenderReport = 0xFFFF_F000
        wrapped.delaySinceLastSenderReport = 0x2000
        let result2 = s.receivedReportBlock(wrapped, arrivalNtp: UInt64(0x1800) << 16)
        #expect(result2 == Double(0x800) / 65_536)
        // LSR 0: no SR seen yet, no RTT; another SSRC: ignored.
        wrapped.lastSenderReport = 0
        let result3 = s.receivedReportBlock(wrapped, arrivalNtp: 0)
        #expect(result3 == nil)
        let result4 = s.receivedReportBlock(RtcpReportBlock(ssrc: 6, lastSenderReport: 1), arrivalNtp: 1 << 40)
        #expect(result4 == nil)
        #expect(s.remoteInbound.reportsReceived == 4)
        #expect(s.remoteInbound.roundTripTimeMeasurements == 2)
        #expect(abs(s.remoteInbound.totalRoundTripTime - (0.25 + Double(0x800) / 65_536)) < 1e-12)
    }

    @Test("A receiver's report block and a sender's RTT agree end to end")
    func endToEnd() throws {
        // The SR leaves at NTP 100.010 s; the receiver holds it 40 ms before its report block.
        let srNtp: UInt64 = 100 << 32
        var receiver = RtpReceiveStatistics(ssrc: 5, clockRate: 90_000)
        receiver.received(sequenceNumber: 1, rtpTimestamp: 0, payloadBytes: 1, now: 0)
        receiver.receivedSenderReport(ntpTimestamp: srNtp + (UInt64(10) << 32) / 1_000, now: 10 * Self.ms)
        let blockMade = receiver.makeReportBlock(now: 50 * Self.ms)
        let block = try #require(blockMade)
        var sender = RtpSenderStatistics(ssrc: 5, clockRate: 90_000)
        // Held 40 ms; 20 ms in flight both ways together: arrival at NTP 100.070 s.
        let rttMade = sender.receivedReportBlock(block, arrivalNtp: srNtp + (UInt64(70) << 32) / 1_000)
        let rtt = try #require(rttMade)
        #expect(abs(rtt - 0.020) < 2.0 / 65_536)
    }
}
