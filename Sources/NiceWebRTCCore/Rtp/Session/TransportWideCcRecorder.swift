/// The receiver's half of transport-wide congestion control
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01): records the arrival time of every RTP
/// packet by its 16-bit transport-wide sequence number and turns what arrived since the last
/// report into ``RtcpTransportWideCc`` feedback, as libwebrtc's RemoteEstimatorProxy and pion's
/// `interceptor/pkg/twcc` do. The sender's bandwidth estimator needs these reports to grow.
///
/// ```swift
/// var recorder = TransportWideCcRecorder()
/// recorder.record(sequenceNumber: 17, arrival: now)   // for each packet, monotonic ns
/// for feedback in recorder.makeFeedback(senderSsrc: ours, mediaSsrc: theirs) {
///     send(try feedback.serialized())                  // every ~100 ms while packets arrive
/// }
/// ```
///
/// **Bounds.** Arrivals live in a ring of ``Limits/window`` slots tagged with their unwrapped
/// sequence number (allocated on the first packet): a packet older than the window is dropped
/// and counted, a jump forward slides the window (forgetting what falls out), a duplicate is
/// counted and ignored — so a hostile spray of sequence numbers costs constant memory and
/// constant time per packet. A packet arriving late (below what was already reported) moves the
/// report start back, so it is reported in the next feedback (the sender accepts repeats).
/// Each feedback is at most ``Limits/maximumFeedbackBytes`` on the wire and a delta that does
/// not fit 16 bits (8 s) starts a new one; one ``makeFeedback(senderSsrc:mediaSsrc:)`` call
/// returns at most ``Limits/maximumFeedbackPackets`` packets (the rest waits for the next).
public struct TransportWideCcRecorder: Sendable {
    /// Memory and size limits.
    public struct Limits: Sendable, Hashable {
        /// Sequence numbers remembered (the window's span).
        public var window: Int
        /// Largest serialized feedback packet, bytes (at least 64).
        public var maximumFeedbackBytes: Int
        /// Feedback packets one ``TransportWideCcRecorder/makeFeedback(senderSsrc:mediaSsrc:)`` returns at most.
        public var maximumFeedbackPackets: Int

        /// Limits; the defaults remember 2048 sequence numbers (32 KiB), keep feedback under a
        /// typical MTU and send at most 8 packets per call.
        public init(window: Int = 2048, maximumFeedbackBytes: Int = 1200, maximumFeedbackPackets: Int = 8) {
            self.window = max(window, 1)
            self.maximumFeedbackBytes = max(maximumFeedbackBytes, 64)
            self.maximumFeedbackPackets = max(maximumFeedbackPackets, 1)
        }
    }

    /// What the recorder dropped or built.
    public struct Counters: Sendable, Hashable {
        /// Packets recorded.
        public var recorded: UInt64 = 0
        /// Packets whose sequence number was already recorded.
        public var duplicates: UInt64 = 0
        /// Packets older than the window.
        public var tooOld: UInt64 = 0
        /// Feedback packets built.
        public var feedbackPackets: UInt64 = 0
    }

    struct Slot: Sendable, Hashable {
        var sequence: Int64 = .min
        var arrival: UInt64 = 0
    }

    /// 64 ms: the reference time's unit, in nanoseconds.
    static let referenceUnit: UInt64 = 64_000_000
    /// 250 µs: the delta tick, in nanoseconds.
    static let tick: UInt64 = 250_000

    /// The limits in force.
    public let limits: Limits
    /// What was dropped or built so far.
    public private(set) var counters = Counters()
    /// The next value of the feedback packet count field.
    public private(set) var feedbackPacketCount: UInt8 = 0

    var slots: [Slot] = []
    var unwrapper = RtpSequenceUnwrapper()
    /// The window: unwrapped sequence numbers `begin..<end` (empty when equal).
    var begin: Int64 = 0
    var end: Int64 = 0
    /// The first sequence number the next feedback covers.
    var reportFrom: Int64 = 0
    var pending = false

    /// A recorder with nothing recorded.
    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Whether packets arrived that no feedback reported yet.
    public var hasPendingFeedback: Bool { pending }

    /// Sequence numbers the window spans now (at most ``Limits/window``).
    public var windowSpan: Int { Int(end - begin) }

