/// One RTCP packet of a compound packet (RFC 3550 §6), typed where we read or write the type,
/// kept as raw bytes otherwise.
///
/// ``parseCompound(_:)`` walks a compound packet by the length fields and accepts a single
/// feedback packet on its own (reduced-size RTCP, RFC 5506): it does not insist on an SR or RR
/// first. A wrong version, a length past the end, a bad padding count or a malformed known
/// packet is a typed ``RtpError``; unknown types and formats (APP, XR, other feedback) come back
/// as ``raw(_:)`` with their bytes unchanged.
public enum RtcpPacket: Sendable, Hashable {
    /// PT 200.
    case senderReport(RtcpSenderReport)
    /// PT 201.
    case receiverReport(RtcpReceiverReport)
    /// PT 202.
    case sourceDescription(RtcpSourceDescription)
    /// PT 203.
    case goodbye(RtcpGoodbye)
    /// PT 205, FMT 1 (RFC 4585 §6.2.1).
    case genericNack(RtcpGenericNack)
    /// PT 205, FMT 15 (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
    case transportWideCc(RtcpTransportWideCc)
    /// PT 206, FMT 1 (RFC 4585 §6.3.1).
    case pictureLossIndication(RtcpPictureLossIndication)
    /// PT 206, FMT 4 (RFC 5104 §4.3.1).
    case fullIntraRequest(RtcpFullIntraRequest)
    /// PT 206, FMT 15 with the "REMB" identifier (draft-alvestrand-rmcat-remb-03).
    case remb(RtcpRemb)
    /// Any other packet, byte for byte (header and padding included).
    case raw(RtcpRawPacket)

    /// RTCP packet types (RFC 3550, RFC 4585).
    public enum PacketType {
        /// SR.
        public static let senderReport: UInt8 = 200
        /// RR.
        public static let receiverReport: UInt8 = 201
        /// SDES.
        public static let sourceDescription: UInt8 = 202
        /// BYE.
        public static let goodbye: UInt8 = 203
        /// APP.
        public static let application: UInt8 = 204
        /// RTPFB: transport-layer feedback (RFC 4585).
        public static let transportFeedback: UInt8 = 205
        /// PSFB: payload-specific feedback (RFC 4585).
        public static let payloadFeedback: UInt8 = 206
        /// XR (RFC 3611).
        public static let extendedReport: UInt8 = 207
    }

    /// Parses a compound (or reduced-size, single) RTCP packet into its packets, in order.
    public static func parseCompound(_ bytes: some Collection<UInt8>) throws(RtpError) -> [RtcpPacket] {
        let b = Array(bytes)
        guard !b.isEmpty else { throw RtpError(.truncated, field: "RTCP header", reason: "empty packet") }
        var out: [RtcpPacket] = []
        var o = 0
        while o < b.count {
            guard b.count - o >= 4 else { throw RtpError(.truncated, field: "RTCP header", reason: "\(b.count - o) bytes after packet \(out.count)") }
            guard b[o] >> 6 == 2 else { throw RtpError(.badVersion, field: "RTCP version", reason: "version \(b[o] >> 6), not 2, in packet \(out.count)") }
            let length = ((Int(b[o + 2]) << 8 | Int(b[o + 3])) + 1) * 4
            guard length <= b.count - o else {
                throw RtpError(.badLength, field: "RTCP length", reason: "packet \(out.count) says \(length) bytes, \(b.count - o) left")
            }
            out.append(try parseOne(b, from: o, to: o + length))
            o += length
        }
        return out
    }

    /// Writes packets as one compound packet.
    public static func serializeCompound(_ packets: [RtcpPacket]) throws(RtpError) -> [UInt8] {
        var out: [UInt8] = []
        for packet in packets { out += try packet.serialized() }
        return out
    }

    /// The wire form of this packet. Throws for values that do not fit their fields.
    public func serialized() throws(RtpError) -> [UInt8] {
        switch self {
        case .senderReport(let p): try p.serialized()
        case .receiverReport(let p): try p.serialized()
        case .sourceDescription(let p): try p.serialized()
        case .goodbye(let p): try p.serialized()
        case .genericNack(let p): try p.serialized()
        case .transportWideCc(let p): try p.serialized()
        case .pictureLossIndication(let p): try p.serialized()
        case .fullIntraRequest(let p): try p.serialized()
        case .remb(let p): try p.serialized()
        case .raw(let p): p.bytes
        }
    }

    private static func parseOne(_ b: [UInt8], from start: Int, to end: Int) throws(RtpError) -> RtcpPacket {
        let count = b[start] & 0x1F, type = b[start + 1]
        var bodyEnd = end
        if b[start] & 0x20 != 0 {
            let padding = Int(b[end - 1])
            guard padding > 0, padding <= end - start - 4 else {
                throw RtpError(.invalidValue, field: "RTCP padding", reason: "padding count \(padding) in a \(end - start)-byte packet")
            }
            bodyEnd -= padding
        }
        var r = RtpWireReader(b, from: start + 4, to: bodyEnd)
        switch (type, count) {
        case (PacketType.senderReport, _): return .senderReport(try RtcpSenderReport(count: count, body: &r))
        case (PacketType.receiverReport, _): return .receiverReport(try RtcpReceiverReport(count: count, body: &r))
        case (PacketType.sourceDescription, _): return .sourceDescription(try RtcpSourceDescription(count: count, body: &r))
        case (PacketType.goodbye, _): return .goodbye(try RtcpGoodbye(count: count, body: &r))
        case (PacketType.transportFeedback, RtcpGenericNack.format): return .genericNack(try RtcpGenericNack(body: &r))
        case (PacketType.transportFeedback, RtcpTransportWideCc.format): return .transportWideCc(try RtcpTransportWideCc(body: &r))
        case (PacketType.payloadFeedback, RtcpPictureLossIndication.format):
            return .pictureLossIndication(try RtcpPictureLossIndication(body: &r))
        case (PacketType.payloadFeedback, RtcpFullIntraRequest.format): return .fullIntraRequest(try RtcpFullIntraRequest(body: &r))
        case (PacketType.payloadFeedback, RtcpRemb.format) where RtcpRemb.isRemb(r):
            return .remb(try RtcpRemb(body: &r))
        default: return .raw(RtcpRawPacket(unchecked: Array(b[start..<end])))
        }
    }
}
