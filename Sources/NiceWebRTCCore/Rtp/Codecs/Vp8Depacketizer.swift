/// VP8 from RTP (RFC 7741): the frame is the concatenation of the payloads without their
/// descriptors; the first must start partition 0 (S = 1, PID = 0).
public struct Vp8Depacketizer: RtpDepacketizer {
    public init() {}

    /// The VP8 frame; a key frame when its frame tag's P bit is 0 (RFC 7741 §4.3), with the
    /// picture size of a key frame.
    ///
    /// - Throws: `truncated` for a descriptor cut short or a payload with no VP8 data after its
    ///   descriptor; `fragmentation` when the first packet does not start the frame, for a sequence
    ///   gap or mixed timestamps; `frameTooLarge` past `maximumFrameSize`.
    public func depacketize(_ units: [RtpPayloadUnit], maximumFrameSize: Int) throws(RtpError) -> EncodedFrame {
        try RtpFrameChecks.validate(units)
        var frame: [UInt8] = []
        for (index, unit) in units.enumerated() {
            let (descriptor, length) = try Vp8PayloadDescriptor.parse(unit.payload)
            guard length < unit.payload.count else {
                throw RtpError(.truncated, field: "payload", reason: "no VP8 data after the \(length)-byte descriptor")
            }
            if index == 0, !descriptor.startsFrame {
                throw RtpError(.fragmentation, field: "S",
                                    reason: "the first packet does not start partition 0 (S=\(descriptor.startOfPartition ? 1 : 0), PID=\(descriptor.partitionIndex))")
            }
            try RtpFrameChecks.checkSize(frame.count + unit.payload.count - length, limit: maximumFrameSize)
            frame.append(contentsOf: unit.payload[length...])
        }
        // `validate` guarantees a first unit; the frame has at least one byte from it.
        let header = try? Vp8FrameHeader(parsing: frame)
        let keyframe = (frame.first ?? 1) & 0x01 == 0
        return EncodedFrame(bytes: frame, isKeyframe: keyframe, dimensions: keyframe ? header?.dimensions : nil,
                            timestamp: units.first?.timestamp ?? 0,
                            firstSequenceNumber: units.first?.sequenceNumber ?? 0, packetCount: units.count)
    }

    /// S = 1 and PID = 0 with VP8 data after the descriptor.
    public func startsFrame(_ payload: [UInt8]) -> Bool {
        guard let parsed = try? Vp8PayloadDescriptor.parse(payload) else { return false }
        return parsed.descriptor.startsFrame && parsed.length < payload.count
    }

    /// Whether `payload` starts a VP8 key frame: S = 1, PID = 0 and the frame tag's P bit 0
    /// (RFC 7741 §4.3). Lets a forwarder find key frames packet by packet.
    public static func startsKeyframe(_ payload: [UInt8]) -> Bool {
        guard let parsed = try? Vp8PayloadDescriptor.parse(payload),
              parsed.descriptor.startsFrame, parsed.length < payload.count else { return false }
        return payload[parsed.length] & 0x01 == 0
    }
}
