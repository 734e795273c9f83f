/// A bounded ring of the packets one local track wrote, shared by every sender of the track
/// (issue 20: "NACKs are answered from a per-stream packet cache").
///
/// A server forwarding one stream to many viewers keeps each written packet once here instead of
/// once per sender: a sender's ``RtpSendHistory`` keeps, per sequence number, only an
/// ``RtpSharedPacket`` (the write index and how the sender rewrote it), and a NACK is answered by
/// rewriting the stored packet again for that sender.
///
/// Packets are numbered by a write index (0, 1, 2, … never reused); slots are indexed by it
/// modulo ``capacity`` (a power of two), so ``append(_:)`` and ``packet(at:)`` are O(1). The
/// stored bytes stay at most ``maxBytes`` by evicting the oldest packets first. A packet is found
/// while it is among the last ``capacity`` writes and not evicted for bytes.
public struct RtpTrackHistory: Sendable {
    /// What happened so far.
    public struct Counters: Sendable, Hashable {
        /// Packets stored.
        public var appended: UInt64 = 0
        /// Packets not stored because they exceed ``RtpTrackHistory/maxBytes`` alone.
        public var oversizedDropped: UInt64 = 0
        /// Packets evicted before their slot was reused, to stay within the byte bound.
        public var evictedForBytes: UInt64 = 0
        /// Lookups answered.
        public var hits: UInt64 = 0
        /// Lookups for a packet no longer (or never) held: older than the ring, evicted, dropped.
        public var misses: UInt64 = 0
    }

    private struct Slot: Sendable {
        var index: UInt64
        var packet: RtpPacket
        var size: Int
    }

    /// The number of slots (a power of two, 1…32768).
    public let capacity: Int
    /// The most bytes (payload, CSRCs and a 12-byte header per packet) held at once.
    public let maxBytes: Int
    private var slots: [Slot?]
    /// The write index the next packet gets.
    public private(set) var nextIndex: UInt64 = 0
    /// No packet older than this is held.
    private var oldest: UInt64 = 0
    /// The bytes held now.
    public private(set) var storedBytes = 0
    /// The number of packets held now.
    public private(set) var count = 0
    /// What happened so far.
    public private(set) var counters = Counters()

    /// A ring of `capacity` slots (rounded up to a power of two, clamped to 1…32768) holding at
    /// most `maxBytes` bytes (at least one 1,500-byte packet's worth).
    public init(capacity: Int = 512, maxBytes: Int = 1 << 20) {
        self.capacity = RtpHistorySize.slots(capacity)
        self.maxBytes = RtpHistorySize.bytes(maxBytes)
        slots = Array(repeating: nil, count: self.capacity)
    }

    /// The bytes a packet is counted for.
    static func size(of packet: RtpPacket) -> Int { 12 + 4 * packet.csrcs.count + packet.payload.count }

    /// Stores `packet` (its header extensions dropped: every sender writes its own) and returns
    /// its write index, or nil (nothing stored, counted) when it alone exceeds ``maxBytes``.
    public mutating func append(_ packet: RtpPacket) -> UInt64? {
        var packet = packet
        packet.headerExtension = nil
        let size = Self.size(of: packet)
        guard size <= maxBytes else {
            counters.oversizedDropped &+= 1
            return nil
        }
        let index = nextIndex
        nextIndex &+= 1
        let window = UInt64(capacity)
        if index >= window, oldest < index - window + 1 { oldest = index - window + 1 }
        let slot = self.slot(index)
        if let old = slots[slot] {
            storedBytes -= old.size
            count -= 1
            slots[slot] = nil
        }
        // Evict from the oldest end; at most `capacity` steps.
        var steps = 0
        while storedBytes + size > maxBytes, oldest < index, steps < capacity {
            let i = self.slot(oldest)
            if let old = slots[i], old.index == oldest {
                storedBytes -= old.size
                count -= 1
                slots[i] = nil
                counters.evictedForBytes &+= 1
            }
            oldest += 1
            steps += 1
        }
        slots[slot] = Slot(index: index, packet: packet, size: size)
        storedBytes += size
        count += 1
        counters.appended &+= 1
        return index
    }

    /// The packet written with write index `index`, if still held (counted as a hit or a miss).
    public mutating func packet(at index: UInt64) -> RtpPacket? {
        guard index < nextIndex, index >= oldest, let entry = slots[slot(index)], entry.index == index else {
            counters.misses &+= 1
            return nil
        }
        counters.hits &+= 1
        return entry.packet
    }

    private func slot(_ index: UInt64) -> Int { Int(truncatingIfNeeded: index) & (capacity - 1) }
}

