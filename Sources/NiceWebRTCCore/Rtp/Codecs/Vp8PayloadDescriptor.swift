/// The VP8 payload descriptor at the start of every VP8 RTP payload (RFC 7741 §4.2):
///
/// ```
///      0 1 2 3 4 5 6 7
///     +-+-+-+-+-+-+-+-+
///     |X|R|N|S|R| PID |  (required)
///     +-+-+-+-+-+-+-+-+
/// X:  |I|L|T|K| RSV   |  (optional)
///     +-+-+-+-+-+-+-+-+
/// I:  |M| PictureID   |  (optional; M = 1: 15 bits over two bytes)
///     +-+-+-+-+-+-+-+-+
/// L:  |   TL0PICIDX   |  (optional)
///     +-+-+-+-+-+-+-+-+
/// T/K:|TID|Y| KEYIDX  |  (optional)
///     +-+-+-+-+-+-+-+-+
/// ```
///
/// Reserved bits are ignored when parsing and written as zero; the X byte is written exactly
/// when one of the optional fields is present.
public struct Vp8PayloadDescriptor: Sendable, Hashable {
    /// A picture ID in its wire width.
    public enum PictureID: Sendable, Hashable {
        /// One byte, M = 0: 0–127.
        case sevenBit(UInt8)
        /// Two bytes, M = 1: 0–32767.
        case fifteenBit(UInt16)

        /// The picture ID's value.
        public var value: UInt16 {
            switch self {
            case .sevenBit(let v): UInt16(v)
            case .fifteenBit(let v): v
            }
        }
    }

    /// The T field: temporal layer index and layer sync bit.
    public struct TemporalLayer: Sendable, Hashable {
        /// TID, 0–3.
        public var index: UInt8
        /// Y: the frame depends only on the base layer's key or TL0 frames.
        public var layerSync: Bool

        public init(index: UInt8, layerSync: Bool) {
            self.index = index
            self.layerSync = layerSync
        }
    }

    /// N: the frame is not used as a reference and may be discarded.
    public var nonReference: Bool
    /// S: the payload starts a VP8 partition.
    public var startOfPartition: Bool
    /// PID: the partition index (0–7) the payload's first byte belongs to.
    public var partitionIndex: UInt8
    /// I (with M): the picture ID.
    public var pictureID: PictureID?
    /// L: TL0PICIDX, the running index of the base temporal layer's frames.
    public var tl0PictureIndex: UInt8?
    /// T: the temporal layer.
    public var temporalLayer: TemporalLayer?
    /// K: KEYIDX (0–31), the running index of key frames.
    public var keyIndex: UInt8?

    public init(nonReference: Bool = false, startOfPartition: Bool = true, partitionIndex: UInt8 = 0,
                pictureID: PictureID? = nil, tl0PictureIndex: UInt8? = nil,
                temporalLayer: TemporalLayer? = nil, keyIndex: UInt8? = nil) {
        self.nonReference = nonReference
        self.startOfPartition = startOfPartition
        self.partitionIndex = partitionIndex
        self.pictureID = pictureID
        self.tl0PictureIndex = tl0PictureIndex
        self.temporalLayer = temporalLayer
        self.keyIndex = keyIndex
    }

    /// Whether the payload starts a frame: the start of partition 0 (S = 1, PID = 0).
    public var startsFrame: Bool { startOfPartition && partitionIndex == 0 }

    /// Whether the X byte is present.
    public var isExtended: Bool {
        pictureID != nil || tl0PictureIndex != nil || temporalLayer != nil || keyIndex != nil
    }

    /// The descriptor's size on the wire.
    public var encodedLength: Int {
        var length = 1
        if isExtended { length += 1 }
        switch pictureID {
        case .sevenBit: length += 1
        case .fifteenBit: length += 2
        case nil: break
        }
        if tl0PictureIndex != nil { length += 1 }
        if temporalLayer != nil || keyIndex != nil { length += 1 }
        return length
    }

