/// The identification header of an Ogg Opus stream (RFC 7845 §5.1), the first packet, alone on
/// the first page.
///
/// ```
/// "OpusHead"  version (1)  channel count  pre-skip, 16-bit  input sample rate, 32-bit
/// output gain, signed 16-bit Q7.8 dB  mapping family  [stream count, coupled count, mapping]
/// ```
public struct OpusHead: Sendable, Hashable {
    /// The version (1; any version below 16 is read, RFC 7845 §5.1 item 2).
    public var version: UInt8
    /// Output channels (1–255; WebRTC's Opus is 2, RFC 7587 §7).
    public var channelCount: UInt8
    /// 48 kHz samples to discard from the decoder's output at the start (the encoder's delay;
    /// libopus: 312).
    public var preSkip: UInt16
    /// The sample rate the audio had before encoding (informational; 0 for unknown).
    public var inputSampleRate: UInt32
    /// Gain to apply on output, in 1/256 dB.
    public var outputGain: Int16
    /// The channel mapping family (0: mono or stereo, one stream).
    public var mappingFamily: UInt8
    /// Family ≠ 0: streams, coupled streams, then one byte per channel.
    public var mappingTable: [UInt8]

    /// A header; WebRTC's Opus is stereo at 48 kHz.
    public init(version: UInt8 = 1, channelCount: UInt8 = 2, preSkip: UInt16 = 312, inputSampleRate: UInt32 = 48_000,
                outputGain: Int16 = 0, mappingFamily: UInt8 = 0, mappingTable: [UInt8] = []) {
        self.version = version
        self.channelCount = channelCount
        self.preSkip = preSkip
        self.inputSampleRate = inputSampleRate
        self.outputGain = outputGain
        self.mappingFamily = mappingFamily
        self.mappingTable = mappingTable
    }

    /// Reads an `OpusHead` packet.
    ///
    /// - Throws: ``MediaFileError`` `badMagic` without `OpusHead`, `truncated` below 19 bytes or
    ///   before the mapping table, `unsupported` for a version of 16 or more, `invalidValue` for
    ///   0 channels, 2+ channels in family 0, or a mapping table that disagrees with its counts.
    public init(parsing bytes: [UInt8]) throws(MediaFileError) {
        guard bytes.count >= 8, bytes[0..<8].elementsEqual("OpusHead".utf8) else {
            throw MediaFileError(.badMagic, field: "OpusHead", reason: "the first packet of an Ogg Opus stream starts with OpusHead")
        }
        guard bytes.count >= 19 else {
            throw MediaFileError(.truncated, field: "OpusHead", reason: "\(bytes.count) bytes, at least 19")
        }
        version = bytes[8]
        guard version < 16 else {
            throw MediaFileError(.unsupported, field: "version", reason: "OpusHead version \(version), only major version 0 is read")
        }
        channelCount = bytes[9]
        guard channelCount > 0 else { throw MediaFileError(.invalidValue, field: "channelCount", reason: "0 channels") }
        preSkip = UInt16(LittleEndian.read(bytes, 10, 2))
        inputSampleRate = UInt32(LittleEndian.read(bytes, 12, 4))
        outputGain = Int16(bitPattern: UInt16(LittleEndian.read(bytes, 16, 2)))
        mappingFamily = bytes[18]
        if mappingFamily == 0 {
            guard channelCount <= 2 else {
                throw MediaFileError(.invalidValue, field: "channelCount", reason: "\(channelCount) channels in mapping family 0 (at most 2)")
            }
            mappingTable = []
        } else {
            let length = 2 + Int(channelCount)
            guard bytes.count >= 19 + length else {
                throw MediaFileError(.truncated, field: "channelMapping", reason: "family \(mappingFamily) needs \(length) more bytes")
            }
            mappingTable = Array(bytes[19..<(19 + length)])
            let streams = Int(mappingTable[0]), coupled = Int(mappingTable[1])
            guard streams > 0, coupled <= streams, streams + coupled <= 255 else {
                throw MediaFileError(.invalidValue, field: "streamCount", reason: "\(streams) streams with \(coupled) coupled")
            }
        }
    }

