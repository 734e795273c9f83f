// The media file entries of the media fuzzer (modes 7 and 8 of Fuzz/MediaFuzzer/main.swift), over
// Sources/NiceWebRTCCore/MediaFiles:
//   7  IVF: IvfReader over the rest never traps, returns no more frame bytes than the input
//      holds; a file read to its end writes back (IvfWriter) to one that reads the same header
//      fields and frames.
//   8  Ogg Opus: byte 1's low bit set repairs every page's CRC first (so the fuzzer gets past the
//      checksum), then OggOpusReader over the rest never traps, returns no more packet bytes than
//      the input holds, and a stream read to its end writes back (OggOpusWriter, each packet's
//      samples kept) to one that reads the same head, tags and packets; every page that parses
//      writes back to its own bytes.
// A broken invariant traps (libFuzzer records the input).

func fuzzIvf(_ input: [UInt8]) {
    var reader: IvfReader
    do { reader = try IvfReader(bytes: input, maximumFrameBytes: 1 << 16) } catch {
        guard !error.field.isEmpty, !error.reason.isEmpty else { mediaViolation("IVF error without field or reason: \(error)") }
        return
    }
    var frames: [IvfFrame] = []
    var total = 0
    do {
        while let frame = try reader.next() {
            total += frame.bytes.count + IvfHeader.frameHeaderSize
            guard total <= input.count, frame.bytes.count <= reader.maximumFrameBytes else { mediaViolation("IVF frames exceed the input or limit") }
            frames.append(frame)
        }
    } catch {
        guard !error.field.isEmpty else { mediaViolation("IVF frame error without field: \(error)") }
        return
    }
    guard frames.count == reader.framesRead else { mediaViolation("IVF frame count disagrees") }
    do {
        var writer = try IvfWriter(header: reader.header)
        for frame in frames { try writer.write(frame.bytes, timestamp: frame.timestamp) }
        var again = try IvfReader(bytes: writer.output)
        var header = reader.header
        header.headerSize = UInt16(IvfHeader.size)
        guard again.header == header, try again.readAll() == frames else { mediaViolation("IVF does not read back what was written") }
    } catch {
        mediaViolation("a read IVF file does not write back: \(error)")
    }
}

func fuzzOggOpus(_ data: [UInt8]) {
    guard let flags = data.first else { return }
    var input = Array(data.dropFirst())
    if flags & 1 != 0 { repairOggCrcs(&input) }
    // Every page that parses writes back to its bytes.
    var offset = 0
    for _ in 0..<input.count {
        guard let (page, length) = try? OggPage.parse(input, at: offset) else { break }
        guard let wire = try? page.serialized(), wire[...] == input[offset..<(offset + length)] else {
            mediaViolation("an Ogg page does not write back to its bytes")
        }
        offset += length
    }
    var reader: OggOpusReader
    do { reader = try OggOpusReader(bytes: input, maximumPacketBytes: 1 << 15) } catch {
        guard !error.field.isEmpty, !error.reason.isEmpty else { mediaViolation("Ogg error without field or reason: \(error)") }
        return
    }
    var packets: [OggOpusPacket] = []
    var total = 0
    do {
        while let packet = try reader.next() {
            total += packet.bytes.count
            guard total <= input.count, packet.bytes.count <= reader.maximumPacketBytes else { mediaViolation("Ogg packets exceed the input or limit") }
            packets.append(packet)
        }
    } catch {
        guard !error.field.isEmpty else { mediaViolation("Ogg packet error without field: \(error)") }
        return
    }
    // Empty packets cannot be written (an Opus packet has a TOC byte); the rest round-trips.
    guard packets.allSatisfy({ !$0.bytes.isEmpty }), (try? reader.head.serialized()) != nil else { return }
    do {
        var writer = try OggOpusWriter(head: reader.head, tags: reader.tags, serialNumber: reader.serialNumber)
        for packet in packets { try writer.write(packet.bytes, samples: packet.samples) }
        writer.finish()
        var again = try OggOpusReader(bytes: writer.output, maximumPacketBytes: 1 << 20)
        guard again.head == reader.head, again.tags == reader.tags, try again.readAll().map(\.bytes) == packets.map(\.bytes) else {
            mediaViolation("Ogg Opus does not read back what was written")
        }
    } catch {
        mediaViolation("a read Ogg Opus stream does not write back: \(error)")
    }
}

/// Sets the CRC of every page found from the start (pages as their headers frame them).
private func repairOggCrcs(_ bytes: inout [UInt8]) {
    var offset = 0
    while bytes.count - offset >= OggPage.headerSize {
        let segments = Int(bytes[offset + 26])
        let tableEnd = offset + OggPage.headerSize + segments
        guard tableEnd <= bytes.count else { return }
        let end = tableEnd + bytes[(offset + OggPage.headerSize)..<tableEnd].reduce(0) { $0 + Int($1) }
        guard end <= bytes.count else { return }
        for i in 22..<26 { bytes[offset + i] = 0 }
        let crc = OggCrc.checksum(bytes[offset..<end])
        for i in 0..<4 { bytes[offset + 22 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        offset = end
    }
}
