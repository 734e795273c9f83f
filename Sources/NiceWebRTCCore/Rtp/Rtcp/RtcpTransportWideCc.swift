/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1; PT 205, FMT 15): for `packetStatusCount` transport-wide sequence numbers from
/// `baseSequenceNumber`, whether each arrived and, for those that did, the receive delta.
///
/// Kept in wire form — the status chunks and the deltas — so a packet's memory is proportional
/// to its bytes however large a status count it claims; ``packets`` expands it on request and
/// ``init(senderSsrc:mediaSsrc:baseSequenceNumber:referenceTime:feedbackPacketCount:receiveDeltas:)``
/// builds one from arrivals.
public struct RtcpTransportWideCc: Sendable, Hashable {
    static let format: UInt8 = 15
    /// A run-length chunk's longest run (13 bits).
    public static let maximumRunLength: UInt16 = 8191
    /// One delta tick: 250 µs.
    public static let deltaTickMicroseconds = 250

    /// A packet status symbol.
    public enum Status: UInt8, Sendable, Hashable {
        case notReceived = 0
        /// Received; a 1-byte unsigned delta follows (0…255 ticks).
        case receivedSmallDelta = 1
        /// Received; a 2-byte signed delta follows.
        case receivedLargeDelta = 2
        /// The draft's reserved symbol (pion reads it as "received without delta"): no delta.
        case reserved = 3

        var hasDelta: Bool { self == .receivedSmallDelta || self == .receivedLargeDelta }
    }

    /// A packet status chunk (2 bytes on the wire).
    public enum Chunk: Sendable, Hashable {
        /// T=0: `count` (0…8191) packets with one status.
        case runLength(Status, count: UInt16)
        /// T=1, S=0: exactly 14 statuses, each ``Status/notReceived`` or ``Status/receivedSmallDelta``.
        case oneBitVector([Status])
        /// T=1, S=1: exactly 7 statuses.
        case twoBitVector([Status])

        /// How many statuses the chunk carries.
        public var statusCount: Int {
            switch self {
            case .runLength(_, let count): Int(count)
            case .oneBitVector: 14
            case .twoBitVector: 7
            }
        }
    }

    /// One expanded entry of ``packets``.
    public struct Packet: Sendable, Hashable {
        /// The transport-wide sequence number.
        public var sequenceNumber: UInt16
        /// Whether and how it was received.
        public var status: Status
        /// Receive delta in 250 µs ticks, for received packets.
        public var delta: Int16?
    }

    /// The SSRC of the packet's sender.
    public var senderSsrc: UInt32
    /// The SSRC of the media source the feedback is about.
    public var mediaSsrc: UInt32
    /// The transport-wide sequence number of the first reported packet.
    public var baseSequenceNumber: UInt16
    /// How many packets are reported, from ``baseSequenceNumber``.
    public var packetStatusCount: UInt16
    /// 24 bits, in multiples of 64 ms.
    public var referenceTime: UInt32
    /// Incremented for each feedback packet sent.
    public var feedbackPacketCount: UInt8
    /// The packet status chunks, covering ``packetStatusCount`` statuses (the last may cover more).
    public var chunks: [Chunk]
    /// One per received status within `packetStatusCount`, in 250 µs ticks.
    public var deltas: [Int16]

    /// Feedback from its wire fields (``serialized()`` checks that they agree).
    public init(
        senderSsrc: UInt32, mediaSsrc: UInt32, baseSequenceNumber: UInt16, packetStatusCount: UInt16, referenceTime: UInt32,
        feedbackPacketCount: UInt8, chunks: [Chunk], deltas: [Int16]
    ) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
        self.baseSequenceNumber = baseSequenceNumber
        self.packetStatusCount = packetStatusCount
        self.referenceTime = referenceTime
        self.feedbackPacketCount = feedbackPacketCount
        self.chunks = chunks
        self.deltas = deltas
    }

    /// Calls `body` with the statuses of the first `count` packets the chunks give, in order.
    static func forEachStatus<E: Error>(_ chunks: [Chunk], count: UInt16, _ body: (Status) throws(E) -> Void) throws(E) {
        var left = Int(count)
        for chunk in chunks where left > 0 {
            switch chunk {
            case .runLength(let status, let run):
                for _ in 0..<min(Int(run), left) { try body(status) }
                left -= min(Int(run), left)
            case .oneBitVector(let symbols), .twoBitVector(let symbols):
                for symbol in symbols.prefix(left) { try body(symbol) }
                left -= min(symbols.count, left)
            }
        }
    }

    /// Every reported packet with its status and delta (up to `packetStatusCount` = 65535
    /// entries; the wire form stays compact, this is the caller's choice).
    public var packets: [Packet] {
        var out: [Packet] = []
        var sequence = baseSequenceNumber
        var next = deltas.makeIterator()
        Self.forEachStatus(chunks, count: packetStatusCount) { status in
            out.append(Packet(sequenceNumber: sequence, status: status, delta: status.hasDelta ? next.next() : nil))
            sequence &+= 1
        }
        return out
    }
}
