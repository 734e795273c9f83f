/// An RTCP receiver report (RR, PT 201; RFC 3550 §6.4.2).
public struct RtcpReceiverReport: Sendable, Hashable {
    /// The reporter's SSRC.
    public var ssrc: UInt32
    /// At most 31.
    public var reports: [RtcpReportBlock]
    /// Profile-specific extension bytes after the report blocks kept as read (a
    /// length that is not a multiple of 4 is written with RTCP padding).
    public var profileExtensions: [UInt8]

    /// An RR from its fields.
    public init(ssrc: UInt32, reports: [RtcpReportBlock] = [], profileExtensions: [UInt8] = []) {
        self.ssrc = ssrc
        self.reports = reports
        self.profileExtensions = profileExtensions
    }

    init(count: UInt8, body r: inout RtpWireReader) throws(RtpError) {
        ssrc = try r.u32("RR SSRC")
        reports = try RtcpReportBlock.list(count, &r)
        profileExtensions = r.rest()
    }

    /// The wire form.
    public func serialized() throws(RtpError) -> [UInt8] {
        let count = try RtcpFraming.count(reports.count, "report count")
        var w = RtpWireWriter(capacity: 4 + 24 * reports.count + profileExtensions.count)
        w.u32(ssrc)
        for block in reports { try block.write(&w) }
        w.append(profileExtensions)
        return try RtcpFraming.frame(count: count, type: RtcpPacket.PacketType.receiverReport, body: w.bytes, field: "report count")
    }
}
