/// H.264 from RTP in packetization mode 1 (RFC 6184): single NAL unit, STAP-A and FU-A packets
/// back into one access unit in Annex-B form (each NAL unit after `00 00 00 01`).
public struct H264Depacketizer: RtpDepacketizer {
    public init() {}

    /// The access unit; a key frame when it holds an IDR slice, or both an SPS and a PPS.
    ///
    /// A frame with a broken fragmentation unit is refused whole, never passed on in part.
    ///
    /// - Throws: `truncated` for an empty payload, a STAP-A or FU-A cut short; `invalidValue` for
    ///   a zero STAP-A size, an FU with both S and E set, or an RTP packet type inside a STAP-A or
    ///   FU-A; `unsupported` for STAP-B, MTAP16/24, FU-B and types 30–31 (not in mode 1);
    ///   `fragmentation` for an FU-A without its start or end, a start inside another unit, a
    ///   type change between fragments, a sequence gap or mixed timestamps; `frameTooLarge` past
    ///   `maximumFrameSize`.
    public func depacketize(_ units: [RtpPayloadUnit], maximumFrameSize: Int) throws(RtpError) -> EncodedFrame {
        try RtpFrameChecks.validate(units)
        var output = Output(limit: maximumFrameSize)
        var fragmentType: UInt8?
        for unit in units {
            let payload = unit.payload
            guard let header = payload.first else {
                throw RtpError(.truncated, field: "payload", reason: "empty H.264 payload")
            }
            let type = H264NalUnit.type(header)
            if type != H264NalUnit.fuA, fragmentType != nil {
                throw RtpError(.fragmentation, field: "fuHeader", reason: "a fragmented NAL unit ends without its E bit")
            }
            switch type {
            case 0..<H264NalUnit.stapA:
                try output.appendUnit(payload[...])
            case H264NalUnit.stapA:
                try Self.readStapA(payload, into: &output)
            case H264NalUnit.fuA:
                try Self.readFuA(payload, type: &fragmentType, into: &output)
            default:
                throw RtpError(.unsupported, field: "nalUnitType",
                                    reason: "type \(type) (STAP-B, MTAP, FU-B or reserved) is not used in packetization mode 1")
            }
        }
        if fragmentType != nil {
            throw RtpError(.fragmentation, field: "fuHeader", reason: "the frame ends inside a fragmented NAL unit")
        }
        return EncodedFrame(bytes: output.bytes, isKeyframe: output.hasIdr || (output.hasSps && output.hasPps),
                            timestamp: units.first?.timestamp ?? 0,
                            firstSequenceNumber: units.first?.sequenceNumber ?? 0, packetCount: units.count)
    }

    /// Whether `payload` begins an access unit: an SPS, an access unit delimiter, or the first
    /// slice of a picture (`first_mb_in_slice` = 0, whose ue(v) code is a single 1 bit) — alone,
    /// first in a STAP-A, or in an FU-A start.
    public func startsFrame(_ payload: [UInt8]) -> Bool {
        guard let header = payload.first else { return false }
        switch H264NalUnit.type(header) {
        case H264NalUnit.stapA:
            guard payload.count > 3 else { return false }
            return Self.unitStartsFrame(header: payload[3], next: payload.count > 4 ? payload[4] : nil)
        case H264NalUnit.fuA:
            guard payload.count > 2, payload[1] & 0x80 != 0 else { return false }
            return Self.unitStartsFrame(header: payload[1], next: payload[2])
        default:
            return Self.unitStartsFrame(header: header, next: payload.count > 1 ? payload[1] : nil)
        }
    }

    /// Whether `payload` carries the start of an IDR slice or an SPS (a key frame's first NAL
    /// units). Lets a forwarder find key frames packet by packet.
    public static func startsKeyframe(_ payload: [UInt8]) -> Bool {
        guard let header = payload.first else { return false }
        func isKey(_ header: UInt8) -> Bool {
            let type = H264NalUnit.type(header)
            return type == H264NalUnit.idrSlice || type == H264NalUnit.sps
        }
        switch H264NalUnit.type(header) {
        case H264NalUnit.stapA:
            var offset = 1
            while offset + 2 < payload.count {
                let size = Int(payload[offset]) << 8 | Int(payload[offset + 1])
                guard size > 0, offset + 2 + size <= payload.count else { return false }
                if isKey(payload[offset + 2]) { return true }
                offset += 2 + size
            }
            return false
        case H264NalUnit.fuA:
            return payload.count > 1 && payload[1] & 0x80 != 0 && isKey(payload[1])
        default:
            return isKey(header)
        }
    }