    /// The packet's bytes.
    ///
    /// - Throws: ``MediaFileError`` `invalidValue` for 0 channels, or a mapping table whose
    ///   length is not 2 + channels (family ≠ 0) or not empty (family 0).
    public func serialized() throws(MediaFileError) -> [UInt8] {
        guard channelCount > 0 else { throw MediaFileError(.invalidValue, field: "channelCount", reason: "0 channels") }
        let expected = mappingFamily == 0 ? 0 : 2 + Int(channelCount)
        guard mappingTable.count == expected else {
            throw MediaFileError(.invalidValue, field: "channelMapping", reason: "\(mappingTable.count) bytes for family \(mappingFamily), \(expected) expected")
        }
        var bytes = Array("OpusHead".utf8)
        bytes.append(version)
        bytes.append(channelCount)
        LittleEndian.append(UInt64(preSkip), 2, to: &bytes)
        LittleEndian.append(UInt64(inputSampleRate), 4, to: &bytes)
        LittleEndian.append(UInt64(UInt16(bitPattern: outputGain)), 2, to: &bytes)
        bytes.append(mappingFamily)
        bytes.append(contentsOf: mappingTable)
        return bytes
    }
}

/// The comment header of an Ogg Opus stream (RFC 7845 §5.2): a vendor string and user comments
/// (`TITLE=…`), the second packet.
public struct OpusTags: Sendable, Hashable {
    /// The encoder's name.
    public var vendor: String
    /// `NAME=value` comments.
    public var comments: [String]

    /// A comment header with `vendor` and `NAME=value` `comments`.
    public init(vendor: String = "NiceWebRTC", comments: [String] = []) {
        self.vendor = vendor
        self.comments = comments
    }

    /// Reads an `OpusTags` packet (strings that are not UTF-8 are repaired, not refused).
    ///
    /// - Throws: ``MediaFileError`` `badMagic` without `OpusTags`, `truncated` when a length
    ///   goes past the packet.
    public init(parsing bytes: [UInt8]) throws(MediaFileError) {
        guard bytes.count >= 8, bytes[0..<8].elementsEqual("OpusTags".utf8) else {
            throw MediaFileError(.badMagic, field: "OpusTags", reason: "the second packet of an Ogg Opus stream starts with OpusTags")
        }
        var offset = 8
        func string(_ field: String) throws(MediaFileError) -> String {
            guard bytes.count - offset >= 4 else {
                throw MediaFileError(.truncated, field: field, reason: "the packet ends before a 32-bit length")
            }
            let length = Int(LittleEndian.read(bytes, offset, 4))
            offset += 4
            guard bytes.count - offset >= length else {
                throw MediaFileError(.truncated, field: field, reason: "\(length) bytes stated, \(bytes.count - offset) left")
            }
            defer { offset += length }
            return String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
        }
        vendor = try string("vendor")
        guard bytes.count - offset >= 4 else {
            throw MediaFileError(.truncated, field: "commentCount", reason: "the packet ends before the comment count")
        }
        let count = Int(LittleEndian.read(bytes, offset, 4))
        offset += 4
        // Each comment takes at least its 4-byte length: a count beyond that is a lie.
        guard count <= (bytes.count - offset) / 4 else {
            throw MediaFileError(.truncated, field: "commentCount", reason: "\(count) comments stated in \(bytes.count - offset) bytes")
        }
        var comments: [String] = []
        comments.reserveCapacity(count)
        for _ in 0..<count { comments.append(try string("comment")) }
        self.comments = comments
    }

    /// The packet's bytes.
    public func serialized() -> [UInt8] {
        var bytes = Array("OpusTags".utf8)
        func append(_ string: String) {
            let utf8 = Array(string.utf8)
            LittleEndian.append(UInt64(utf8.count), 4, to: &bytes)
            bytes.append(contentsOf: utf8)
        }
        append(vendor)
        LittleEndian.append(UInt64(comments.count), 4, to: &bytes)
        comments.forEach(append)
        return bytes
    }
}

/// The length of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1).
public enum OpusPacketDuration {
    /// The samples at 48 kHz one frame of each of the 32 configurations lasts.
    static func frameSamples(config: Int) -> Int {
        switch config {
        case 0..<12: [480, 960, 1920, 2880][config % 4]  // SILK: 10, 20, 40, 60 ms
        case 12..<16: [480, 960][config % 2]  // Hybrid: 10, 20 ms
        default: [120, 240, 480, 960][config % 4]  // CELT: 2.5, 5, 10, 20 ms
        }
    }

    /// The packet's samples at 48 kHz, or nil when it is empty, a code-3 packet without its
    /// frame count byte, or longer than 120 ms (RFC 6716 §3.2.5: invalid).
    public static func samples(_ packet: [UInt8]) -> Int? {
        guard let toc = packet.first else { return nil }
        let frames: Int
        switch toc & 0x03 {
        case 0: frames = 1
        case 1, 2: frames = 2
        default:
            guard packet.count >= 2 else { return nil }
            frames = Int(packet[1] & 0x3F)
        }
        let total = frames * frameSamples(config: Int(toc >> 3))
        guard frames > 0, total <= 5760 else { return nil }
        return total
    }
}
