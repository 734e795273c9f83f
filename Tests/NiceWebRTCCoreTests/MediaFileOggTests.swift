import NiceWebRTCCore
import Testing

@Suite("Media files: Ogg Opus")
struct MediaFileOggTests {
    /// A 20 ms CELT packet (config 31: 20 ms, code 0) with `count` bytes after its TOC.
    static func opus(_ fill: UInt8, count: Int = 40) -> [UInt8] { [0xF8] + [UInt8](repeating: fill, count: count) }

    @Test("the Ogg CRC-32: known values (poly 0x04C11DB7, no reflection, init 0)")
    func crc() {
        #expect(OggCrc.checksum([UInt8]()) == 0)
        #expect(OggCrc.checksum(Array("123456789".utf8)) == 0x89A1_897F)  // CRC-32/MPEG-2 with init 0 and no xor
    }

    @Test("a hand-built page: fields, lacing, CRC; a flipped bit fails the CRC")
    func handBuiltPage() throws {
        // OggS, v0, BOS, granule 0, serial 0x01020304, seq 0, crc 0, 1 segment of 19 bytes.
        let head = try OpusHead(channelCount: 2, preSkip: 312, inputSampleRate: 48_000).serialized()
        #expect(head == Array("OpusHead".utf8) + [1, 2, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0])
        let page = try OggPage(isFirst: true, granulePosition: 0, serialNumber: 0x0102_0304, sequenceNumber: 0,
                               segmentTable: [19], data: head).serialized()
        let fields: [UInt8] = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 4, 3, 2, 1, 0, 0, 0, 0]
        var expected: [UInt8] = Array("OggS".utf8)
        expected += fields
        expected += page[22..<26]
        expected += [1, 19]
        #expect(Array(page.prefix(28)) == expected)
        let (parsed, length) = try OggPage.parse(page)
        #expect(length == page.count && parsed.isFirst && !parsed.isLast && parsed.serialNumber == 0x0102_0304 && parsed.data == head)
        var broken = page
        broken[page.count - 1] ^= 0x01
        do {
            _ = try OggPage.parse(broken)
            Issue.record("a flipped bit passed the CRC")
        } catch {
            #expect(error.what == "checksum crc")
        }
    }

    @Test("written then read: head, tags, packets, granule positions, pages per the duration")
    func roundTrip() throws {
        var random = CodecTestRandom(seed: 7)
        let packets = (0..<100).map { i in [0xF8] + random.bytes(1 + (i * 13) % 300) }
        let tags = OpusTags(vendor: "test", comments: ["TITLE=sine", "ARTIST=NiceICE"])
        var writer = try OggOpusWriter(head: OpusHead(channelCount: 1, preSkip: 312), tags: tags, serialNumber: 77)
        for packet in packets { try writer.write(packet) }
        writer.finish()
        #expect(writer.granulePosition == 96_000 && writer.packetCount == 100)
        var reader = try OggOpusReader(bytes: writer.output)
        #expect(reader.head == OpusHead(channelCount: 1, preSkip: 312) && reader.tags == tags && reader.serialNumber == 77)
        let read = try reader.readAll()
        #expect(read.map(\.bytes) == packets)
        #expect(read.map(\.granulePosition) == (1...100).map { Int64($0 * 960) })
        #expect(read.allSatisfy { $0.samples == 960 && $0.duration == .milliseconds(20) })
        #expect(reader.pagesRead == 102)  // head, tags, one page per 20 ms packet

        // One page per second: 50 packets a page.
        var dense = try OggOpusWriter(maximumPageSamples: 48_000)
        for packet in packets { try dense.write(packet) }
        dense.finish()
        var denseReader = try OggOpusReader(bytes: dense.output)
        #expect(try denseReader.readAll().map(\.granulePosition) == (1...100).map { Int64($0 * 960) })
        #expect(denseReader.pagesRead == 4)
    }

    @Test("packets spanning pages: 255-multiples, a 70 kB packet over two pages, TOC lengths", arguments: [254, 255, 510, 70_000])
    func spanning(size: Int) throws {
        let big = Self.opus(0xAB, count: size - 1)
        let packets = [Self.opus(1), big, Self.opus(2), [0xF9, 3], [0xFB, 0x03] + [UInt8](repeating: 4, count: 9)]
        var writer = try OggOpusWriter(maximumPageSamples: 48_000)
        for packet in packets { try writer.write(packet) }
        writer.finish()
        var reader = try OggOpusReader(bytes: writer.output)
        let read = try reader.readAll()
        #expect(read.map(\.bytes) == packets)
        // 20 ms, 20 ms, 20 ms, code 1 (two 20 ms frames), code 3 with 3 frames.
        #expect(read.map(\.samples) == [960, 960, 960, 1920, 2880])
        #expect(read.last?.granulePosition == 7680)
    }

    @Test("an ffmpeg-like stream: two packets per page, other streams' pages skipped, EOS ends reading")
    func interleaved() throws {
        var writer = try OggOpusWriter(serialNumber: 1, maximumPageSamples: 1920)
        for i in 0..<6 { try writer.write(Self.opus(UInt8(i))) }
        writer.finish()
        var pages: [[UInt8]] = []
        var offset = 0
        while offset < writer.output.count {
            let (_, length) = try OggPage.parse(writer.output, at: offset)
            pages.append(Array(writer.output[offset..<(offset + length)]))
            offset += length
        }
        let foreign = try OggPage(isFirst: true, granulePosition: 0, serialNumber: 2, sequenceNumber: 0, segmentTable: [3], data: [1, 2, 3]).serialized()
        var bytes = pages[0] + foreign + pages.dropFirst().joined()
        bytes += foreign  // after EOS: not read
        var reader = try OggOpusReader(bytes: bytes)
        #expect(try reader.readAll().map(\.granulePosition) == [960, 1920, 2880, 3840, 4800, 5760])
        #expect(reader.pagesRead == 5)
    }

    @Test("hostile and broken files: typed errors naming the field")
    func errors() throws {
        var writer = try OggOpusWriter()
        for i in 0..<4 { try writer.write(Self.opus(UInt8(i), count: 600)) }
        writer.finish()
        let good = writer.output
        func error(_ bytes: [UInt8], limit: Int = OggOpusReader.defaultMaximumPacketBytes) -> MediaFileError? {
            do {
                var reader = try OggOpusReader(bytes: bytes, maximumPacketBytes: limit)
                _ = try reader.readAll()
            } catch {
                return error
            }
            return nil
        }
        #expect(error(good) == nil)
        #expect(error([])?.what == "truncated pageHeader")
        #expect(error(Array("RIFF".utf8) + good.dropFirst(4))?.what == "badMagic capturePattern")
        var version = good
        version[4] = 1
        #expect(error(version)?.what == "unsupported version")
        var crc = good
        crc[good.count - 5] ^= 0x40
        #expect(error(crc)?.what == "checksum crc")
        #expect(error(Array(good.dropLast(10)))?.what == "truncated pageData")
        #expect(error(good, limit: 100)?.what == "tooLarge packet")
        // A missing page (the third audio page removed).
        var pages: [[UInt8]] = []
        var offset = 0
        while offset < good.count {
            let (_, length) = try OggPage.parse(good, at: offset)
            pages.append(Array(good[offset..<(offset + length)]))
            offset += length
        }
        var missing = pages
        missing.remove(at: 3)
        #expect(error(Array(missing.joined()))?.what == "invalidValue pageSequence")
        // Not Opus: a Vorbis-like first packet.
        let vorbis = try OggPage(isFirst: true, granulePosition: 0, serialNumber: 1, sequenceNumber: 0, segmentTable: [8], data: Array("\u{1}vorbisX".utf8)).serialized()
        #expect(error(vorbis)?.what == "badMagic OpusHead")
        // Only the head: the file ends before OpusTags.
        #expect(error(pages[0])?.what == "truncated OpusTags")
        // A continuation flag with nothing to continue.
        let continued = try OggPage(isContinuation: true, granulePosition: 960, serialNumber: writer.serialNumber, sequenceNumber: 2,
                                    segmentTable: [3], data: [0xF8, 1, 2]).serialized()
        #expect(error(pages[0] + pages[1] + continued)?.what == "invalidValue headerType")
        // A packet cut at the end of the file (its page ends with 255, no next page).
        let cut = try OggPage(granulePosition: -1, serialNumber: writer.serialNumber, sequenceNumber: 2,
                              segmentTable: [255], data: [0xF8] + [UInt8](repeating: 0, count: 254)).serialized()
        #expect(error(pages[0] + pages[1] + cut)?.what == "truncated packet")
        // OpusTags whose comment count claims more than the packet holds.
        var lying = OpusTags(vendor: "v").serialized()
        lying[lying.count - 4] = 0xFF
        #expect(throws: MediaFileError.self) { try OpusTags(parsing: lying) }
        #expect(throws: MediaFileError.self) { try OpusHead(parsing: Array("OpusHead".utf8) + [1, 0] + [UInt8](repeating: 0, count: 9)) }
        var empty = try OggOpusWriter()
        #expect(throws: MediaFileError.self) { try empty.write([]) }
    }
}
