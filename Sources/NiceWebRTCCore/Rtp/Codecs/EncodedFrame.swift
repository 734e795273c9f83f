/// One encoded media frame put together from the RTP packets that carried it: the codec's own
/// bitstream (an Opus packet, a VP8 frame, an H.264 access unit in Annex-B form).
public struct EncodedFrame: Sendable, Hashable {
    /// The frame as a decoder or a container (IVF, Ogg, MP4) takes it.
    public var bytes: [UInt8]
    /// A decoder can start here without earlier frames: a VP8 key frame, an H.264 access unit with
    /// an IDR slice or an SPS and a PPS; every Opus packet.
    public var isKeyframe: Bool
    /// The picture size a VP8 key frame states (`nil` for other frames and codecs).
    public var dimensions: FrameDimensions?
    /// The RTP timestamp of the frame's packets.
    public var timestamp: UInt32
    /// The sequence number of the frame's first packet.
    public var firstSequenceNumber: UInt16
    /// How many RTP packets carried the frame.
    public var packetCount: Int

    public init(bytes: [UInt8], isKeyframe: Bool, dimensions: FrameDimensions? = nil, timestamp: UInt32, firstSequenceNumber: UInt16, packetCount: Int) {
        self.bytes = bytes
        self.isKeyframe = isKeyframe
        self.dimensions = dimensions
        self.timestamp = timestamp
        self.firstSequenceNumber = firstSequenceNumber
        self.packetCount = packetCount
    }

    /// The sequence number of the frame's last packet.
    public var lastSequenceNumber: UInt16 {
        firstSequenceNumber &+ UInt16(truncatingIfNeeded: max(packetCount - 1, 0))
    }
}

/// A picture size in pixels, with the upscaling a VP8 key frame asks for (RFC 6386 §9.1).
public struct FrameDimensions: Sendable, Hashable {
    public var width: Int
    public var height: Int
    /// VP8's 2-bit horizontal scale code (0: none, 1: 5/4, 2: 5/3, 3: 2).
    public var horizontalScale: UInt8
    /// VP8's 2-bit vertical scale code.
    public var verticalScale: UInt8

    public init(width: Int, height: Int, horizontalScale: UInt8 = 0, verticalScale: UInt8 = 0) {
        self.width = width
        self.height = height
        self.horizontalScale = horizontalScale
        self.verticalScale = verticalScale
    }
}
