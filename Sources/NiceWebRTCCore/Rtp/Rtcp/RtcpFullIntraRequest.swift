/// A full intra request (FIR; RFC 5104 §4.3.1; PT 206, FMT 4): asks for a decoder refresh, one
/// entry per media source with a request sequence number. The common header's media SSRC is 0
/// by the RFC; it is kept as read.
public struct RtcpFullIntraRequest: Sendable, Hashable {
    static let format: UInt8 = 4

    /// One FCI entry (8 bytes; the 24 reserved bits are written as zero).
    public struct Entry: Sendable, Hashable {
        /// The media source asked for a decoder refresh.
        public var ssrc: UInt32
        /// Incremented by the sender for each new request.
        public var sequenceNumber: UInt8

        /// An entry for `ssrc`.
        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    /// The SSRC of the packet's sender.
    public var senderSsrc: UInt32
    /// The SSRC of the media source the feedback is about.
    public var mediaSsrc: UInt32
    /// The requests, one per media source.
    public var entries: [Entry]

    /// A FIR from `senderSsrc`.
    public init(senderSsrc: UInt32, mediaSsrc: UInt32 = 0, entries: [Entry]) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
        self.entries = entries
    }

    init(body r: inout RtpWireReader) throws(RtpError) {
        senderSsrc = try r.u32("feedback SSRCs")
        mediaSsrc = try r.u32("feedback SSRCs")
        guard r.remaining % 8 == 0 else {
            throw RtpError(.badLength, field: "FIR FCI", reason: "\(r.remaining) bytes is not a list of 8-byte entries")
        }
        entries = []
        entries.reserveCapacity(r.remaining / 8)
        while r.remaining > 0 {
            let ssrc = try r.u32("FIR FCI")
            let sequenceNumber = try r.u8("FIR FCI")
            try r.skip(3, "FIR FCI")
            entries.append(Entry(ssrc: ssrc, sequenceNumber: sequenceNumber))
        }
    }

    /// The wire form.
    public func serialized() throws(RtpError) -> [UInt8] {
        var w = RtpWireWriter(capacity: 8 + 8 * entries.count)
        w.u32(senderSsrc)
        w.u32(mediaSsrc)
        for entry in entries {
            w.u32(entry.ssrc)
            w.u32(UInt32(entry.sequenceNumber) << 24)
        }
        return try RtcpFraming.frame(count: Self.format, type: RtcpPacket.PacketType.payloadFeedback, body: w.bytes, field: "FIR")
    }
}
