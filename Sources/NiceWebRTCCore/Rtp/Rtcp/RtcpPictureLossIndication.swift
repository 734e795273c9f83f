/// A picture loss indication (PLI; RFC 4585 §6.3.1; PT 206, FMT 1): asks the media source for a
/// keyframe. It has no FCI; bytes after the two SSRCs are ignored.
public struct RtcpPictureLossIndication: Sendable, Hashable {
    static let format: UInt8 = 1

    /// The SSRC of the packet's sender.
    public var senderSsrc: UInt32
    /// The SSRC of the media source the feedback is about.
    public var mediaSsrc: UInt32

    /// A PLI from `senderSsrc` about `mediaSsrc`.
    public init(senderSsrc: UInt32, mediaSsrc: UInt32) {
        self.senderSsrc = senderSsrc
        self.mediaSsrc = mediaSsrc
    }

    init(body r: inout RtpWireReader) throws(RtpError) {
        senderSsrc = try r.u32("feedback SSRCs")
        mediaSsrc = try r.u32("feedback SSRCs")
    }

    /// The wire form (12 bytes).
    public func serialized() throws(RtpError) -> [UInt8] {
        var w = RtpWireWriter(capacity: 8)
        w.u32(senderSsrc)
        w.u32(mediaSsrc)
        return try RtcpFraming.frame(count: Self.format, type: RtcpPacket.PacketType.payloadFeedback, body: w.bytes, field: "PLI")
    }
}
