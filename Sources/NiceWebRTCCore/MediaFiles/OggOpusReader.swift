/// One Opus packet of an Ogg Opus file.
public struct OggOpusPacket: Sendable, Hashable {
    /// The Opus packet (TOC byte first), as a decoder or ``OpusPacketizer`` takes it.
    public var bytes: [UInt8]
    /// The stream position at the end of this packet, in 48 kHz samples, pre-skip included (the
    /// page's granule position for the last packet completed on a page; for earlier ones, counted
    /// from the packets' lengths).
    public var granulePosition: Int64
    /// The packet's length in 48 kHz samples, from its TOC byte (0 when the TOC cannot tell).
    public var samples: Int

    /// A packet ending at `granulePosition`, lasting `samples` at 48 kHz.
    public init(bytes: [UInt8], granulePosition: Int64, samples: Int) {
        self.bytes = bytes
        self.granulePosition = granulePosition
        self.samples = samples
    }

    /// The packet's length as a duration (20 ms for WebRTC's usual packets).
    public var duration: Duration { .microseconds(samples * 1000 / 48) }
}

/// Reads the Opus packets of an Ogg Opus file held in memory (RFC 7845; `ffmpeg -c:a libopus
/// … file.ogg`), checking every page's CRC.
///
/// ```swift
/// var reader = try OggOpusReader(bytes: Array(try Data(contentsOf: url)))
/// while let packet = try reader.next() { try track.write(frame: packet.bytes, duration: packet.duration) }
/// ```
///
/// The first logical stream is read (its `OpusHead` and `OpusTags` at ``init(bytes:maximumPacketBytes:)``);
/// pages of other serial numbers are skipped; reading ends at its last page (or at the end of the
/// bytes, for a recording cut short). Packets spanning pages are put together.
///
/// **Bounds.** A packet (headers included) larger than ``maximumPacketBytes`` is an error; a page
/// holds at most 65,025 bytes; nothing is allocated beyond the file's own size. A value: one
/// reader per file, used from one place at a time.
public struct OggOpusReader: Sendable {
    /// 1 MiB: an Opus packet is at most a few kilobytes; `OpusTags` may carry a cover picture.
    public static let defaultMaximumPacketBytes = 1 << 20

    /// The identification header.
    public private(set) var head: OpusHead
    /// The comment header.
    public private(set) var tags: OpusTags
    /// The logical stream's serial number.
    public private(set) var serialNumber: UInt32
    /// The largest packet read.
    public let maximumPacketBytes: Int
    /// The pages of the stream read so far.
    public private(set) var pagesRead = 0

    private let bytes: [UInt8]
    private var offset = 0
    private var nextSequence: UInt32 = 0
    /// The packet continued on the next page, if the last page ended inside one.
    private var partial: [UInt8]?
    /// Completed packets of the current page, not yet returned.
    private var ready: [OggOpusPacket] = []
    private var readyIndex = 0
    private var position: Int64?
    private var ended = false

    /// Reads the headers of `bytes`: `OpusHead` (alone on the first page) and `OpusTags`.
    ///
    /// - Throws: ``MediaFileError``: `badMagic` for a file that is not Ogg or a stream that is not
    ///   Opus, `invalidValue` when the first page does not begin a stream with one packet, and
    ///   the page and header errors of ``OggPage/parse(_:at:)``, ``OpusHead/init(parsing:)`` and
    ///   ``OpusTags/init(parsing:)``.
    public init(bytes: [UInt8], maximumPacketBytes: Int = OggOpusReader.defaultMaximumPacketBytes) throws(MediaFileError) {
        self.bytes = bytes
        self.maximumPacketBytes = max(maximumPacketBytes, 1)
        head = OpusHead()
        tags = OpusTags()
        let (first, length) = try OggPage.parse(bytes, at: 0)
        guard first.isFirst, !first.isContinuation else {
            throw MediaFileError(.invalidValue, field: "headerType", reason: "the first page does not begin a stream")
        }
        serialNumber = first.serialNumber
        offset = length
        pagesRead = 1
        nextSequence = first.sequenceNumber &+ 1
        guard let last = first.segmentTable.last, last < 255,
              first.segmentTable.dropLast().allSatisfy({ $0 == 255 }) else {
            throw MediaFileError(.invalidValue, field: "OpusHead", reason: "the first page must hold the OpusHead packet alone (RFC 7845 §3)")
        }
        head = try OpusHead(parsing: first.data)
        // OpusTags: the next packet, on one or more pages.
        var tagsPacket: [UInt8]?
        for _ in 0..<bytes.count where tagsPacket == nil {
            guard let page = try nextPage() else {
                throw MediaFileError(.truncated, field: "OpusTags", reason: "the file ends before the comment header")
            }
            let packets = try split(page)
            if let tagsBytes = packets.first {
                tagsPacket = tagsBytes
                // Anything after OpusTags on its page (RFC 7845 says there is none) is audio.
                enqueue(Array(packets.dropFirst()), page: page)
            }
        }
        tags = try OpusTags(parsing: tagsPacket ?? [])
    }

