/// A typed error of the media file readers and writers (IVF, Ogg Opus): what was wrong, and with
/// which field.
///
/// The readers throw only this error, never trap, read no further than the bytes they were given
/// and allocate no more than the limits they were made with.
public struct MediaFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of problem.
    public enum Code: String, Sendable, Hashable {
        /// The bytes end before a header, a frame or a page is complete.
        case truncated
        /// A signature is wrong (`DKIF`, `OggS`, `OpusHead`, `OpusTags`).
        case badMagic
        /// A field holds a value the format does not allow (a header size below 32, an Ogg page
        /// continuing a packet that never started, a channel count of 0).
        case invalidValue
        /// A well-formed file this implementation does not read (an Ogg version other than 0, an
        /// Opus major version other than 0, a codec other than Opus).
        case unsupported
        /// An Ogg page's CRC-32 does not match its bytes.
        case checksum
        /// A frame, packet or header is larger than the reader's or writer's limit.
        case tooLarge
    }

    /// What kind of problem.
    public var code: Code
    /// The field concerned (`signature`, `headerSize`, `frameSize`, `crc`, `pageSequence`,
    /// `channelCount`, …).
    public var field: String
    /// What was wrong, for a human.
    public var reason: String

    /// An error of `code` about `field`.
    public init(_ code: Code, field: String, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    /// `MediaFileError.code (field): reason`.
    public var description: String { "MediaFileError.\(code.rawValue) (\(field)): \(reason)" }
}

/// Little-endian reads and writes shared by the container formats (IVF and Ogg are both
/// little-endian).
enum LittleEndian {
    /// The `count`-byte little-endian integer at `offset`; the caller checked the bounds.
    static func read(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in (0..<count).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
        return value
    }

    static func append(_ value: UInt64, _ count: Int, to bytes: inout [UInt8]) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
