/// One RTP packet as the codec layer sees it: the payload (after the RTP header, its extensions and
/// padding) with the header fields that frame it.
///
/// The codec layer needs no more of the RTP header than this, so it does not depend on the RTP
/// packet type; a receive path maps each packet to a unit, a send path maps each unit to a packet
/// (adding SSRC, payload type and header extensions).
public struct RtpPayloadUnit: Sendable, Hashable {
    /// The RTP payload.
    public var payload: [UInt8]
    /// The RTP marker bit: for video, the last packet of a frame (RFC 7741 §4.1, RFC 6184 §5.1);
    /// for Opus, the first packet of a talkspurt (RFC 7587 §4.1).
    public var marker: Bool
    /// The RTP timestamp: every packet of one frame has the same.
    public var timestamp: UInt32
    /// The RTP sequence number (16 bits, wrapping).
    public var sequenceNumber: UInt16

    public init(payload: [UInt8], marker: Bool, timestamp: UInt32, sequenceNumber: UInt16) {
        self.payload = payload
        self.marker = marker
        self.timestamp = timestamp
        self.sequenceNumber = sequenceNumber
    }
}
