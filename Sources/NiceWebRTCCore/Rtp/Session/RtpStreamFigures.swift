/// W3C `RTCInboundRtpStreamStats` (webrtc-stats): what we received from one remote SSRC.
public struct InboundRtpFigures: Sendable, Hashable {
    /// The remote source.
    public var ssrc: UInt32
    /// Packets received (duplicates not counted).
    public var packetsReceived: UInt64 = 0
    /// Payload bytes received (RFC 3550 §6.4.1 octets: no header, no padding).
    public var bytesReceived: UInt64 = 0
    /// Header and padding bytes received.
    public var headerBytesReceived: UInt64 = 0
    /// Packets lost (RFC 3550 A.3: expected − received; negative with duplicates beyond the window).
    public var packetsLost: Int64 = 0
    /// Interarrival jitter in seconds (RFC 3550 A.8).
    public var jitter: Double = 0
    /// Packets discarded: duplicates, and packets dropped while a sequence jump was on probation.
    public var packetsDiscarded: UInt64 = 0
    /// NACK packets we sent for this source.
    public var nackCount: UInt64 = 0
    /// PLI packets we sent for this source.
    public var pliCount: UInt64 = 0
    /// FIR packets we sent for this source.
    public var firCount: UInt64 = 0
    /// When the last packet arrived (the caller's monotonic clock, nanoseconds), if any.
    public var lastPacketReceivedTime: UInt64?

    /// Empty statistics for `ssrc`.
    public init(ssrc: UInt32) { self.ssrc = ssrc }
}

/// W3C `RTCOutboundRtpStreamStats`: what we sent on one local SSRC.
public struct OutboundRtpFigures: Sendable, Hashable {
    /// The local source.
    public var ssrc: UInt32
    /// Packets sent, retransmissions included.
    public var packetsSent: UInt64 = 0
    /// Payload bytes sent, retransmissions included.
    public var bytesSent: UInt64 = 0
    /// Header and padding bytes sent.
    public var headerBytesSent: UInt64 = 0
    /// Packets sent again in answer to a NACK.
    public var retransmittedPacketsSent: UInt64 = 0
    /// Payload bytes of those packets.
    public var retransmittedBytesSent: UInt64 = 0
    /// NACK packets received about this source.
    public var nackCount: UInt64 = 0
    /// PLI packets received about this source.
    public var pliCount: UInt64 = 0
    /// FIR packets received about this source.
    public var firCount: UInt64 = 0

    /// Empty statistics for `ssrc`.
    public init(ssrc: UInt32) { self.ssrc = ssrc }
}

/// W3C `RTCRemoteInboundRtpStreamStats`: what the peer's receiver reports say about one of our
/// sources.
public struct RemoteInboundRtpFigures: Sendable, Hashable {
    /// Our source the peer reports on.
    public var ssrc: UInt32
    /// The peer's cumulative count of our packets lost.
    public var packetsLost: Int64 = 0
    /// The fraction lost in the peer's last report interval (0…1).
    public var fractionLost: Double = 0
    /// The peer's interarrival jitter for our stream, in seconds.
    public var jitter: Double = 0
    /// The last round-trip time from LSR/DLSR, in seconds; nil until measured.
    public var roundTripTime: Double?
    /// The sum of every round-trip time measured, in seconds.
    public var totalRoundTripTime: Double = 0
    /// How many round-trip times were measured.
    public var roundTripTimeMeasurements: UInt64 = 0
    /// Receiver report blocks about this source that arrived.
    public var reportsReceived: UInt64 = 0

    /// Empty statistics for `ssrc`.
    public init(ssrc: UInt32) { self.ssrc = ssrc }
}

/// W3C `RTCRemoteOutboundRtpStreamStats`: what the peer's sender reports say about one of the
/// sources we receive.
public struct RemoteOutboundRtpFigures: Sendable, Hashable {
    /// The peer's source the reports are about.
    public var ssrc: UInt32
    /// The last SR's NTP timestamp as milliseconds since 1970 (the peer's clock); nil before one.
    public var remoteTimestamp: Double?
    /// Packets the peer says it sent (the SR packet count, its 32-bit wraps unwrapped).
    public var packetsSent: UInt64 = 0
    /// Payload bytes the peer says it sent (the SR octet count, its 32-bit wraps unwrapped).
    public var bytesSent: UInt64 = 0
    /// Sender reports about this source that arrived.
    public var reportsSent: UInt64 = 0

    /// Empty statistics for `ssrc`.
    public init(ssrc: UInt32) { self.ssrc = ssrc }

    /// Seconds between the NTP era (1900) and the Unix epoch (1970).
    public static let ntpToUnixSeconds: UInt64 = 2_208_988_800

    /// Counts one SR from this source: its NTP timestamp, packet and octet counts.
    public mutating func record(_ report: RtcpSenderReport) {
        reportsSent &+= 1
        let seconds = Double(report.ntpTimestamp >> 32) - Double(Self.ntpToUnixSeconds)
        let fraction = Double(report.ntpTimestamp & 0xFFFF_FFFF) / 4_294_967_296
        remoteTimestamp = (seconds + fraction) * 1_000
        packetsSent = Self.unwrap(report.packetCount, after: packetsSent, first: reportsSent == 1)
        bytesSent = Self.unwrap(report.octetCount, after: bytesSent, first: reportsSent == 1)
    }

    /// `count` extended to 64 bits next to `previous`: a count below the previous low 32 bits
    /// by more than half the range wrapped; a smaller step back (a reordered SR) is taken as it is.
    static func unwrap(_ count: UInt32, after previous: UInt64, first: Bool) -> UInt64 {
        if first { return UInt64(count) }
        let high = previous & ~0xFFFF_FFFF
        let low = UInt32(truncatingIfNeeded: previous)
        if count < low, low - count > 0x8000_0000 { return (high &+ (1 << 32)) | UInt64(count) }
        if count > low, count - low > 0x8000_0000, high > 0 { return (high &- (1 << 32)) | UInt64(count) }
        return high | UInt64(count)
    }
}
