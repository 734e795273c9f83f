/// A bounded ring of the RTP packets we sent on one SSRC, kept to answer NACKs (RFC 4585).
///
/// An entry holds either the packet's bytes (a packet made for this sender alone, as a
/// packetized frame) or an ``RtpSharedPacket``: where a track's shared ``RtpTrackHistory`` keeps
/// the packet and how this sender rewrote it (16 bytes; shared entries count 0 bytes toward
/// ``maxBytes``).
///
/// Slots are indexed by sequence number modulo ``capacity`` (a power of two), so ``record(_:)``
/// and ``lookup(_:)`` are O(1); the total of the stored bytes stays at most ``maxBytes`` by
/// evicting the oldest packets first. A packet is found only while it is among the last
/// ``capacity`` sequence numbers behind the newest one (wrap-aware).
public struct RtpSendHistory: Sendable {
    /// One sent packet.
    public struct Entry: Sendable, Hashable {
        /// Its sequence number.
        public var sequenceNumber: UInt16
        /// The serialized RTP packet (before SRTP protection); empty for a shared packet.
        public var bytes: [UInt8]
        /// The packet in a track's shared history, when it is kept there instead of in ``bytes``.
        public var shared: RtpSharedPacket?
        /// When it was first sent (the caller's monotonic clock, nanoseconds).
        public var sentAt: UInt64
        /// When it was last sent again in answer to a NACK, if ever.
        public var lastResentAt: UInt64?
        /// How many times it was sent again.
        public var resendCount: UInt32 = 0
    }

    /// The number of slots (a power of two, 1…32768).
    public let capacity: Int
    /// The most bytes the history holds at once.
    public let maxBytes: Int
    private var slots: [Entry?]
    private var newest: UInt16?
    private var oldestCursor: UInt16 = 0
    /// The bytes held now.
    public private(set) var storedBytes = 0
    /// Packets not stored because they exceed ``maxBytes`` (alone, or with newer ones kept).
    public private(set) var oversizedDropped: UInt64 = 0

    /// A history of `capacity` slots (rounded up to a power of two, clamped to 1…32768) holding
    /// at most `maxBytes` bytes (at least one 1,500-byte packet's worth).
    public init(capacity: Int = 512, maxBytes: Int = 1 << 20) {
        self.capacity = RtpHistorySize.slots(capacity)
        self.maxBytes = RtpHistorySize.bytes(maxBytes)
        slots = Array(repeating: nil, count: self.capacity)
    }

    /// The number of packets held now.
    public private(set) var count = 0

    /// Stores a sent packet, replacing the one `capacity` numbers before it and evicting the
    /// oldest while the byte bound is exceeded.
    public mutating func record(sequenceNumber: UInt16, bytes: [UInt8], now: UInt64) {
        guard bytes.count <= maxBytes else {
            oversizedDropped &+= 1
            return
        }
        store(Entry(sequenceNumber: sequenceNumber, bytes: bytes, sentAt: now))
    }

    /// Stores a sent packet that a track's shared history keeps (see ``record(sequenceNumber:bytes:now:)``).
    public mutating func record(sequenceNumber: UInt16, shared: RtpSharedPacket, now: UInt64) {
        store(Entry(sequenceNumber: sequenceNumber, bytes: [], shared: shared, sentAt: now))
    }

    private mutating func store(_ entry: Entry) {
        let sequenceNumber = entry.sequenceNumber
        let bytes = entry.bytes
        if let newest {
            let ahead = RtpSequenceNumber.distance(from: newest, to: sequenceNumber)
            // Older than the window: it could never be found.
            if ahead <= -capacity { return }
            // A jump further than the ring: everything held is out of the window.
            if ahead >= capacity { clear() }
        }
        if newest == nil || RtpSequenceNumber.isNewer(sequenceNumber, than: newest ?? 0) {
            newest = sequenceNumber
        }
        let windowStart = (newest ?? sequenceNumber) &- UInt16(capacity - 1)
        if storedBytes == 0 || RtpSequenceNumber.isNewer(oldestCursor, than: sequenceNumber) {
            oldestCursor = sequenceNumber
        } else if RtpSequenceNumber.isNewer(windowStart, than: oldestCursor) {
            oldestCursor = windowStart
        }
        let index = slot(sequenceNumber)
        if let old = slots[index] {
            storedBytes -= old.bytes.count
            count -= 1
            slots[index] = nil
        }
        // Evict from the oldest end; at most `capacity` steps.
        var steps = 0
        while storedBytes + bytes.count > maxBytes, steps < capacity {
            let i = slot(oldestCursor)
            // The slot holds the cursor's packet or an older one skipped over: both go.
            if let old = slots[i] {
                storedBytes -= old.bytes.count
                count -= 1
                slots[i] = nil
            }
            oldestCursor &+= 1
            steps += 1
        }
        guard storedBytes + bytes.count <= maxBytes else {
            oversizedDropped &+= 1
            return
        }
        slots[index] = entry
        storedBytes += bytes.count
        count += 1
    }

    /// The packet sent with `sequenceNumber`, if still held.
    public func lookup(_ sequenceNumber: UInt16) -> Entry? {
        guard let newest else { return nil }
        let behind = RtpSequenceNumber.distance(from: sequenceNumber, to: newest)
        guard behind >= 0, behind < capacity, let entry = slots[slot(sequenceNumber)],
            entry.sequenceNumber == sequenceNumber
        else { return nil }
        return entry
    }

    /// Notes that the packet was sent again at `now`.
    mutating func markResent(_ sequenceNumber: UInt16, now: UInt64) {
        let i = slot(sequenceNumber)
        guard var entry = slots[i], entry.sequenceNumber == sequenceNumber else { return }
        entry.lastResentAt = now
        entry.resendCount &+= 1
        slots[i] = entry
    }

    /// Forgets every packet.
    public mutating func clear() {
        for i in slots.indices { slots[i] = nil }
        storedBytes = 0
        count = 0
        newest = nil
    }

    private func slot(_ sequenceNumber: UInt16) -> Int { Int(sequenceNumber) & (capacity - 1) }
}
