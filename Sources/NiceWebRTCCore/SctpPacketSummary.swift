/// A one-line summary of a plaintext SCTP packet (RFC 9260) for trace logs: every chunk's type,
/// and for the chunks that explain a stall, the fields that matter — DATA and I-DATA (TSN, stream,
/// SSN or MID, PPID, the U/B/E flags, payload length), SACK (cumulative TSN ack, a_rwnd, gap
/// blocks, duplicates), FORWARD-TSN (new cumulative TSN). Built only when trace logging is on.
///
/// ```text
/// DATA tsn=861 sid=1 ssn=949 ppid=53 BE len=1000 | SACK cum=1419818272 rwnd=4718592 gaps=[] dups=0
/// ```
///
/// Reads at most ``maximumChunks`` chunks and stops at the first malformed chunk length (shown as
/// `malformed`), so a hostile packet costs a bounded amount of work.
public struct SctpPacketSummary: Sendable, Hashable, CustomStringConvertible {
    /// Chunks read from one packet at most.
    public static let maximumChunks = 64
    /// Gap blocks shown per SACK at most.
    public static let maximumGaps = 8

    /// One summary per chunk, in packet order.
    public var chunks: [String]

    /// Summarises `packet` (common header + chunks). Never fails: what does not parse is named.
    public init(_ packet: some Collection<UInt8>) {
        let b = Array(packet)
        guard b.count >= 12 else {
            chunks = ["short packet (\(b.count) bytes)"]
            return
        }
        var out: [String] = []
        var o = 12
        while o + 4 <= b.count, out.count < Self.maximumChunks {
            let type = b[o], flags = b[o + 1]
            let length = Int(Self.u16(b, o + 2))
            guard length >= 4, o + length <= b.count else {
                out.append("malformed chunk type=\(type) len=\(length)")
                break
            }
            out.append(Self.chunk(b, at: o, type: type, flags: flags, length: length))
            o += (length + 3) & ~3
        }
        if out.count == Self.maximumChunks, o + 4 <= b.count { out.append("…") }
        chunks = out.isEmpty ? ["no chunks"] : out
    }

    public var description: String { chunks.joined(separator: " | ") }

    private static func chunk(_ b: [UInt8], at o: Int, type: UInt8, flags: UInt8, length: Int) -> String {
        let ube = (flags & 4 != 0 ? "U" : "") + (flags & 2 != 0 ? "B" : "") + (flags & 1 != 0 ? "E" : "")
        switch type {
        case 0 where length >= 16:
            return "DATA tsn=\(u32(b, o + 4)) sid=\(u16(b, o + 8)) ssn=\(u16(b, o + 10)) ppid=\(u32(b, o + 12)) \(ube.isEmpty ? "-" : ube) len=\(length - 16)"
        case 64 where length >= 20:
            // I-DATA (RFC 8260): TSN, SID, reserved, MID, PPID or FSN.
            return "I-DATA tsn=\(u32(b, o + 4)) sid=\(u16(b, o + 8)) mid=\(u32(b, o + 12)) \(ube.isEmpty ? "-" : ube) len=\(length - 20)"
        case 3 where length >= 16:
            let gapCount = Int(u16(b, o + 12)), dups = u16(b, o + 14)
            var gaps: [String] = []
            for i in 0..<min(gapCount, maximumGaps) where 16 + 4 * i + 4 <= length {
                gaps.append("\(u16(b, o + 16 + 4 * i))-\(u16(b, o + 18 + 4 * i))")
            }
            if gapCount > maximumGaps { gaps.append("…") }
            return "SACK cum=\(u32(b, o + 4)) rwnd=\(u32(b, o + 8)) gaps=[\(gaps.joined(separator: ","))] dups=\(dups)"
        case 192 where length >= 8:
            return "FORWARD-TSN cum=\(u32(b, o + 4)) len=\(length)"
        default:
            return "\(name(type)) flags=\(flags) len=\(length)"
        }
    }

    private static func name(_ type: UInt8) -> String {
        switch type {
        case 0: "DATA"
        case 1: "INIT"
        case 2: "INIT-ACK"
        case 3: "SACK"
        case 4: "HEARTBEAT"
        case 5: "HEARTBEAT-ACK"
        case 6: "ABORT"
        case 7: "SHUTDOWN"
        case 8: "SHUTDOWN-ACK"
        case 9: "ERROR"
        case 10: "COOKIE-ECHO"
        case 11: "COOKIE-ACK"
        case 14: "SHUTDOWN-COMPLETE"
        case 64: "I-DATA"
        case 130: "RE-CONFIG"
        case 192: "FORWARD-TSN"
        default: "type-\(type)"
        }
    }

    private static func u16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }
    private static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
}
