/// What we sent on one local SSRC, the sender reports we build for it (RFC 3550 §6.4.1), and
/// what the peer's report blocks say about it (remote-inbound-rtp, RTT from LSR/DLSR).
public struct RtpSenderStatistics: Sendable {
    /// Our source.
    public let ssrc: UInt32
    /// The payload format's RTP clock rate (Hz).
    public let clockRate: UInt32
    /// outbound-rtp.
    public private(set) var outbound: OutboundRtpFigures
    /// remote-inbound-rtp.
    public private(set) var remoteInbound: RemoteInboundRtpFigures
    /// Report blocks whose RTT was not plausible (LSR/DLSR after the arrival).
    public private(set) var implausibleRoundTrips: UInt64 = 0
    private var packetCount: UInt32 = 0
    private var octetCount: UInt32 = 0
    private var lastTimestamp: (rtp: UInt32, capturedAt: UInt64)?
    private var lastRoundTripNanoseconds: UInt64?

    /// Statistics for `ssrc` with an RTP clock of `clockRate` Hz (0 is taken as 90 kHz).
    public init(ssrc: UInt32, clockRate: UInt32) {
        self.ssrc = ssrc
        self.clockRate = clockRate == 0 ? 90_000 : clockRate
        outbound = OutboundRtpFigures(ssrc: ssrc)
        remoteInbound = RemoteInboundRtpFigures(ssrc: ssrc)
    }

    /// Whether an SR can be built (a packet was sent).
    public var hasSent: Bool { lastTimestamp != nil }

    /// The last RTT in nanoseconds, for NACK pacing.
    public var roundTripTime: UInt64? { lastRoundTripNanoseconds }

    /// Counts a packet sent: its payload and header sizes, its RTP timestamp and the monotonic
    /// time that timestamp stands for (the capture time, or the send time for live media).
    /// Retransmissions count in packetsSent/bytesSent and the retransmitted counters but not in
    /// the SR's counts (RFC 4588 §9 would count them on the RTX stream).
    public mutating func recordSent(
        payloadBytes: Int, headerBytes: Int = 12, rtpTimestamp: UInt32, capturedAt: UInt64, isRetransmission: Bool = false
    ) {
        let payload = UInt64(clamping: max(payloadBytes, 0))
        outbound.packetsSent &+= 1
        outbound.bytesSent &+= payload
        outbound.headerBytesSent &+= UInt64(clamping: max(headerBytes, 0))
        if isRetransmission {
            outbound.retransmittedPacketsSent &+= 1
            outbound.retransmittedBytesSent &+= payload
            return
        }
        packetCount &+= 1
        octetCount &+= UInt32(truncatingIfNeeded: payload)
        lastTimestamp = (rtpTimestamp, capturedAt)
    }

    /// The W3C outbound-rtp view, with nackCount from `responder` and pliCount/firCount from
    /// `keyframeRequests` (the incoming side of this source's limiter) when given.
    public func outboundStats(responder: RtpNackResponder? = nil, keyframeRequests: KeyframeRequestLimiter? = nil) -> OutboundRtpFigures {
        var out = outbound
        if let responder { out.nackCount = responder.counters.nacksReceived }
        if let keyframeRequests {
            out.pliCount = keyframeRequests.counters.pliReceived
            out.firCount = keyframeRequests.counters.firReceived
        }
        return out
    }

    /// The RTP timestamp for monotonic time `now`: the last packet's timestamp moved on by the
    /// time since it was captured, at the clock rate (wrapping). Nil before any packet.
    public func rtpTimestamp(at now: UInt64) -> UInt32? {
        guard let last = lastTimestamp else { return nil }
        let units = RtpClock.rtpUnits(nanoseconds: RtpClock.difference(now, last.capturedAt), clockRate: clockRate)
        return last.rtp &+ UInt32(truncatingIfNeeded: units)
    }

    /// The SR to send at monotonic `now`, which is NTP wall-clock `ntp`, carrying `reports`
    /// (our receive blocks, at most 31); nil before any packet was sent.
    public func makeSenderReport(now: UInt64, ntp: UInt64, reports: [RtcpReportBlock] = []) -> RtcpSenderReport? {
        guard let timestamp = rtpTimestamp(at: now) else { return nil }
        return RtcpSenderReport(
            ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: timestamp, packetCount: packetCount, octetCount: octetCount,
            reports: Array(reports.prefix(31)))
    }

    /// Takes in a report block from the peer's SR or RR, arriving at NTP wall-clock
    /// `arrivalNtp`. Ignored unless it is about our SSRC. RTT = arrival − LSR − DLSR (compact
    /// NTP, 1/65536 s) when LSR is set and the result is not negative. Returns the RTT in
    /// seconds when one was measured.
    @discardableResult
    public mutating func receivedReportBlock(_ block: RtcpReportBlock, arrivalNtp: UInt64) -> Double? {
        guard block.ssrc == ssrc else { return nil }
        remoteInbound.reportsReceived &+= 1
        remoteInbound.packetsLost = Int64(block.cumulativeLost)
        remoteInbound.fractionLost = Double(block.fractionLost) / 256
        remoteInbound.jitter = Double(block.jitter) / Double(clockRate)
        guard block.lastSenderReport != 0 else { return nil }
        let arrival = RtpClock.compactNtp(arrivalNtp)
        // Serial arithmetic: the compact clock wraps every 18 hours; a "negative" RTT is bogus.
        let rtt = arrival &- (block.lastSenderReport &+ block.delaySinceLastSenderReport)
        guard rtt < 0x8000_0000 else {
            implausibleRoundTrips &+= 1
            return nil
        }
        let seconds = RtpClock.seconds(compact: rtt)
        remoteInbound.roundTripTime = seconds
        remoteInbound.totalRoundTripTime += seconds
        remoteInbound.roundTripTimeMeasurements &+= 1
        lastRoundTripNanoseconds = UInt64(rtt) * RtpClock.second / 65_536
        return seconds
    }
}