/// Where a sender finds a packet a shared ``RtpTrackHistory`` keeps (the runtime's per-track
/// store: an object with its own lock, so any thread may ask).
public protocol RtpPacketStore: AnyObject, Sendable {
    /// The packet written with `index`, if still held.
    func packet(at index: UInt64) -> RtpPacket?
}

/// How one sender rewrites a track's packet (``RtpRewrite/apply(to:ssrc:sequenceNumber:transportSequence:)``):
/// the sender's payload type and header extensions. The SSRC and sequence number are the sender's.
public struct RtpRewrite: Sendable, Hashable {
    /// The payload type negotiated for the track's codec.
    public var payloadType: UInt8
    /// The negotiated `sdes:mid` extension id (nil: none is written).
    public var midExtensionId: UInt8?
    /// The section's mid.
    public var mid: String
    /// The negotiated transport-wide-cc extension id (nil: none is written).
    public var transportCcExtensionId: UInt8?

    /// A rewrite.
    public init(payloadType: UInt8, midExtensionId: UInt8?, mid: String, transportCcExtensionId: UInt8?) {
        self.payloadType = payloadType
        self.midExtensionId = midExtensionId
        self.mid = mid
        self.transportCcExtensionId = transportCcExtensionId
    }

    /// Rewrites `packet` for the sender: `ssrc`, the payload type, `sequenceNumber`, and only the
    /// mid and transport-wide-cc extensions (the latter carrying `transportSequence`). The
    /// timestamp, marker, CSRCs and payload are kept. Returns whether the transport-wide
    /// sequence number was written (the caller then advances its counter).
    @discardableResult
    public func apply(to packet: inout RtpPacket, ssrc: UInt32, sequenceNumber: UInt16, transportSequence: UInt16) -> Bool {
        packet.ssrc = ssrc
        packet.payloadType = payloadType
        packet.sequenceNumber = sequenceNumber
        packet.headerExtension = nil
        if let midExtensionId {
            do throws(RtpError) { try packet.setExtension(id: midExtensionId, value: Array(mid.utf8)) } catch {}
        }
        guard let transportCcExtensionId else { return false }
        do throws(RtpError) {
            try packet.setExtension(
                id: transportCcExtensionId, value: [UInt8(transportSequence >> 8), UInt8(truncatingIfNeeded: transportSequence)])
            return true
        } catch {
            return false
        }
    }
}

/// Where a sender's shared packets are and how it rewrites them: the track's store (held weakly:
/// the history goes with its track) and the sender's ``RtpRewrite``. A sender makes one while both
/// stay the same, so each ``RtpSharedPacket`` of its history is a reference and an index.
public final class RtpSharedSource: Sendable {
    /// The track's store (nil once the track is gone).
    public weak let store: (any RtpPacketStore)?
    /// How the sender rewrites the packets.
    public let rewrite: RtpRewrite

    /// A source for the packets of `store`, rewritten with `rewrite`.
    public init(store: any RtpPacketStore, rewrite: RtpRewrite) {
        self.store = store
        self.rewrite = rewrite
    }

    /// Whether it is the source for `store` and `rewrite` (then a sender reuses it).
    public func matches(store: any RtpPacketStore, rewrite: RtpRewrite) -> Bool {
        self.store === store && self.rewrite == rewrite
    }
}

/// What a sender's ``RtpSendHistory`` keeps for a packet of a shared track history: its source
/// (the store and the sender's rewrite) and its write index there; 16 bytes.
public struct RtpSharedPacket: Sendable, Hashable {
    /// The store and the rewrite.
    public let source: RtpSharedSource
    /// The packet's write index in the store.
    public let index: UInt64

    /// A reference to packet `index` of `source`'s store.
    public init(source: RtpSharedSource, index: UInt64) {
        self.source = source
        self.index = index
    }

    /// A reference to packet `index` of `store`, rewritten with `rewrite` (a source of its own).
    public init(store: any RtpPacketStore, index: UInt64, rewrite: RtpRewrite) {
        self.init(source: RtpSharedSource(store: store, rewrite: rewrite), index: index)
    }

    /// The packet as the sender sent it (SSRC `ssrc`, sequence number `sequenceNumber`), its
    /// transport-wide-cc extension (if any) carrying 0 for the caller to renumber; nil when the
    /// store no longer holds it.
    public func serialized(ssrc: UInt32, sequenceNumber: UInt16) -> [UInt8]? {
        guard var packet = source.store?.packet(at: index) else { return nil }
        source.rewrite.apply(to: &packet, ssrc: ssrc, sequenceNumber: sequenceNumber, transportSequence: 0)
        return try? packet.serialized()
    }

    public static func == (lhs: RtpSharedPacket, rhs: RtpSharedPacket) -> Bool {
        lhs.index == rhs.index && lhs.source === rhs.source
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        hasher.combine(ObjectIdentifier(source))
    }
}
