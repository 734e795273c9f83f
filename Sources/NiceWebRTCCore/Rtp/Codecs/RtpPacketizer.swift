/// Splits one encoded frame into RTP payloads of at most a given size (RFC 7587, 7741, 6184).
///
/// A packetizer is a value: the state it keeps between frames (VP8's picture ID) changes only
/// through `mutating` calls, so one packetizer belongs to one outgoing stream.
public protocol RtpPacketizer: Sendable {
    /// Whether the RTP marker bit goes on the last packet of each frame: `true` for video (the
    /// end of a frame); `false` for Opus, whose marker means the start of a talkspurt, which only
    /// the sender knows (RFC 7587 §4.1).
    static var marksLastPacketOfFrame: Bool { get }

    /// The payloads of one frame, in order, each at most `maximumPayloadSize` bytes.
    ///
    /// - Parameter maximumPayloadSize: what is left of the path MTU after the IP, UDP, RTP (with
    ///   its header extensions) and SRTP overheads.
    /// - Throws: ``RtpError`` `payloadLimit` when the limit cannot hold the codec's headers
    ///   and one byte of the frame, `invalidValue` for an empty or unusable frame.
    mutating func payloads(for frame: [UInt8], maximumPayloadSize: Int) throws(RtpError) -> [[UInt8]]
}

extension RtpPacketizer {
    public static var marksLastPacketOfFrame: Bool { true }

    /// The frame's packets as units: consecutive sequence numbers (wrapping) from
    /// `firstSequenceNumber`, one timestamp, the marker bit as ``marksLastPacketOfFrame`` says.
    public mutating func packetize(_ frame: [UInt8], timestamp: UInt32, firstSequenceNumber: UInt16,
                                   maximumPayloadSize: Int) throws(RtpError) -> [RtpPayloadUnit] {
        let payloads = try payloads(for: frame, maximumPayloadSize: maximumPayloadSize)
        var units: [RtpPayloadUnit] = []
        units.reserveCapacity(payloads.count)
        var sequenceNumber = firstSequenceNumber
        for (index, payload) in payloads.enumerated() {
            let last = index == payloads.count - 1
            units.append(RtpPayloadUnit(payload: payload, marker: last && Self.marksLastPacketOfFrame,
                                        timestamp: timestamp, sequenceNumber: sequenceNumber))
            sequenceNumber &+= 1
        }
        return units
    }
}
