/// Decides which packets of one remote SSRC to NACK (RFC 4585 §6.2.1), as pion's and
/// libwebrtc's NACK modules do: numbers skipped by an arrival become missing; a missing number
/// is asked for once it has been missing for ``Configuration/reorderDelay``, again at most
/// every `max(minRetryInterval, rtt)`, at most ``Configuration/maxRetries`` times, and given up
/// after ``Configuration/maxAge``. Its arrival cancels it.
///
/// Bounded: at most ``Configuration/maxMissing`` numbers are tracked; when more go missing the
/// oldest are given up and ``keyframeNeeded`` is raised (the decoder will need a keyframe). A
/// jump of more than ``Configuration/maxJump`` restarts the tracking (and raises it too).
public struct RtpNackGenerator: Sendable {
    /// Limits and timings (nanoseconds).
    public struct Configuration: Sendable, Hashable {
        /// How long a number must be missing before the first NACK (reordering tolerance).
        public var reorderDelay: UInt64 = 10 * RtpClock.millisecond
        /// The shortest time between two NACKs of one number (raised to the RTT when known).
        public var minRetryInterval: UInt64 = 20 * RtpClock.millisecond
        /// NACKs per number at most.
        public var maxRetries: Int = 10
        /// A number missing longer than this is given up.
        public var maxAge: UInt64 = RtpClock.second
        /// Missing numbers tracked at most.
        public var maxMissing: Int = 256
        /// A forward jump larger than this restarts the tracking.
        public var maxJump: Int = RtpReceiveStatistics.maxDropout

        /// The defaults.
        public init() {}
    }

    /// What happened so far.
    public struct Counters: Sendable, Hashable {
        /// NACK packets built (W3C inbound `nackCount`).
        public var nacksSent: UInt64 = 0
        /// Sequence numbers asked for, retries included.
        public var numbersRequested: UInt64 = 0
        /// Missing packets that arrived after a NACK for them.
        public var recovered: UInt64 = 0
        /// Missing packets that arrived before any NACK (reordered).
        public var reordered: UInt64 = 0
        /// Missing packets given up (too old, too many retries, or list overflow).
        public var givenUp: UInt64 = 0
        /// Times the tracking restarted after a large jump.
        public var restarts: UInt64 = 0
    }

    private struct Missing: Sendable {
        var extended: Int64
        var since: UInt64
        var lastSent: UInt64?
        var retries: Int
    }

    /// The SSRC our NACKs are sent from.
    public var senderSsrc: UInt32
    /// The remote source.
    public let mediaSsrc: UInt32
    /// The limits.
    public let configuration: Configuration
    /// What happened so far.
    public private(set) var counters = Counters()
    /// Raised when packets were given up because the list overflowed or the sequence jumped;
    /// read it with ``takeKeyframeNeeded()``.
    public private(set) var keyframeNeeded = false

    private var unwrapper = RtpSequenceUnwrapper()
    private var highest: Int64?
    /// Ascending by `extended` (numbers only ever join at the top).
    private var missing: [Missing] = []

