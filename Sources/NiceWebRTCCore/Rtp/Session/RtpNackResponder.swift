/// Answers NACKs (RFC 4585 §6.2.1) for one local SSRC from a bounded ``RtpSendHistory``.
///
/// A packet the history keeps as an ``RtpSharedPacket`` is rewritten again from the track's
/// shared ``RtpTrackHistory`` (its transport-wide-cc extension, if any, carrying 0: the session
/// renumbers it); one the track's ring no longer holds is not resent, counted in both
/// ``Counters/packetsNotInHistory`` and ``Counters/packetsNotInTrackHistory``.
///
/// Bounded under a NACK storm: a NACK's first ``Configuration/maxEntriesPerNack`` entries are
/// read (17 sequence numbers each at most), at most ``Configuration/maxPacketsPerNack`` packets
/// come back per NACK, and each packet is resent at most once per
/// `max(minResendInterval, rtt)`, so the same NACK repeated costs nothing more.
public struct RtpNackResponder: Sendable {
    /// Limits.
    public struct Configuration: Sendable, Hashable {
        /// Send-history slots (a power of two).
        public var historyCapacity: Int = 512
        /// Send-history byte bound.
        public var historyMaxBytes: Int = 1 << 20
        /// The shortest time between two resends of one packet, nanoseconds (raised to the RTT
        /// when one is known).
        public var minResendInterval: UInt64 = 10 * RtpClock.millisecond
        /// NACK entries read per NACK; the rest are ignored and counted.
        public var maxEntriesPerNack: Int = 32
        /// Packets resent per NACK at most.
        public var maxPacketsPerNack: Int = 64

        /// The defaults.
        public init() {}
    }

    /// Why a requested packet was not resent.
    public struct Counters: Sendable, Hashable {
        /// NACKs about our SSRC.
        public var nacksReceived: UInt64 = 0
        /// NACKs about another SSRC (ignored).
        public var nacksForOtherSsrc: UInt64 = 0
        /// Sequence numbers asked for.
        public var packetsRequested: UInt64 = 0
        /// Asked for but no longer (or never) in the history.
        public var packetsNotInHistory: UInt64 = 0
        /// Of ``packetsNotInHistory``: still mapped here, but no longer in the track's shared
        /// history (older than its ring, evicted for bytes, or the track is gone).
        public var packetsNotInTrackHistory: UInt64 = 0
        /// Asked for again within the resend interval.
        public var packetsRateLimited: UInt64 = 0
        /// Dropped by the per-NACK entry or packet caps.
        public var packetsOverCap: UInt64 = 0
        /// Packets resent.
        public var packetsResent: UInt64 = 0
        /// Bytes of those packets (serialized RTP).
        public var bytesResent: UInt64 = 0
    }

    /// The SSRC whose packets this answers for.
    public let ssrc: UInt32
    /// The limits.
    public let configuration: Configuration
    /// The packets kept.
    public private(set) var history: RtpSendHistory
    /// What happened so far.
    public private(set) var counters = Counters()

    /// A responder for `ssrc`.
    public init(ssrc: UInt32, configuration: Configuration = Configuration()) {
        self.ssrc = ssrc
        self.configuration = configuration
        history = RtpSendHistory(capacity: configuration.historyCapacity, maxBytes: configuration.historyMaxBytes)
    }

    /// Keeps a packet just sent (its serialized RTP bytes, before SRTP).
    public mutating func recordSent(sequenceNumber: UInt16, bytes: [UInt8], now: UInt64) {
        history.record(sequenceNumber: sequenceNumber, bytes: bytes, now: now)
    }

    /// Keeps a packet just sent whose original a track's shared history holds.
    public mutating func recordSent(sequenceNumber: UInt16, shared: RtpSharedPacket, now: UInt64) {
        history.record(sequenceNumber: sequenceNumber, shared: shared, now: now)
    }

    /// The packets to send again for `nack` (serialized RTP, in the NACK's order), marking them
    /// resent at `now`. `roundTripTime` (nanoseconds), when known, widens the resend interval.
    public mutating func respond(to nack: RtcpGenericNack, now: UInt64, roundTripTime: UInt64? = nil) -> [[UInt8]] {
        guard nack.mediaSsrc == ssrc else {
            counters.nacksForOtherSsrc &+= 1
            return []
        }
        counters.nacksReceived &+= 1
        let interval = max(configuration.minResendInterval, roundTripTime ?? 0)
        var out: [[UInt8]] = []
        for (index, entry) in nack.entries.enumerated() {
            let asked = UInt64(1 + entry.lostBitmask.nonzeroBitCount)
            counters.packetsRequested &+= asked
            guard index < configuration.maxEntriesPerNack else {
                counters.packetsOverCap &+= asked
                continue
            }
            for number in entry.sequenceNumbers {
                guard out.count < configuration.maxPacketsPerNack else {
                    counters.packetsOverCap &+= 1
                    continue
                }
                guard let sent = history.lookup(number) else {
                    counters.packetsNotInHistory &+= 1
                    continue
                }
                if let last = sent.lastResentAt, now >= last, now - last < interval {
                    counters.packetsRateLimited &+= 1
                    continue
                }
                var bytes = sent.bytes
                if let shared = sent.shared {
                    guard let rewritten = shared.serialized(ssrc: ssrc, sequenceNumber: number) else {
                        counters.packetsNotInHistory &+= 1
                        counters.packetsNotInTrackHistory &+= 1
                        continue
                    }
                    bytes = rewritten
                }
                history.markResent(number, now: now)
                counters.packetsResent &+= 1
                counters.bytesResent &+= UInt64(bytes.count)
                out.append(bytes)
            }
        }
        return out
    }
}
