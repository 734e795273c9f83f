/// VP8 over RTP (RFC 7741): a frame split across packets, each with a payload descriptor; S = 1
/// and PID = 0 on the first, the marker bit on the last.
public struct Vp8Packetizer: RtpPacketizer {
    /// Whether the descriptors carry a picture ID, and in which width.
    public enum PictureIDMode: Sendable, Hashable {
        /// No picture ID: a 1-byte descriptor.
        case none
        /// A 7-bit picture ID (wrapping at 128): a 3-byte descriptor.
        case sevenBit
        /// A 15-bit picture ID (wrapping at 32768), as browsers send: a 4-byte descriptor.
        case fifteenBit
    }

    /// The picture ID mode.
    public var pictureIDMode: PictureIDMode
    /// The picture ID of the next frame; advances by one per frame, wrapping at the mode's width.
    public var nextPictureID: UInt16

    /// - Parameters:
    ///   - pictureIDMode: `.fifteenBit` by default (what Chrome and Firefox send; receivers use it
    ///     to tell frames apart after loss).
    ///   - firstPictureID: the first frame's picture ID (reduced to the mode's width); a random
    ///     start is usual.
    public init(pictureIDMode: PictureIDMode = .fifteenBit, firstPictureID: UInt16 = 0) {
        self.pictureIDMode = pictureIDMode
        self.nextPictureID = firstPictureID
    }

    /// The frame's payloads, each a descriptor and as much of the frame as fits.
    ///
    /// - Throws: `invalidValue` for an empty frame, `payloadLimit` when `maximumPayloadSize`
    ///   cannot hold the descriptor and one byte.
    public mutating func payloads(for frame: [UInt8], maximumPayloadSize: Int) throws(RtpError) -> [[UInt8]] {
        guard !frame.isEmpty else {
            throw RtpError(.invalidValue, field: "frame", reason: "an empty VP8 frame")
        }
        var descriptor = Vp8PayloadDescriptor(startOfPartition: true, partitionIndex: 0)
        switch pictureIDMode {
        case .none:
            break
        case .sevenBit:
            descriptor.pictureID = .sevenBit(UInt8(truncatingIfNeeded: nextPictureID & 0x7F))
        case .fifteenBit:
            descriptor.pictureID = .fifteenBit(nextPictureID & 0x7FFF)
        }
        let headerLength = descriptor.encodedLength
        try RtpFrameChecks.checkPayloadLimit(maximumPayloadSize, overhead: headerLength, codec: "VP8")
        let chunk = maximumPayloadSize - headerLength
        var result: [[UInt8]] = []
        result.reserveCapacity((frame.count + chunk - 1) / chunk)
        var offset = 0
        while offset < frame.count {
            let end = offset + min(chunk, frame.count - offset)
            var payload: [UInt8] = []
            payload.reserveCapacity(headerLength + end - offset)
            descriptor.startOfPartition = offset == 0
            try descriptor.write(to: &payload)
            payload.append(contentsOf: frame[offset..<end])
            result.append(payload)
            offset = end
        }
        switch pictureIDMode {
        case .none: break
        case .sevenBit: nextPictureID = (nextPictureID &+ 1) & 0x7F
        case .fifteenBit: nextPictureID = (nextPictureID &+ 1) & 0x7FFF
        }
        return result
    }
}