    /// Parses the descriptor at the start of `payload`.
    ///
    /// - Returns: the descriptor and its length (the VP8 data starts there; it may be empty).
    /// - Throws: `truncated` (field `X`, `pictureID`, `TL0PICIDX` or `TID/KEYIDX`) when the
    ///   payload ends inside the descriptor.
    public static func parse(_ payload: [UInt8]) throws(RtpError) -> (descriptor: Vp8PayloadDescriptor, length: Int) {
        guard let first = payload.first else {
            throw RtpError(.truncated, field: "descriptor", reason: "empty VP8 payload")
        }
        var descriptor = Vp8PayloadDescriptor(nonReference: first & 0x20 != 0, startOfPartition: first & 0x10 != 0,
                                              partitionIndex: first & 0x07)
        var offset = 1
        guard first & 0x80 != 0 else { return (descriptor, offset) }
        func byte(_ field: String) throws(RtpError) -> UInt8 {
            guard offset < payload.count else {
                throw RtpError(.truncated, field: field, reason: "the payload ends at byte \(offset) of the descriptor")
            }
            defer { offset += 1 }
            return payload[offset]
        }
        let x = try byte("X")
        if x & 0x80 != 0 {
            let high = try byte("pictureID")
            if high & 0x80 != 0 {
                let low = try byte("pictureID")
                descriptor.pictureID = .fifteenBit(UInt16(high & 0x7F) << 8 | UInt16(low))
            } else {
                descriptor.pictureID = .sevenBit(high)
            }
        }
        if x & 0x40 != 0 {
            descriptor.tl0PictureIndex = try byte("TL0PICIDX")
        }
        if x & 0x30 != 0 {
            let tk = try byte("TID/KEYIDX")
            if x & 0x20 != 0 {
                descriptor.temporalLayer = TemporalLayer(index: tk >> 6, layerSync: tk & 0x20 != 0)
            }
            if x & 0x10 != 0 {
                descriptor.keyIndex = tk & 0x1F
            }
        }
        return (descriptor, offset)
    }

    /// Appends the descriptor's wire form to `bytes`.
    ///
    /// - Throws: `invalidValue` for a field out of its range (PID > 7, a 7-bit picture ID > 127,
    ///   a 15-bit one > 32767, TID > 3, KEYIDX > 31).
    public func write(to bytes: inout [UInt8]) throws(RtpError) {
        guard partitionIndex <= 7 else {
            throw RtpError(.invalidValue, field: "PID", reason: "\(partitionIndex) is more than 3 bits")
        }
        var first = partitionIndex
        if isExtended { first |= 0x80 }
        if nonReference { first |= 0x20 }
        if startOfPartition { first |= 0x10 }
        bytes.append(first)
        guard isExtended else { return }
        var x: UInt8 = 0
        if pictureID != nil { x |= 0x80 }
        if tl0PictureIndex != nil { x |= 0x40 }
        if temporalLayer != nil { x |= 0x20 }
        if keyIndex != nil { x |= 0x10 }
        bytes.append(x)
        switch pictureID {
        case .sevenBit(let v):
            guard v <= 0x7F else {
                throw RtpError(.invalidValue, field: "pictureID", reason: "\(v) is more than 7 bits")
            }
            bytes.append(v)
        case .fifteenBit(let v):
            guard v <= 0x7FFF else {
                throw RtpError(.invalidValue, field: "pictureID", reason: "\(v) is more than 15 bits")
            }
            bytes.append(0x80 | UInt8(v >> 8))
            bytes.append(UInt8(v & 0xFF))
        case nil:
            break
        }
        if let tl0PictureIndex { bytes.append(tl0PictureIndex) }
        if temporalLayer != nil || keyIndex != nil {
            var tk: UInt8 = 0
            if let temporalLayer {
                guard temporalLayer.index <= 3 else {
                    throw RtpError(.invalidValue, field: "TID", reason: "\(temporalLayer.index) is more than 2 bits")
                }
                tk |= temporalLayer.index << 6
                if temporalLayer.layerSync { tk |= 0x20 }
            }
            if let keyIndex {
                guard keyIndex <= 0x1F else {
                    throw RtpError(.invalidValue, field: "KEYIDX", reason: "\(keyIndex) is more than 5 bits")
                }
                tk |= keyIndex
            }
            bytes.append(tk)
        }
    }

    /// The descriptor's wire form.
    public func encoded() throws(RtpError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedLength)
        try write(to: &bytes)
        return bytes
    }
}
