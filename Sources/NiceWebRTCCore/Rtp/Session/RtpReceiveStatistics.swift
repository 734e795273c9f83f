/// Reception statistics for one remote SSRC (RFC 3550 §6.4.1 and appendix A): packets and bytes,
/// the extended highest sequence number, cumulative and interval loss (A.3), interarrival
/// jitter (A.8), and the last SR for LSR/DLSR; builds the ``RtcpReportBlock`` of our RR.
///
/// Sequence validation follows A.1 without the initial probation: a packet more than
/// ``maxDropout`` ahead or more than ``maxMisorder`` behind the highest is dropped, unless the
/// next packet follows it (`seq + 1`), which restarts the sequence there (the sender restarted).
/// Duplicates within the last 1,024 numbers are detected and discarded, not counted as received.
public struct RtpReceiveStatistics: Sendable {
    /// RFC 3550 A.1 MAX_DROPOUT.
    public static let maxDropout = 3_000
    /// RFC 3550 A.1 MAX_MISORDER.
    public static let maxMisorder = 100
    private static let windowBits = 1_024

    /// The remote source.
    public let ssrc: UInt32
    /// The payload format's RTP clock rate (Hz).
    public let clockRate: UInt32

    private var unwrapper = RtpSequenceUnwrapper()
    private var baseExtended: Int64 = 0
    private var highestExtended: Int64 = 0
    private var receivedSinceBase: UInt64 = 0
    private var expectedPrior: Int64 = 0
    private var receivedPrior: UInt64 = 0
    private var probation: UInt16?
    private var window = [UInt64](repeating: 0, count: 16)
    private var lastArrival: UInt64 = 0
    private var lastRtpTimestamp: UInt32 = 0
    private var jitterUnits: Double = 0
    private var jitterBaselineSet = false
    private var lastSenderReport: (compact: UInt32, arrival: UInt64)?
    /// Everything counted so far (nack/pli/fir counts are the caller's to fill).
    public private(set) var stats: InboundRtpFigures
    /// Times the sequence restarted after a large jump.
    public private(set) var restarts: UInt64 = 0
    /// What this source's sender reports said (W3C remote-outbound-rtp).
    public private(set) var remoteOutbound: RemoteOutboundRtpFigures

    /// Statistics for `ssrc` with an RTP clock of `clockRate` Hz (0 is taken as 90 kHz).
    public init(ssrc: UInt32, clockRate: UInt32) {
        self.ssrc = ssrc
        self.clockRate = clockRate == 0 ? 90_000 : clockRate
        stats = InboundRtpFigures(ssrc: ssrc)
        remoteOutbound = RemoteOutboundRtpFigures(ssrc: ssrc)
    }

    /// Whether any packet was counted.
    public var hasReceived: Bool { unwrapper.lastUnwrapped != nil }

    /// The extended highest sequence number (cycles << 16 | highest), as a report block says it.
    public var extendedHighestSequenceNumber: UInt32 { UInt32(truncatingIfNeeded: highestExtended) }

    /// The interarrival jitter in RTP timestamp units.
    public var jitter: UInt32 { UInt32(clamping: Int64(jitterUnits.rounded(.down))) }

    /// Cumulative packets lost (A.3: expected − received since the base).
    public var cumulativeLost: Int64 {
        guard hasReceived else { return 0 }
        return (highestExtended - baseExtended + 1) - Int64(clamping: receivedSinceBase)
    }

    /// Counts one arriving packet: its sequence number, RTP timestamp, payload and header sizes,
    /// at `now` (monotonic nanoseconds). Returns false when the packet was discarded (a
    /// duplicate, or a jump on probation).
    @discardableResult
    public mutating func received(
        sequenceNumber: UInt16, rtpTimestamp: UInt32, payloadBytes: Int, headerBytes: Int = 12, now: UInt64
    ) -> Bool {
        guard hasReceived else {
            restart(at: sequenceNumber)
            count(rtpTimestamp: rtpTimestamp, payloadBytes: payloadBytes, headerBytes: headerBytes, now: now, inOrder: false)
            return true
        }
        let extended = unwrapper.peek(sequenceNumber)
        let delta = extended - highestExtended
        if delta > Int64(Self.maxDropout) || delta < -Int64(Self.maxMisorder) {
            if probation == sequenceNumber {
                // Two sequential packets after the jump: the sender restarted.
                probation = nil
                restarts &+= 1
                restart(at: sequenceNumber)
                count(rtpTimestamp: rtpTimestamp, payloadBytes: payloadBytes, headerBytes: headerBytes, now: now, inOrder: false)
                return true
            }
            probation = sequenceNumber &+ 1
            stats.packetsDiscarded &+= 1
            return false
        }
        probation = nil
        if delta > 0 {
            advanceWindow(to: extended)
            _ = unwrapper.unwrap(sequenceNumber)
            highestExtended = extended
        } else if isMarked(extended) {
            // Seen already (the window covers more than MAX_MISORDER behind the highest).
            stats.packetsDiscarded &+= 1
            return false
        }
        mark(extended)
        count(rtpTimestamp: rtpTimestamp, payloadBytes: payloadBytes, headerBytes: headerBytes, now: now, inOrder: delta > 0)
        return true
    }

