/// An RTCP sender report (SR, PT 200; RFC 3550 §6.4.1).
public struct RtcpSenderReport: Sendable, Hashable {
    /// The sender's SSRC.
    public var ssrc: UInt32
    /// The 64-bit NTP timestamp (seconds since 1900 << 32 | fraction).
    public var ntpTimestamp: UInt64
    /// The same instant in the stream's RTP timestamp units.
    public var rtpTimestamp: UInt32
    /// Packets sent since the start.
    public var packetCount: UInt32
    /// Payload octets sent since the start.
    public var octetCount: UInt32
    /// At most 31.
    public var reports: [RtcpReportBlock]
    /// Profile-specific extension bytes after the report blocks kept as read (a
    /// length that is not a multiple of 4 is written with RTCP padding).
    public var profileExtensions: [UInt8]

    /// An SR from its fields.
    public init(
        ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
        reports: [RtcpReportBlock] = [], profileExtensions: [UInt8] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
        self.profileExtensions = profileExtensions
    }

    init(count: UInt8, body r: inout RtpWireReader) throws(RtpError) {
        ssrc = try r.u32("SR sender info")
        ntpTimestamp = try r.u64("SR sender info")
        rtpTimestamp = try r.u32("SR sender info")
        packetCount = try r.u32("SR sender info")
        octetCount = try r.u32("SR sender info")
        reports = try RtcpReportBlock.list(count, &r)
        profileExtensions = r.rest()
    }

    /// The wire form.
    public func serialized() throws(RtpError) -> [UInt8] {
        let count = try RtcpFraming.count(reports.count, "report count")
        var w = RtpWireWriter(capacity: 24 + 24 * reports.count + profileExtensions.count)
        w.u32(ssrc)
        w.u64(ntpTimestamp)
        w.u32(rtpTimestamp)
        w.u32(packetCount)
        w.u32(octetCount)
        for block in reports { try block.write(&w) }
        w.append(profileExtensions)
        return try RtcpFraming.frame(count: count, type: RtcpPacket.PacketType.senderReport, body: w.bytes, field: "report count")
    }
}
