/// H.264 over RTP in packetization mode 1 (RFC 6184 §5.6–5.8, non-interleaved): each NAL unit of
/// an access unit as a single NAL unit packet, consecutive small ones aggregated in STAP-A
/// packets, large ones fragmented in FU-A packets; the marker bit on the access unit's last packet.
public struct H264Packetizer: RtpPacketizer {
    /// Whether consecutive NAL units that fit one packet together (SPS, PPS, SEI, small slices)
    /// are sent as one STAP-A (RFC 6184 §5.7.1).
    public var aggregatesSmallUnits: Bool

    public init(aggregatesSmallUnits: Bool = true) {
        self.aggregatesSmallUnits = aggregatesSmallUnits
    }

    /// The payloads of one access unit given as an Annex-B byte stream (3- or 4-byte start codes;
    /// a stream without a start code is one NAL unit).
    ///
    /// - Throws: `invalidValue` (field `frame`) when the stream holds no NAL unit; `unsupported`
    ///   (field `nalUnitType`) for a NAL unit of type 24–31, which a receiver would take for an RTP
    ///   aggregation or fragmentation packet; `payloadLimit` below 3 bytes (an FU-A's two header
    ///   bytes and one byte of data) when a unit must be fragmented, or below 1 byte.
    public mutating func payloads(for frame: [UInt8], maximumPayloadSize: Int) throws(RtpError) -> [[UInt8]] {
        let units = H264NalUnit.units(inAnnexB: frame)
        guard !units.isEmpty else {
            throw RtpError(.invalidValue, field: "frame", reason: "no NAL unit in the Annex-B stream")
        }
        try RtpFrameChecks.checkPayloadLimit(maximumPayloadSize, overhead: 0, codec: "H.264")
        for unit in units {
            let type = H264NalUnit.type(unit[unit.startIndex])
            guard type < H264NalUnit.stapA else {
                throw RtpError(.unsupported, field: "nalUnitType",
                                    reason: "type \(type) is reserved for RTP packetization (RFC 6184 Table 1)")
            }
        }
        var payloads: [[UInt8]] = []
        var index = 0
        while index < units.count {
            let unit = units[index]
            if unit.count > maximumPayloadSize {
                try Self.fragment(unit, limit: maximumPayloadSize, into: &payloads)
                index += 1
                continue
            }
            let group = aggregatesSmallUnits ? Self.aggregateCount(units, from: index, limit: maximumPayloadSize) : 1
            if group >= 2 {
                payloads.append(Self.stapA(units[index..<(index + group)]))
                index += group
            } else {
                payloads.append(Array(unit))
                index += 1
            }
        }
        return payloads
    }

    /// How many units from `start` fit one STAP-A: a header byte, then a 16-bit size and the unit
    /// for each.
    static func aggregateCount(_ units: [ArraySlice<UInt8>], from start: Int, limit: Int) -> Int {
        var size = 1
        var count = 0
        var index = start
        while index < units.count {
            let unitSize = units[index].count
            guard unitSize <= 0xFFFF, size + 2 + unitSize <= limit else { break }
            size += 2 + unitSize
            count += 1
            index += 1
        }
        return count
    }

    /// A STAP-A of `units`: F is the OR of theirs, NRI the largest (RFC 6184 §5.7.1).
    static func stapA(_ units: ArraySlice<ArraySlice<UInt8>>) -> [UInt8] {
        var f: UInt8 = 0
        var nri: UInt8 = 0
        var size = 1
        for unit in units {
            let header = unit[unit.startIndex]
            f |= header & 0x80
            nri = max(nri, header & 0x60)
            size += 2 + unit.count
        }
        var payload: [UInt8] = []
        payload.reserveCapacity(size)
        payload.append(f | nri | H264NalUnit.stapA)
        for unit in units {
            payload.append(UInt8(truncatingIfNeeded: unit.count >> 8))
            payload.append(UInt8(truncatingIfNeeded: unit.count))
            payload.append(contentsOf: unit)
        }
        return payload
    }

    /// FU-A packets of `unit` (RFC 6184 §5.8): the FU indicator keeps F and NRI, the FU header
    /// the type, S on the first, E on the last; the unit's header byte itself is not sent.
    static func fragment(_ unit: ArraySlice<UInt8>, limit: Int, into payloads: inout [[UInt8]]) throws(RtpError) {
        try RtpFrameChecks.checkPayloadLimit(limit, overhead: 2, codec: "H.264 FU-A")
        let header = unit[unit.startIndex]
        let indicator = (header & 0xE0) | H264NalUnit.fuA
        let type = H264NalUnit.type(header)
        let chunk = limit - 2
        var offset = unit.startIndex + 1
        while offset < unit.endIndex {
            let end = offset + min(chunk, unit.endIndex - offset)
            var fuHeader = type
            if offset == unit.startIndex + 1 { fuHeader |= 0x80 }
            if end == unit.endIndex { fuHeader |= 0x40 }
            var payload: [UInt8] = [indicator, fuHeader]
            payload.reserveCapacity(2 + end - offset)
            payload.append(contentsOf: unit[offset..<end])
            payloads.append(payload)
            offset = end
        }
    }
}