    /// The next Opus packet, or nil after the stream's last page (or at the end of the bytes).
    ///
    /// - Throws: ``MediaFileError``: the page errors of ``OggPage/parse(_:at:)`` (`checksum`,
    ///   `truncated`, …), `invalidValue` (field `pageSequence`) for a missing page,
    ///   `invalidValue` (field `headerType`) for a continuation that does not match,
    ///   `truncated` (field `packet`) when the file ends inside a packet, `tooLarge` (field
    ///   `packet`) past ``maximumPacketBytes``.
    public mutating func next() throws(MediaFileError) -> OggOpusPacket? {
        for _ in 0...bytes.count {
            if readyIndex < ready.count {
                defer { readyIndex += 1 }
                return ready[readyIndex]
            }
            guard !ended, let page = try nextPage() else {
                if partial != nil, !ended {
                    throw MediaFileError(.truncated, field: "packet", reason: "the file ends inside a packet")
                }
                return nil
            }
            enqueue(try split(page), page: page)
        }
        return nil
    }

    /// Every packet left (at most `limit`).
    ///
    /// - Throws: as ``next()``.
    public mutating func readAll(limit: Int = .max) throws(MediaFileError) -> [OggOpusPacket] {
        var packets: [OggOpusPacket] = []
        while packets.count < limit, let packet = try next() { packets.append(packet) }
        return packets
    }

    // MARK: Pages

    /// The next page of our stream (others skipped), or nil at the end of the bytes.
    private mutating func nextPage() throws(MediaFileError) -> OggPage? {
        while offset < bytes.count {
            let (page, length) = try OggPage.parse(bytes, at: offset)
            offset += length
            guard page.serialNumber == serialNumber else { continue }
            guard page.sequenceNumber == nextSequence else {
                throw MediaFileError(.invalidValue, field: "pageSequence", reason: "page \(page.sequenceNumber) where \(nextSequence) was expected (a page is missing)")
            }
            nextSequence &+= 1
            pagesRead += 1
            if page.isLast { ended = true }
            return page
        }
        return nil
    }

    /// The packets that end on `page`, with any continued from the previous page.
    private mutating func split(_ page: OggPage) throws(MediaFileError) -> [[UInt8]] {
        guard page.isContinuation == (partial != nil) else {
            throw MediaFileError(.invalidValue, field: "headerType",
                                 reason: page.isContinuation ? "a page continues a packet that did not begin" : "a packet is not continued on the next page")
        }
        var packets: [[UInt8]] = []
        var current = partial ?? []
        partial = nil
        var dataOffset = 0
        for (index, lacing) in page.segmentTable.enumerated() {
            let size = Int(lacing)
            guard current.count + size <= maximumPacketBytes else {
                throw MediaFileError(.tooLarge, field: "packet", reason: "a packet over \(maximumPacketBytes) bytes")
            }
            current.append(contentsOf: page.data[dataOffset..<(dataOffset + size)])
            dataOffset += size
            if lacing < 255 {
                packets.append(current)
                current = []
            } else if index == page.segmentTable.count - 1 {
                partial = current
            }
        }
        return packets
    }

    /// Queues a page's audio packets with their granule positions: counted from the packets'
    /// lengths, the last one taking the page's (which also ends a trimmed stream exactly).
    private mutating func enqueue(_ packets: [[UInt8]], page: OggPage) {
        ready = []
        readyIndex = 0
        guard !packets.isEmpty else { return }
        let samples = packets.map { OpusPacketDuration.samples($0) ?? 0 }
        let pageGranule = page.granulePosition >= 0 ? page.granulePosition : nil
        var running = position ?? (pageGranule.map { $0 - Int64(samples.reduce(0, +)) } ?? 0)
        if page.isLast, position == nil { running = max(running, 0) }
        ready.reserveCapacity(packets.count)
        for (index, packet) in packets.enumerated() {
            running += Int64(samples[index])
            if index == packets.count - 1, let pageGranule { running = pageGranule }
            ready.append(OggOpusPacket(bytes: packet, granulePosition: running, samples: samples[index]))
        }
        position = running
    }
}
