/// A generic NACK (RFC 4585 §6.2.1; PT 205, FMT 1): lost RTP sequence numbers of one media
/// source, as PID + BLP pairs (a packet id and a bitmask of the 16 that follow it).
public struct RtcpGenericNack: Sendable, Hashable {
    static let format: UInt8 = 1

    /// One FCI entry: `packetId` is lost, and `packetId + i + 1` for every set bit `i` of
    /// `lostBitmask` (sequence numbers wrap).
    public struct Entry: Sendable, Hashable {
        /// PID: the first lost sequence number.
        public var packetId: UInt16
        /// BLP: bit `i` set means `packetId + i + 1` is lost too.
        public var lostBitmask: UInt16

        /// An entry for `packetId` and the following ones in `lostBitmask`.
        public init(packetId: UInt16, lostBitmask: UInt16 = 0) {
            self.packetId = packetId
            self.lostBitmask = lostBitmask
        }

        /// The sequence numbers this entry reports lost, in order.
        public var sequenceNumbers: [UInt16] {
            var out = [packetId]
            for bit in 0..<16 where lostBitmask & (1 << bit) != 0 { out.append(packetId &+ UInt16(bit + 1)) }
            return out
        }
    }

    /// The SSRC of the packet's sender.
    public var senderSsrc: UInt32
    /// The SSRC of the media source the feedback is about.
    public var mediaSsrc: UInt32
    /// At least one entry on the wire (RFC 4585).
    public var entries: [Entry]

    /// A NACK from its wire entries.
    public init(senderSsrc: UInt32, mediaSsrc: UInt32, entries: [Entry]) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
        self.entries = entries
    }

    /// A NACK for exactly the sequence numbers in `lost` (duplicates ignored), with the fewest
    /// entries a greedy cover gives: numbers are ordered around the 16-bit circle starting after
    /// the widest gap (so a set that crosses the wrap stays in order), then each entry takes the
    /// first uncovered number and the next 16.
    public init(senderSsrc: UInt32, mediaSsrc: UInt32, lost: some Sequence<UInt16>) {
        self.init(senderSsrc: senderSsrc, mediaSsrc: mediaSsrc, entries: Self.entries(covering: lost))
    }

    /// Every sequence number reported lost, in wire order, each once.
    public var sequenceNumbers: [UInt16] {
        var seen = Set<UInt16>()
        var out: [UInt16] = []
        for entry in entries {
            for number in entry.sequenceNumbers where seen.insert(number).inserted { out.append(number) }
        }
        return out
    }

    static func entries(covering lost: some Sequence<UInt16>) -> [Entry] {
        let sorted = Set(lost).sorted()
        guard let first = sorted.first, let last = sorted.last else { return [] }
        // The widest gap between neighbours on the circle; the cover starts after it.
        var start = 0
        var widest = Int(first) + 65_536 - Int(last)
        for i in 1..<max(sorted.count, 1) where Int(sorted[i] - sorted[i - 1]) > widest {
            widest = Int(sorted[i] - sorted[i - 1])
            start = i
        }
        let ordered = Array(sorted[start...] + sorted[..<start])
        var out: [Entry] = []
        var i = 0
        while i < ordered.count {
            var entry = Entry(packetId: ordered[i])
            var j = i + 1
            while j < ordered.count {
                let step = ordered[j] &- entry.packetId
                guard (1...16).contains(step) else { break }
                entry.lostBitmask |= 1 << (step - 1)
                j += 1
            }
            out.append(entry)
            i = j
        }
        return out
    }

    init(body r: inout RtpWireReader) throws(RtpError) {
        senderSsrc = try r.u32("feedback SSRCs")
        mediaSsrc = try r.u32("feedback SSRCs")
        guard r.remaining >= 4, r.remaining % 4 == 0 else {
            throw RtpError(.badLength, field: "NACK FCI", reason: "\(r.remaining) bytes is not one or more 4-byte entries")
        }
        entries = []
        entries.reserveCapacity(r.remaining / 4)
        while r.remaining > 0 {
            entries.append(Entry(packetId: try r.u16("NACK FCI"), lostBitmask: try r.u16("NACK FCI")))
        }
    }

    /// The wire form. Throws for an empty entry list (RFC 4585 requires one).
    public func serialized() throws(RtpError) -> [UInt8] {
        guard !entries.isEmpty else { throw RtpError(.invalidValue, field: "NACK FCI", reason: "no entries") }
        var w = RtpWireWriter(capacity: 8 + 4 * entries.count)
        w.u32(senderSsrc)
        w.u32(mediaSsrc)
        for entry in entries {
            w.u16(entry.packetId)
            w.u16(entry.lostBitmask)
        }
        return try RtcpFraming.frame(count: Self.format, type: RtcpPacket.PacketType.transportFeedback, body: w.bytes, field: "NACK")
    }
}
