/// Rate limits keyframe requests (PLI, RFC 4585 §6.3.1; FIR, RFC 5104 §4.3.1) for one media
/// source, both ways:
/// - outgoing: ``makePictureLossIndication(senderSsrc:now:)`` and
///   ``makeFullIntraRequest(senderSsrc:now:)`` return a packet at most once per
///   ``minInterval`` (FIR sequence numbers increment per request sent);
/// - incoming: ``receivedPictureLossIndication(now:)`` and
///   ``receivedFullIntraRequest(sequenceNumber:now:)`` surface at most one keyframe request per
///   ``minInterval`` (a FIR repeating the last sequence number is a retransmission, not a new
///   request); the rest are counted.
public struct KeyframeRequestLimiter: Sendable {
    /// What happened so far.
    public struct Counters: Sendable, Hashable {
        /// PLIs we sent (W3C inbound `pliCount`).
        public var pliSent: UInt64 = 0
        /// FIRs we sent (W3C inbound `firCount`).
        public var firSent: UInt64 = 0
        /// Requests we wanted to send but were inside the interval.
        public var outgoingSuppressed: UInt64 = 0
        /// PLIs received (W3C outbound `pliCount`).
        public var pliReceived: UInt64 = 0
        /// FIRs received (W3C outbound `firCount`).
        public var firReceived: UInt64 = 0
        /// Keyframe requests surfaced to the sender.
        public var incomingSurfaced: UInt64 = 0
        /// Incoming requests inside the interval or repeated FIRs, not surfaced.
        public var incomingSuppressed: UInt64 = 0
    }

    /// The media source the requests are about.
    public let mediaSsrc: UInt32
    /// The shortest time between two requests each way, nanoseconds.
    public let minInterval: UInt64
    /// What happened so far.
    public private(set) var counters = Counters()
    private var lastOutgoing: UInt64?
    private var lastIncoming: UInt64?
    private var firSequenceNumber: UInt8 = 0
    private var lastIncomingFirSequence: UInt8?

    /// A limiter for `mediaSsrc` allowing one request per `minInterval` (default 500 ms) each way.
    public init(mediaSsrc: UInt32, minInterval: UInt64 = 500 * RtpClock.millisecond) {
        self.mediaSsrc = mediaSsrc
        self.minInterval = minInterval
    }

    /// Whether an outgoing request may go at `now`; if so, it is counted as sent.
    private mutating func allowOutgoing(now: UInt64) -> Bool {
        if let last = lastOutgoing, now >= last, now - last < minInterval {
            counters.outgoingSuppressed &+= 1
            return false
        }
        lastOutgoing = now
        return true
    }

    /// A PLI asking `mediaSsrc` for a keyframe, or nil inside the interval.
    public mutating func makePictureLossIndication(senderSsrc: UInt32, now: UInt64) -> RtcpPictureLossIndication? {
        guard allowOutgoing(now: now) else { return nil }
        counters.pliSent &+= 1
        return RtcpPictureLossIndication(senderSsrc: senderSsrc, mediaSsrc: mediaSsrc)
    }

    /// A FIR for `mediaSsrc` with the next request sequence number, or nil inside the interval.
    public mutating func makeFullIntraRequest(senderSsrc: UInt32, now: UInt64) -> RtcpFullIntraRequest? {
        guard allowOutgoing(now: now) else { return nil }
        counters.firSent &+= 1
        defer { firSequenceNumber &+= 1 }
        return RtcpFullIntraRequest(senderSsrc: senderSsrc, entries: [.init(ssrc: mediaSsrc, sequenceNumber: firSequenceNumber)])
    }

    /// Counts a PLI about `mediaSsrc`; true when the encoder should make a keyframe now.
    public mutating func receivedPictureLossIndication(now: UInt64) -> Bool {
        counters.pliReceived &+= 1
        return allowIncoming(now: now)
    }

    /// Counts a FIR entry for `mediaSsrc`; true when the encoder should make a keyframe now.
    public mutating func receivedFullIntraRequest(sequenceNumber: UInt8, now: UInt64) -> Bool {
        counters.firReceived &+= 1
        if lastIncomingFirSequence == sequenceNumber {
            counters.incomingSuppressed &+= 1
            return false
        }
        lastIncomingFirSequence = sequenceNumber
        return allowIncoming(now: now)
    }

    private mutating func allowIncoming(now: UInt64) -> Bool {
        if let last = lastIncoming, now >= last, now - last < minInterval {
            counters.incomingSuppressed &+= 1
            return false
        }
        lastIncoming = now
        counters.incomingSurfaced &+= 1
        return true
    }
}