    /// Remembers an SR from this source (its 64-bit NTP timestamp) arriving at `now`.
    public mutating func receivedSenderReport(ntpTimestamp: UInt64, now: UInt64) {
        lastSenderReport = (RtpClock.compactNtp(ntpTimestamp), now)
    }

    /// Remembers an SR from this source arriving at `now`: its NTP timestamp for LSR/DLSR, and
    /// its counts for ``remoteOutbound``.
    public mutating func receivedSenderReport(_ report: RtcpSenderReport, now: UInt64) {
        receivedSenderReport(ntpTimestamp: report.ntpTimestamp, now: now)
        remoteOutbound.record(report)
    }

    /// The report block for our next RR or SR, closing the loss interval (A.3); nil before any
    /// packet arrived.
    public mutating func makeReportBlock(now: UInt64) -> RtcpReportBlock? {
        guard hasReceived else { return nil }
        let expected = highestExtended - baseExtended + 1
        let expectedInterval = expected - expectedPrior
        let receivedInterval = Int64(clamping: receivedSinceBase &- receivedPrior)
        expectedPrior = expected
        receivedPrior = receivedSinceBase
        let lostInterval = expectedInterval - receivedInterval
        var fraction: UInt8 = 0
        if expectedInterval > 0, lostInterval > 0 {
            fraction = UInt8(clamping: (lostInterval << 8) / expectedInterval)
        }
        var lsr: UInt32 = 0
        var dlsr: UInt32 = 0
        if let last = lastSenderReport {
            lsr = last.compact
            dlsr = now >= last.arrival ? RtpClock.compact(nanoseconds: now - last.arrival) : 0
        }
        return RtcpReportBlock(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: Int32(clamping: min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)),
            extendedHighestSequenceNumber: extendedHighestSequenceNumber, jitter: jitter,
            lastSenderReport: lsr, delaySinceLastSenderReport: dlsr)
    }

    /// The W3C inbound-rtp view (nack/pli/fir counts 0: see ``inboundStats(nackGenerator:keyframeRequests:)``).
    public var inboundStats: InboundRtpFigures {
        var out = stats
        out.packetsLost = cumulativeLost
        out.jitter = jitterUnits / Double(clockRate)
        return out
    }

    /// The W3C inbound-rtp view with nackCount from `nackGenerator` and pliCount/firCount from
    /// `keyframeRequests` (the outgoing side of this source's limiter) when given.
    public func inboundStats(nackGenerator: RtpNackGenerator?, keyframeRequests: KeyframeRequestLimiter?) -> InboundRtpFigures {
        var out = inboundStats
        if let nackGenerator { out.nackCount = nackGenerator.counters.nacksSent }
        if let keyframeRequests {
            out.pliCount = keyframeRequests.counters.pliSent
            out.firCount = keyframeRequests.counters.firSent
        }
        return out
    }

    // MARK: - Private

    private mutating func restart(at sequenceNumber: UInt16) {
        unwrapper = RtpSequenceUnwrapper()
        let extended = unwrapper.unwrap(sequenceNumber)
        baseExtended = extended
        highestExtended = extended
        receivedSinceBase = 0
        expectedPrior = 0
        receivedPrior = 0
        for i in window.indices { window[i] = 0 }
        mark(extended)
        jitterBaselineSet = false
    }

    private mutating func count(rtpTimestamp: UInt32, payloadBytes: Int, headerBytes: Int, now: UInt64, inOrder: Bool) {
        receivedSinceBase &+= 1
        stats.packetsReceived &+= 1
        stats.bytesReceived &+= UInt64(clamping: max(payloadBytes, 0))
        stats.headerBytesReceived &+= UInt64(clamping: max(headerBytes, 0))
        if inOrder, jitterBaselineSet {
            // A.8: D = (Rj − Ri) − (Sj − Si); J += (|D| − J) / 16.
            let arrivalDelta = RtpClock.rtpUnits(nanoseconds: RtpClock.difference(now, lastArrival), clockRate: clockRate)
            let sendDelta = Int64(Int32(bitPattern: rtpTimestamp &- lastRtpTimestamp))
            let d = Double(arrivalDelta) - Double(sendDelta)
            let next = jitterUnits + (abs(d) - jitterUnits) / 16
            if next.isFinite, next >= 0 { jitterUnits = min(next, Double(UInt32.max)) }
        }
        if inOrder || !jitterBaselineSet {
            lastArrival = now
            lastRtpTimestamp = rtpTimestamp
            jitterBaselineSet = true
        }
        stats.lastPacketReceivedTime = now
    }

    private func bit(_ extended: Int64) -> (word: Int, mask: UInt64) {
        let index = Int(extended & Int64(Self.windowBits - 1))
        return (index >> 6, 1 << UInt64(index & 63))
    }

    private func isMarked(_ extended: Int64) -> Bool {
        let (word, mask) = bit(extended)
        return window[word] & mask != 0
    }

    private mutating func mark(_ extended: Int64) {
        let (word, mask) = bit(extended)
        window[word] |= mask
    }

    /// Clears the bits of the numbers between the old highest and `extended` (they are new).
    private mutating func advanceWindow(to extended: Int64) {
        let steps = extended - highestExtended
        if steps >= Int64(Self.windowBits) {
            for i in window.indices { window[i] = 0 }
            return
        }
        var n = highestExtended + 1
        while n <= extended {
            let (word, mask) = bit(n)
            window[word] &= ~mask
            n += 1
        }
    }
}
