/// An RTP packet (RFC 3550 §5.1): the fixed header, the CSRC list, an optional header extension
/// block (RFC 8285 forms in ``RtpHeaderExtension``), the payload and the padding size.
///
/// ``init(parsing:)`` checks version 2 and every length against the bytes present and never
/// traps; ``serialized()`` writes the packet back byte for byte — padding octets other than the
/// final count are written as zero (RFC 3550 leaves their value open).
public struct RtpPacket: Sendable, Hashable {
    /// The fixed header's size in bytes.
    public static let fixedHeaderCount = 12

    /// The M bit (end of a video frame, start of a talkspurt).
    public var marker: Bool
    /// 0–127.
    public var payloadType: UInt8
    /// +1 per packet, wrapping (see ``RtpSequenceNumber``).
    public var sequenceNumber: UInt16
    /// The sampling instant in the payload format's clock rate.
    public var timestamp: UInt32
    /// The synchronization source.
    public var ssrc: UInt32
    /// Contributing sources, at most 15.
    public var csrcs: [UInt32]
    /// The header extension block (X bit), if any.
    public var headerExtension: RtpHeaderExtension?
    /// The payload (without padding).
    public var payload: [UInt8]
    /// Padding octets at the end including the count octet (P bit); 0 for none.
    public var paddingCount: UInt8

    /// A packet from its fields (version 2 is implied).
    public init(
        marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
        csrcs: [UInt32] = [], headerExtension: RtpHeaderExtension? = nil, payload: [UInt8] = [], paddingCount: UInt8 = 0
    ) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
        self.payload = payload
        self.paddingCount = paddingCount
    }

    /// Parses one RTP packet (the whole datagram after SRTP unprotect).
    public init(parsing packet: some Collection<UInt8>) throws(RtpError) {
        let b = Array(packet)
        var r = RtpWireReader(b, from: 0, to: b.count)
        let first = try r.u8("RTP header")
        guard first >> 6 == 2 else { throw RtpError(.badVersion, field: "version", reason: "RTP version \(first >> 6), not 2") }
        let second = try r.u8("RTP header")
        marker = second & 0x80 != 0
        payloadType = second & 0x7F
        sequenceNumber = try r.u16("RTP header")
        timestamp = try r.u32("RTP header")
        ssrc = try r.u32("RTP header")
        let csrcCount = Int(first & 0x0F)
        try r.need(4 * csrcCount, "CSRC list")
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(csrcCount)
        for _ in 0..<csrcCount { csrcs.append(try r.u32("CSRC list")) }
        self.csrcs = csrcs
        if first & 0x10 != 0 {
            let profile = try r.u16("header extension")
            let words = Int(try r.u16("header extension"))
            headerExtension = try RtpHeaderExtension(profile: profile, data: try r.take(4 * words, "header extension"))
        } else {
            headerExtension = nil
        }
        var end = b.count
        if first & 0x20 != 0 {
            let count = b.last ?? 0
            guard count > 0 else { throw RtpError(.invalidValue, field: "padding", reason: "P bit set with a padding count of 0") }
            guard Int(count) <= r.remaining else {
                throw RtpError(.badLength, field: "padding", reason: "\(count) padding bytes, \(r.remaining) after the header")
            }
            end -= Int(count)
            paddingCount = count
        } else {
            paddingCount = 0
        }
        payload = Array(b[r.offset..<end])
    }

    /// The packet's size on the wire.
    public var wireCount: Int {
        Self.fixedHeaderCount + 4 * csrcs.count + (headerExtension.map { 4 + $0.data.count } ?? 0) + payload.count
            + Int(paddingCount)
    }

    /// The wire form. Throws for a payload type above 127 or more than 15 CSRCs.
    public func serialized() throws(RtpError) -> [UInt8] {
        guard payloadType < 128 else { throw RtpError(.invalidValue, field: "payload type", reason: "\(payloadType) is wider than 7 bits") }
        guard csrcs.count <= 15 else { throw RtpError(.tooLarge, field: "CSRC list", reason: "\(csrcs.count) CSRCs, at most 15") }
        var w = RtpWireWriter(capacity: wireCount)
        w.u8(2 << 6 | (paddingCount > 0 ? 0x20 : 0) | (headerExtension != nil ? 0x10 : 0) | UInt8(csrcs.count))
        w.u8((marker ? 0x80 : 0) | payloadType)
        w.u16(sequenceNumber)
        w.u32(timestamp)
        w.u32(ssrc)
        for csrc in csrcs { w.u32(csrc) }
        if let headerExtension {
            w.u16(headerExtension.profile)
            w.u16(UInt16(headerExtension.data.count / 4))
            w.append(headerExtension.data)
        }
        w.append(payload)
        if paddingCount > 0 {
            w.append([UInt8](repeating: 0, count: Int(paddingCount) - 1))
            w.u8(paddingCount)
        }
        return w.bytes
    }

    /// The value of header extension element `id` (RFC 8285), if present.
    public func extensionValue(id: UInt8) -> [UInt8]? { headerExtension?.value(id: id) }

    /// Sets header extension element `id`. Without a block yet, starts a one-byte form block
    /// when the element fits it (id 1–14, 1–16 bytes), a two-byte one otherwise.
    public mutating func setExtension(id: UInt8, value: [UInt8]) throws(RtpError) {
        if var block = headerExtension {
            try block.set(id: id, value: value)
            headerExtension = block
            return
        }
        let element = RtpHeaderExtension.Element(id: id, value: value)
        if (1...14).contains(id), (1...16).contains(value.count) {
            headerExtension = try RtpHeaderExtension(oneByte: [element])
        } else {
            headerExtension = try RtpHeaderExtension(twoByte: [element])
        }
    }
}
