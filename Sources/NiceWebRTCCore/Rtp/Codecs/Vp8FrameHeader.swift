/// The start of a VP8 frame (RFC 6386 §9.1, RFC 7741 §4.3): the 3-byte frame tag, and for a key
/// frame the start code and picture size that follow it.
///
/// ```
///  0 1 2 3 4 5 6 7
/// +-+-+-+-+-+-+-+-+
/// |Size0|H| VER |P|   P = 0: key frame (the "inverse key frame flag")
/// +-+-+-+-+-+-+-+-+
/// |     Size1     |
/// +-+-+-+-+-+-+-+-+
/// |     Size2     |   first partition size = Size0 + 8 * Size1 + 2048 * Size2
/// +-+-+-+-+-+-+-+-+
/// key frames: 9D 01 2A, then width and height, 16 bits little-endian each (2 scale bits, 14 size bits)
/// ```
public struct Vp8FrameHeader: Sendable, Hashable {
    /// P = 0.
    public var isKeyframe: Bool
    /// VER, the decoding profile (0–3 are defined).
    public var version: UInt8
    /// H: the frame is meant to be shown.
    public var showFrame: Bool
    /// The size of the first partition in bytes (19 bits).
    public var firstPartitionSize: Int
    /// The picture size of a key frame (`nil` for inter frames, or when the key frame is too
    /// short or lacks the start code).
    public var dimensions: FrameDimensions?

    /// The key frame start code that follows the frame tag.
    public static let keyframeStartCode: [UInt8] = [0x9D, 0x01, 0x2A]

    /// Reads the header at the start of a VP8 frame.
    ///
    /// - Throws: `truncated` (field `frameTag`) when fewer than 3 bytes are given.
    public init(parsing frame: [UInt8]) throws(RtpError) {
        guard frame.count >= 3 else {
            throw RtpError(.truncated, field: "frameTag", reason: "a VP8 frame tag is 3 bytes, got \(frame.count)")
        }
        let b0 = frame[0]
        isKeyframe = b0 & 0x01 == 0
        version = (b0 >> 1) & 0x07
        showFrame = b0 & 0x10 != 0
        firstPartitionSize = Int(b0 >> 5) | Int(frame[1]) << 3 | Int(frame[2]) << 11
        dimensions = nil
        if isKeyframe, frame.count >= 10, frame[3] == 0x9D, frame[4] == 0x01, frame[5] == 0x2A {
            let w = UInt16(frame[6]) | UInt16(frame[7]) << 8
            let h = UInt16(frame[8]) | UInt16(frame[9]) << 8
            dimensions = FrameDimensions(width: Int(w & 0x3FFF), height: Int(h & 0x3FFF),
                                         horizontalScale: UInt8(w >> 14), verticalScale: UInt8(h >> 14))
        }
    }
}
