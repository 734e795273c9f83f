/// Writes an Ogg Opus file (RFC 7845): `OpusHead` alone on the first page, `OpusTags` ending its
/// page, then the Opus packets in pages with their CRCs and granule positions (48 kHz samples,
/// from 0, pre-skip included), the last page marked as such by ``finish()``.
///
/// ```swift
/// var writer = try OggOpusWriter()
/// for await frame in track.frames() { try writer.write(frame.bytes) }
/// writer.finish()
/// try Data(writer.output).write(to: url)   // ffprobe: opus, 48000 Hz, stereo
/// ```
///
/// A page is closed once its packets last ``maximumPageSamples`` (and when 255 lacing values are
/// used): a packet of 20 ms and the default 960 make one page per packet, as ffmpeg's
/// `-page_duration 20000`; larger values pack more packets per page. A packet that does not fit
/// a page goes on over the next ones. For a long recording, ``takeOutput()`` hands over the pages
/// completed so far.
public struct OggOpusWriter: Sendable {
    /// The identification header written first.
    public let head: OpusHead
    /// The comment header written second.
    public let tags: OpusTags
    /// The logical stream's serial number.
    public let serialNumber: UInt32
    /// The duration (48 kHz samples) after which a page is closed.
    public let maximumPageSamples: Int
    /// The position after the last packet written (48 kHz samples, pre-skip included).
    public private(set) var granulePosition: Int64 = 0
    /// The audio packets written.
    public private(set) var packetCount = 0
    /// The completed pages not yet taken.
    public private(set) var output: [UInt8] = []
    /// Whether ``finish()`` was called (later writes throw).
    public private(set) var isFinished = false

    private var sequence: UInt32 = 0
    private var table: [UInt8] = []
    private var data: [UInt8] = []
    /// The page being built begins with the rest of a packet from the previous page.
    private var continued = false
    /// The position after the last packet completed on the page being built (-1: none yet).
    private var pageGranule: Int64 = -1
    private var pageSamples = 0
    private var pageClosed = false

    /// Starts a stream: the `OpusHead` and `OpusTags` pages go to ``output`` at once.
    ///
    /// - Throws: ``MediaFileError`` `invalidValue` for a head that cannot be written
    ///   (``OpusHead/serialized()``).
    public init(head: OpusHead = OpusHead(), tags: OpusTags = OpusTags(), serialNumber: UInt32 = 0x4E49_4345,
                maximumPageSamples: Int = 960) throws(MediaFileError) {
        self.head = head
        self.tags = tags
        self.serialNumber = serialNumber
        self.maximumPageSamples = max(maximumPageSamples, 1)
        try append(head.serialized(), samples: 0)
        try flush(last: false)
        try append(tags.serialized(), samples: 0)
        try flush(last: false)
    }

    /// Appends one Opus packet.
    ///
    /// - Parameter samples: its length in 48 kHz samples; nil reads it from the TOC byte
    ///   (``OpusPacketDuration``).
    /// - Throws: ``MediaFileError`` `invalidValue` (field `packet`) for an empty packet, a TOC
    ///   that states no valid length while `samples` is nil, a negative `samples`, or a write after
    ///   ``finish()``.
    public mutating func write(_ packet: [UInt8], samples: Int? = nil) throws(MediaFileError) {
        guard !isFinished else { throw MediaFileError(.invalidValue, field: "packet", reason: "the stream is finished") }
        guard !packet.isEmpty else { throw MediaFileError(.invalidValue, field: "packet", reason: "an empty Opus packet") }
        guard let length = samples ?? OpusPacketDuration.samples(packet), length >= 0 else {
            throw MediaFileError(.invalidValue, field: "packet", reason: "the TOC byte states no valid length; pass samples")
        }
        if pageClosed { try flush(last: false) }
        try append(packet, samples: length)
        packetCount += 1
    }

    /// Writes the last page (marked end of stream). Idempotent.
    public mutating func finish() {
        guard !isFinished else { return }
        isFinished = true
        // The table and data are consistent by construction: flush cannot throw here.
        try? flush(last: true)
    }

    /// The pages completed since the last call, leaving ``output`` empty.
    public mutating func takeOutput() -> [UInt8] {
        defer { output = [] }
        return output
    }

    // MARK: Pages

    private mutating func append(_ packet: [UInt8], samples: Int) throws(MediaFileError) {
        var offset = 0
        // A packet is ⌊n/255⌋ values of 255 and one of n mod 255 (0 when n is a multiple).
        for _ in 0...(packet.count / 255) {
            if table.count == OggPage.maximumSegments {
                try flush(last: false)
                continued = offset > 0
            }
            let size = min(255, packet.count - offset)
            table.append(UInt8(size))
            data.append(contentsOf: packet[offset..<(offset + size)])
            offset += size
        }
        granulePosition += Int64(samples)
        pageGranule = granulePosition
        pageSamples += samples
        if pageSamples >= maximumPageSamples || table.count == OggPage.maximumSegments { pageClosed = true }
    }

    private mutating func flush(last: Bool) throws(MediaFileError) {
        let page = OggPage(isContinuation: continued, isFirst: sequence == 0, isLast: last, granulePosition: pageGranule,
                           serialNumber: serialNumber, sequenceNumber: sequence, segmentTable: table, data: data)
        output.append(contentsOf: try page.serialized())
        sequence &+= 1
        table = []
        data = []
        continued = false
        pageGranule = -1
        pageSamples = 0
        pageClosed = false
    }
}