    /// Records the arrival of the packet with transport-wide `sequenceNumber` at `arrival`
    /// (monotonic nanoseconds).
    public mutating func record(sequenceNumber: UInt16, arrival: UInt64) {
        if slots.isEmpty { slots = Array(repeating: Slot(), count: limits.window) }
        let sequence = unwrapper.peek(sequenceNumber)
        if end == begin {
            begin = sequence
            end = sequence
            reportFrom = sequence
        }
        guard sequence >= begin else {
            counters.tooOld &+= 1
            return
        }
        let index = slotIndex(sequence)
        if sequence < end, slots[index].sequence == sequence {
            counters.duplicates &+= 1
            return
        }
        _ = unwrapper.unwrap(sequenceNumber)
        slots[index] = Slot(sequence: sequence, arrival: arrival)
        if sequence >= end {
            end = sequence + 1
            if end - begin > Int64(limits.window) { begin = end - Int64(limits.window) }
        }
        reportFrom = max(min(reportFrom, sequence), begin)
        counters.recorded &+= 1
        pending = true
    }

    /// Feedback for everything recorded since the last call (and late arrivals below it), split
    /// by the size and delta bounds; empty when nothing is pending. Advances the feedback count.
    public mutating func makeFeedback(senderSsrc: UInt32, mediaSsrc: UInt32) -> [RtcpTransportWideCc] {
        var out: [RtcpTransportWideCc] = []
        var from = max(reportFrom, begin)
        while from < end, out.count < limits.maximumFeedbackPackets {
            guard let base = firstReceived(from: from) else {
                from = end
                break
            }
            guard let (feedback, next) = feedback(base: base, senderSsrc: senderSsrc, mediaSsrc: mediaSsrc) else {
                from = end
                break
            }
            out.append(feedback)
            feedbackPacketCount &+= 1
            counters.feedbackPackets &+= 1
            from = next
        }
        reportFrom = from
        pending = from < end
        return out
    }

    func slotIndex(_ sequence: Int64) -> Int {
        let window = Int64(limits.window)
        return Int(((sequence % window) + window) % window)
    }

    func arrival(_ sequence: Int64) -> UInt64? {
        guard sequence >= begin, sequence < end else { return nil }
        let slot = slots[slotIndex(sequence)]
        return slot.sequence == sequence ? slot.arrival : nil
    }

    func firstReceived(from: Int64) -> Int64? {
        var sequence = max(from, begin)
        while sequence < end {
            if arrival(sequence) != nil { return sequence }
            sequence += 1
        }
        return nil
    }

    /// One feedback from the received packet `base`, and the sequence number after it.
    func feedback(base: Int64, senderSsrc: UInt32, mediaSsrc: UInt32) -> (RtcpTransportWideCc, Int64)? {
        guard let first = arrival(base) else { return nil }
        let referenceUnits = first / Self.referenceUnit
        // 64 ms is exactly 256 ticks: the first delta is 0…255.
        var last = Int64(referenceUnits) * 256
        var deltas: [Int?] = []
        var deltaBytes = 0
        var lastReceivedCount = 0
        var sequence = base
        while sequence < end, deltas.count < Int(UInt16.max) {
            // Upper bound of the wire size with one more status: header 20, chunks (each covers
            // at least 7 statuses but the last), deltas, padding 3.
            let statuses = deltas.count + 1
            var cost = 0
            var tick: Int64?
            if let arrived = arrival(sequence) {
                let t = Int64(arrived / Self.tick)
                guard Int16(exactly: t - last) != nil else { break }
                tick = t
                cost = (0...255).contains(t - last) ? 1 : 2
            }
            let bound = 20 + 2 * (statuses / 7 + 2) + deltaBytes + cost + 3
            guard bound <= limits.maximumFeedbackBytes else { break }
            if let tick {
                deltas.append(Int(tick - last))
                last = tick
                deltaBytes += cost
                lastReceivedCount = deltas.count
            } else {
                deltas.append(nil)
            }
            sequence += 1
        }
        // End on a received packet: a trailing gap is left to the next feedback.
        deltas.removeLast(deltas.count - lastReceivedCount)
        guard !deltas.isEmpty,
            let feedback = try? RtcpTransportWideCc(
                senderSsrc: senderSsrc, mediaSsrc: mediaSsrc, baseSequenceNumber: UInt16(truncatingIfNeeded: base),
                referenceTime: UInt32(referenceUnits & 0xFF_FFFF), feedbackPacketCount: feedbackPacketCount, receiveDeltas: deltas)
        else { return nil }
        return (feedback, base + Int64(deltas.count))
    }
}