    /// A generator for `mediaSsrc`, sending from `senderSsrc`.
    public init(senderSsrc: UInt32, mediaSsrc: UInt32, configuration: Configuration = Configuration()) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
        var c = configuration
        c.maxMissing = min(max(c.maxMissing, 1), 4_096)
        c.maxRetries = max(c.maxRetries, 1)
        c.maxJump = max(c.maxJump, 1)
        self.configuration = c
        missing.reserveCapacity(c.maxMissing)
    }

    /// The sequence numbers tracked as missing now, oldest first.
    public var missingSequenceNumbers: [UInt16] { missing.map { UInt16(truncatingIfNeeded: $0.extended) } }

    /// Returns and clears ``keyframeNeeded``.
    public mutating func takeKeyframeNeeded() -> Bool {
        defer { keyframeNeeded = false }
        return keyframeNeeded
    }

    /// Notes an arriving packet (RTX-repaired ones included, by their original number).
    public mutating func received(sequenceNumber: UInt16, now: UInt64) {
        guard let top = highest else {
            highest = unwrapper.unwrap(sequenceNumber)
            return
        }
        let extended = unwrapper.peek(sequenceNumber)
        let delta = extended - top
        if delta <= 0 {
            if let i = index(of: extended) {
                if missing[i].lastSent == nil { counters.reordered &+= 1 } else { counters.recovered &+= 1 }
                missing.remove(at: i)
            }
            return
        }
        _ = unwrapper.unwrap(sequenceNumber)
        highest = extended
        if delta > Int64(configuration.maxJump) {
            counters.givenUp &+= UInt64(missing.count)
            missing.removeAll(keepingCapacity: true)
            counters.restarts &+= 1
            keyframeNeeded = true
            return
        }
        let gap = delta - 1
        guard gap > 0 else { return }
        let limit = Int64(configuration.maxMissing)
        // Only the newest `maxMissing` of a long gap can be tracked; the rest are given up now.
        let skipped = max(gap - limit, 0)
        if skipped > 0 {
            counters.givenUp &+= UInt64(skipped)
            keyframeNeeded = true
        }
        var n = top + 1 + skipped
        while n < extended {
            missing.append(Missing(extended: n, since: now, lastSent: nil, retries: 0))
            n += 1
        }
        let over = missing.count - configuration.maxMissing
        if over > 0 {
            missing.removeFirst(over)
            counters.givenUp &+= UInt64(over)
            keyframeNeeded = true
        }
    }

    /// The NACK to send at `now`, if any number is due; `roundTripTime` (nanoseconds) spaces
    /// the retries when known. Gives up numbers too old or asked for too often.
    public mutating func poll(now: UInt64, roundTripTime: UInt64? = nil) -> RtcpGenericNack? {
        let interval = max(configuration.minRetryInterval, roundTripTime ?? 0)
        var due: [UInt16] = []
        var kept: [Missing] = []
        kept.reserveCapacity(missing.count)
        for var item in missing {
            let age = now >= item.since ? now - item.since : 0
            if age > configuration.maxAge || item.retries >= configuration.maxRetries {
                counters.givenUp &+= 1
                continue
            }
            let isDue: Bool
            if let last = item.lastSent {
                isDue = now < last || now - last >= interval
            } else {
                isDue = age >= configuration.reorderDelay
            }
            if isDue {
                item.lastSent = now
                item.retries += 1
                due.append(UInt16(truncatingIfNeeded: item.extended))
            }
            kept.append(item)
        }
        missing = kept
        guard !due.isEmpty else { return nil }
        counters.nacksSent &+= 1
        counters.numbersRequested &+= UInt64(due.count)
        return RtcpGenericNack(senderSsrc: senderSsrc, mediaSsrc: mediaSsrc, lost: due)
    }

    /// The earliest time ``poll(now:roundTripTime:)`` has something to do (a NACK or a give-up),
    /// or nil when nothing is missing.
    public func nextDeadline(roundTripTime: UInt64? = nil) -> UInt64? {
        let interval = max(configuration.minRetryInterval, roundTripTime ?? 0)
        var earliest: UInt64?
        for item in missing {
            let due: UInt64
            if let last = item.lastSent {
                due = min(last &+ interval, item.since &+ configuration.maxAge &+ 1)
            } else {
                due = item.since &+ configuration.reorderDelay
            }
            earliest = min(earliest ?? due, due)
        }
        return earliest
    }

    private func index(of extended: Int64) -> Int? {
        var low = 0
        var high = missing.count
        while low < high {
            let mid = (low + high) / 2
            if missing[mid].extended < extended { low = mid + 1 } else { high = mid }
        }
        return low < missing.count && missing[low].extended == extended ? low : nil
    }
}
