/// Building transport-wide CC feedback from arrivals.
extension RtcpTransportWideCc {
    /// Feedback for the packets `baseSequenceNumber`, `baseSequenceNumber + 1`, …: one entry per
    /// packet, `nil` when it did not arrive, else its receive delta in 250 µs ticks (0…255 is
    /// sent as a small delta, other values that fit 16 signed bits as a large one).
    ///
    /// Chunks are chosen greedily: a run of 14 or more equal statuses (or the whole tail) is a
    /// run-length chunk, otherwise 14 statuses that need no large delta go in a 1-bit vector,
    /// else 7 in a 2-bit vector. Throws for more than 65535 entries, a delta outside Int16 or a
    /// reference time wider than 24 bits.
    public init(
        senderSsrc: UInt32, mediaSsrc: UInt32, baseSequenceNumber: UInt16, referenceTime: UInt32, feedbackPacketCount: UInt8,
        receiveDeltas: [Int?]
    ) throws(RtpError) {
        guard receiveDeltas.count <= Int(UInt16.max) else {
            throw RtpError(.tooLarge, field: "TWCC packet status count", reason: "\(receiveDeltas.count) packets, at most 65535")
        }
        guard referenceTime <= 0xFF_FFFF else {
            throw RtpError(.invalidValue, field: "TWCC reference time", reason: "\(referenceTime) is wider than 24 bits")
        }
        var statuses: [Status] = []
        var deltas: [Int16] = []
        statuses.reserveCapacity(receiveDeltas.count)
        for delta in receiveDeltas {
            guard let delta else {
                statuses.append(.notReceived)
                continue
            }
            guard let value = Int16(exactly: delta) else {
                throw RtpError(.invalidValue, field: "TWCC receive delta", reason: "\(delta) ticks do not fit 16 signed bits")
            }
            statuses.append((0...255).contains(value) ? .receivedSmallDelta : .receivedLargeDelta)
            deltas.append(value)
        }
        self.init(
            senderSsrc: senderSsrc, mediaSsrc: mediaSsrc, baseSequenceNumber: baseSequenceNumber,
            packetStatusCount: UInt16(statuses.count), referenceTime: referenceTime, feedbackPacketCount: feedbackPacketCount,
            chunks: Self.encodeChunks(statuses), deltas: deltas)
    }

    static func encodeChunks(_ statuses: [Status]) -> [Chunk] {
        var chunks: [Chunk] = []
        var i = 0
        while i < statuses.count {
            var run = 1
            while i + run < statuses.count, statuses[i + run] == statuses[i], run < Int(maximumRunLength) { run += 1 }
            if run >= 14 || i + run == statuses.count {
                chunks.append(.runLength(statuses[i], count: UInt16(run)))
                i += run
                continue
            }
            let window14 = statuses[i..<min(i + 14, statuses.count)]
            if window14.allSatisfy({ $0 == .notReceived || $0 == .receivedSmallDelta }) {
                chunks.append(.oneBitVector(Array(window14) + Array(repeating: .notReceived, count: 14 - window14.count)))
                i += window14.count
            } else {
                let window7 = statuses[i..<min(i + 7, statuses.count)]
                chunks.append(.twoBitVector(Array(window7) + Array(repeating: .notReceived, count: 7 - window7.count)))
                i += window7.count
            }
        }
        return chunks
    }
}