    static func unitStartsFrame(header: UInt8, next: UInt8?) -> Bool {
        switch H264NalUnit.type(header) {
        case H264NalUnit.sps, H264NalUnit.accessUnitDelimiter:
            return true
        case H264NalUnit.nonIdrSlice, H264NalUnit.idrSlice:
            guard let next else { return false }
            return next & 0x80 != 0
        default:
            return false
        }
    }

    static func readStapA(_ payload: [UInt8], into output: inout Output) throws(RtpError) {
        var offset = 1
        var count = 0
        while offset < payload.count {
            guard payload.count - offset >= 2 else {
                throw RtpError(.truncated, field: "stapASize", reason: "a STAP-A ends inside a NAL unit size")
            }
            let size = Int(payload[offset]) << 8 | Int(payload[offset + 1])
            offset += 2
            guard size > 0 else {
                throw RtpError(.invalidValue, field: "stapASize", reason: "a zero-length NAL unit in a STAP-A")
            }
            guard payload.count - offset >= size else {
                throw RtpError(.truncated, field: "stapASize",
                                    reason: "a STAP-A NAL unit of \(size) bytes with \(payload.count - offset) left")
            }
            let unit = payload[offset..<(offset + size)]
            let type = H264NalUnit.type(unit[unit.startIndex])
            guard type < H264NalUnit.stapA else {
                throw RtpError(.invalidValue, field: "nalUnitType", reason: "type \(type) inside a STAP-A")
            }
            try output.appendUnit(unit)
            offset += size
            count += 1
        }
        guard count > 0 else {
            throw RtpError(.truncated, field: "stapASize", reason: "a STAP-A with no NAL unit")
        }
    }

    static func readFuA(_ payload: [UInt8], type fragmentType: inout UInt8?, into output: inout Output) throws(RtpError) {
        guard payload.count >= 3 else {
            throw RtpError(.truncated, field: "fuHeader", reason: "an FU-A of \(payload.count) bytes (indicator, header, data)")
        }
        let fuHeader = payload[1]
        let start = fuHeader & 0x80 != 0
        let end = fuHeader & 0x40 != 0
        let type = H264NalUnit.type(fuHeader)
        guard !(start && end) else {
            throw RtpError(.invalidValue, field: "fuHeader", reason: "S and E both set (RFC 6184 §5.8)")
        }
        guard type < H264NalUnit.stapA else {
            throw RtpError(.invalidValue, field: "nalUnitType", reason: "type \(type) inside an FU-A")
        }
        if start {
            guard fragmentType == nil else {
                throw RtpError(.fragmentation, field: "fuHeader", reason: "an FU-A start before the previous unit ended")
            }
            fragmentType = type
            try output.beginUnit(header: (payload[0] & 0xE0) | type)
        } else {
            guard let current = fragmentType else {
                throw RtpError(.fragmentation, field: "fuHeader", reason: "an FU-A continuation without its start")
            }
            guard current == type else {
                throw RtpError(.fragmentation, field: "fuHeader", reason: "fragments of types \(current) and \(type)")
            }
        }
        try output.append(payload[2...])
        if end { fragmentType = nil }
    }

    /// The access unit being built, bounded, with the NAL unit types seen.
    struct Output {
        let limit: Int
        var bytes: [UInt8] = []
        var hasIdr = false
        var hasSps = false
        var hasPps = false

        init(limit: Int) { self.limit = limit }

        mutating func appendUnit(_ unit: ArraySlice<UInt8>) throws(RtpError) {
            try beginUnit(header: unit[unit.startIndex])
            try append(unit.dropFirst())
        }

        mutating func beginUnit(header: UInt8) throws(RtpError) {
            try RtpFrameChecks.checkSize(bytes.count + 5, limit: limit)
            switch H264NalUnit.type(header) {
            case H264NalUnit.idrSlice: hasIdr = true
            case H264NalUnit.sps: hasSps = true
            case H264NalUnit.pps: hasPps = true
            default: break
            }
            bytes.append(contentsOf: H264NalUnit.startCode)
            bytes.append(header)
        }

        mutating func append(_ data: ArraySlice<UInt8>) throws(RtpError) {
            try RtpFrameChecks.checkSize(bytes.count + data.count, limit: limit)
            bytes.append(contentsOf: data)
        }
    }
}
