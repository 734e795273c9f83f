/// Reading and writing transport-wide CC feedback.
extension RtcpTransportWideCc {
    init(body r: inout RtpWireReader) throws(RtpError) {
        senderSsrc = try r.u32("feedback SSRCs")
        mediaSsrc = try r.u32("feedback SSRCs")
        baseSequenceNumber = try r.u16("TWCC header")
        packetStatusCount = try r.u16("TWCC header")
        referenceTime = try r.u24("TWCC header")
        feedbackPacketCount = try r.u8("TWCC header")
        // Chunks until they cover the status count: each costs 2 bytes, so their number is
        // bounded by the packet, whatever count the header claims.
        var chunks: [Chunk] = []
        var covered = 0, small = 0, large = 0
        while covered < Int(packetStatusCount) {
            let chunk = try Self.chunk(try r.u16("TWCC packet chunk"))
            let used = min(chunk.statusCount, Int(packetStatusCount) - covered)
            switch chunk {
            case .runLength(let status, _):
                if status == .receivedSmallDelta { small += used }
                if status == .receivedLargeDelta { large += used }
            case .oneBitVector(let symbols), .twoBitVector(let symbols):
                for symbol in symbols.prefix(used) {
                    if symbol == .receivedSmallDelta { small += 1 }
                    if symbol == .receivedLargeDelta { large += 1 }
                }
            }
            covered += used
            chunks.append(chunk)
        }
        guard small + 2 * large <= r.remaining else {
            throw RtpError(.truncated, field: "TWCC receive deltas", reason: "\(small) small and \(large) large deltas need \(small + 2 * large) bytes, \(r.remaining) left")
        }
        var deltas: [Int16] = []
        deltas.reserveCapacity(small + large)
        try Self.forEachStatus(chunks, count: packetStatusCount) { (status) throws(RtpError) in
            switch status {
            case .receivedSmallDelta: deltas.append(Int16(try r.u8("TWCC receive delta")))
            case .receivedLargeDelta: deltas.append(Int16(bitPattern: try r.u16("TWCC receive delta")))
            case .notReceived, .reserved: break
            }
        }
        self.chunks = chunks
        self.deltas = deltas
    }

    static func chunk(_ word: UInt16) throws(RtpError) -> Chunk {
        if word & 0x8000 == 0 {
            guard let status = Status(rawValue: UInt8((word >> 13) & 3)) else { throw RtpError(.invalidValue, field: "TWCC packet chunk", reason: "bad symbol") }
            return .runLength(status, count: word & 0x1FFF)
        }
        if word & 0x4000 == 0 {
            return .oneBitVector((0..<14).map { word >> (13 - $0) & 1 == 1 ? .receivedSmallDelta : .notReceived })
        }
        return .twoBitVector((0..<7).map { Status(rawValue: UInt8(word >> (12 - 2 * $0) & 3)) ?? .reserved })
    }

    static func word(_ chunk: Chunk) throws(RtpError) -> UInt16 {
        switch chunk {
        case .runLength(let status, let count):
            guard count <= maximumRunLength else {
                throw RtpError(.invalidValue, field: "TWCC packet chunk", reason: "run length \(count), at most 8191")
            }
            return UInt16(status.rawValue) << 13 | count
        case .oneBitVector(let symbols):
            guard symbols.count == 14, symbols.allSatisfy({ $0 == .notReceived || $0 == .receivedSmallDelta }) else {
                throw RtpError(.invalidValue, field: "TWCC packet chunk", reason: "a 1-bit vector holds 14 not-received or small-delta symbols")
            }
            return symbols.enumerated().reduce(0x8000) { $0 | UInt16($1.element.rawValue) << (13 - $1.offset) }
        case .twoBitVector(let symbols):
            guard symbols.count == 7 else {
                throw RtpError(.invalidValue, field: "TWCC packet chunk", reason: "a 2-bit vector holds 7 symbols, not \(symbols.count)")
            }
            return symbols.enumerated().reduce(0xC000) { $0 | UInt16($1.element.rawValue) << (12 - 2 * $1.offset) }
        }
    }

    /// The wire form. Throws when the chunks do not cover `packetStatusCount` exactly (a chunk
    /// after the count is covered would not be read back), when `deltas` does not match the
    /// received statuses or a small delta is outside 0…255, or `referenceTime` exceeds 24 bits.
    public func serialized() throws(RtpError) -> [UInt8] {
        guard referenceTime <= 0xFF_FFFF else {
            throw RtpError(.invalidValue, field: "TWCC reference time", reason: "\(referenceTime) is wider than 24 bits")
        }
        var covered = 0
        for (index, chunk) in chunks.enumerated() {
            guard covered < Int(packetStatusCount) else {
                throw RtpError(.invalidValue, field: "TWCC packet chunk", reason: "chunk \(index) comes after the status count is covered")
            }
            covered += chunk.statusCount
        }
        guard covered >= Int(packetStatusCount) else {
            throw RtpError(.invalidValue, field: "TWCC packet status count", reason: "chunks cover \(covered) of \(packetStatusCount) statuses")
        }
        var w = RtpWireWriter(capacity: 16 + 2 * chunks.count + 2 * deltas.count)
        w.u32(senderSsrc)
        w.u32(mediaSsrc)
        w.u16(baseSequenceNumber)
        w.u16(packetStatusCount)
        w.u24(referenceTime)
        w.u8(feedbackPacketCount)
        for chunk in chunks { w.u16(try Self.word(chunk)) }
        var next = deltas.makeIterator()
        try Self.forEachStatus(chunks, count: packetStatusCount) { (status) throws(RtpError) in
            guard status.hasDelta else { return }
            guard let delta = next.next() else {
                throw RtpError(.invalidValue, field: "TWCC receive deltas", reason: "fewer deltas than received statuses")
            }
            if status == .receivedSmallDelta {
                guard (0...255).contains(delta) else {
                    throw RtpError(.invalidValue, field: "TWCC receive delta", reason: "small delta \(delta) outside 0-255")
                }
                w.u8(UInt8(delta))
            } else {
                w.u16(UInt16(bitPattern: delta))
            }
        }
        guard next.next() == nil else {
            throw RtpError(.invalidValue, field: "TWCC receive deltas", reason: "more deltas than received statuses")
        }
        return try RtcpFraming.frame(count: Self.format, type: RtcpPacket.PacketType.transportFeedback, body: w.bytes, field: "TWCC")
    }
}
