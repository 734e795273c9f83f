/// Opus over RTP (RFC 7587): one Opus packet per RTP packet, no payload header.
///
/// The marker bit is left clear: RFC 7587 §4.1 sets it on the first packet of a talkspurt, which
/// only the sender knows.
public struct OpusPacketizer: RtpPacketizer {
    public static var marksLastPacketOfFrame: Bool { false }

    public init() {}

    /// The frame as the one payload.
    ///
    /// - Throws: `invalidValue` for an empty frame (an Opus packet has at least its TOC byte,
    ///   RFC 6716 §3.1); `payloadLimit` when the frame is larger than `maximumPayloadSize` (Opus
    ///   frames are never split).
    public mutating func payloads(for frame: [UInt8], maximumPayloadSize: Int) throws(RtpError) -> [[UInt8]] {
        guard !frame.isEmpty else {
            throw RtpError(.invalidValue, field: "frame", reason: "an Opus packet has at least a TOC byte")
        }
        guard frame.count <= maximumPayloadSize else {
            throw RtpError(.payloadLimit, field: "maximumPayloadSize",
                                reason: "an Opus packet of \(frame.count) bytes does not fit \(maximumPayloadSize)")
        }
        return [frame]
    }
}

/// Opus from RTP (RFC 7587): the payload is the Opus packet.
public struct OpusDepacketizer: RtpDepacketizer {
    public init() {}

    public var framesAreSinglePackets: Bool { true }

    /// The one packet's payload; every Opus packet counts as a key frame (a decoder can start at
    /// any packet).
    ///
    /// - Throws: `invalidValue` unless there is exactly one packet, `truncated` for an empty
    ///   payload, `frameTooLarge` past `maximumFrameSize`.
    public func depacketize(_ units: [RtpPayloadUnit], maximumFrameSize: Int) throws(RtpError) -> EncodedFrame {
        try RtpFrameChecks.validate(units)
        guard units.count == 1, let unit = units.first else {
            throw RtpError(.invalidValue, field: "frame", reason: "an Opus frame is one packet, got \(units.count)")
        }
        guard !unit.payload.isEmpty else {
            throw RtpError(.truncated, field: "payload", reason: "empty Opus payload")
        }
        try RtpFrameChecks.checkSize(unit.payload.count, limit: maximumFrameSize)
        return EncodedFrame(bytes: unit.payload, isKeyframe: true, timestamp: unit.timestamp,
                            firstSequenceNumber: unit.sequenceNumber, packetCount: 1)
    }

    /// Every non-empty Opus payload is a frame of its own.
    public func startsFrame(_ payload: [UInt8]) -> Bool { !payload.isEmpty }
}
