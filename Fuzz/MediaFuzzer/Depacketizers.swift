// The depacketizer entry of the media fuzzer (modes >= 0x80 of Fuzz/MediaFuzzer/main.swift),
// over Sources/NiceWebRTCCore/Rtp/Codecs. The first byte of `data` picks a mode:
//   0  VP8 payload descriptor: the rest parses or throws a typed error; a parsed descriptor
//      writes (no throw) to its own length (one byte less for an X byte without fields) and
//      re-parses equal; a one-packet frame depacketizes to the bytes after the descriptor,
//      a key frame exactly when `startsKeyframe` says so.
//   1  H.264 payloads (the rest as length-prefixed payloads, one byte of length each) form a
//      frame: depacketized or a typed error; a frame is Annex B (starts with 00 00 00 01), within
//      its limit, a key frame only if an IDR or SPS and PPS type byte is in it.
//   2  packetize → depacketize: byte 1 picks the codec (Opus, VP8 in its three picture ID modes,
//      H.264 with or without STAP-A), byte 2 the payload limit, the rest is the frame. A packetized
//      frame has payloads within the limit, the marker on the last (not for Opus) and
//      depacketizes to the frame (H.264: to its canonical Annex B form).
//   3  assembler: byte 1 picks the codec and limits, then records of a flags byte (marker,
//      sequence step 0–3, timestamp step), a length byte and that many payload bytes. Emitted
//      frames stay within the limits and the counters add up.
//   4  VP8 payloads (length-prefixed as in 1) as one frame: depacketized to the concatenation of
//      their data or a typed error.
// A broken invariant traps (libFuzzer records the input).

#if canImport(Glibc)
import Glibc
#endif

/// Feeds `data` to the codec depacketizers, packetizers and the frame assembler; a broken
/// invariant traps.
func fuzzDepacketizers(_ data: [UInt8]) {
    guard let mode = data.first else { return }
    let rest = Array(data.dropFirst())
    switch mode % 5 {
    case 0: fuzzVp8Descriptor(rest)
    case 1: fuzzH264Frame(rest)
    case 2: fuzzPacketizeRoundTrip(rest)
    case 3: fuzzAssembler(rest)
    default: fuzzVp8Frame(rest)
    }
}

private func codecViolation(_ message: String) -> Never {
    invariantViolated("NiceWebRTC codec", message)
}

private func checkTyped(_ error: RtpError) {
    guard !error.field.isEmpty, !error.reason.isEmpty else { codecViolation("codec error without field or reason: \(error)") }
}

/// Length-prefixed payloads (one length byte each) as consecutive units of one frame.
private func fuzzUnits(_ bytes: [UInt8]) -> [RtpPayloadUnit] {
    var units: [RtpPayloadUnit] = []
    var offset = 0
    while offset < bytes.count {
        let length = min(Int(bytes[offset]), bytes.count - offset - 1)
        let payload = Array(bytes[(offset + 1)..<(offset + 1 + length)])
        offset += 1 + length
        units.append(RtpPayloadUnit(payload: payload, marker: false, timestamp: 90_000,
                                    sequenceNumber: 65_530 &+ UInt16(truncatingIfNeeded: units.count)))
    }
    if !units.isEmpty { units[units.count - 1].marker = true }
    return units
}

private func fuzzVp8Descriptor(_ input: [UInt8]) {
    let parsed: (descriptor: Vp8PayloadDescriptor, length: Int)
    do {
        parsed = try Vp8PayloadDescriptor.parse(input)
    } catch {
        checkTyped(error)
        return
    }
    let (descriptor, length) = parsed
    guard length >= 1, length <= 6, length <= input.count else { codecViolation("VP8 descriptor length \(length) of \(input.count)") }
    let wire: [UInt8]
    do { wire = try descriptor.encoded() } catch { codecViolation("a parsed VP8 descriptor does not write: \(error)") }
    let emptyExtension = length == 2 && !descriptor.isExtended
    guard wire.count == descriptor.encodedLength, wire.count == length || (emptyExtension && wire.count == 1) else {
        codecViolation("VP8 descriptor of \(length) bytes writes \(wire.count)")
    }
    guard let again = try? Vp8PayloadDescriptor.parse(wire), again.descriptor == descriptor, again.length == wire.count else {
        codecViolation("VP8 descriptor does not re-parse equal")
    }
    let unit = RtpPayloadUnit(payload: input, marker: true, timestamp: 0, sequenceNumber: 0)
    do {
        let frame = try Vp8Depacketizer().depacketize([unit])
        guard frame.bytes == Array(input[length...]) else { codecViolation("VP8 frame is not the data after the descriptor") }
        guard frame.isKeyframe == Vp8Depacketizer.startsKeyframe(input) else { codecViolation("VP8 key frame flags disagree") }
        if let dimensions = frame.dimensions, !frame.isKeyframe || dimensions.width > 0x3FFF || dimensions.height > 0x3FFF {
            codecViolation("VP8 dimensions on a non-key frame or out of range")
        }
    } catch {
        checkTyped(error)
        guard length == input.count || !descriptor.startsFrame else { codecViolation("a VP8 frame start was refused: \(error)") }
    }
}

private func fuzzH264Frame(_ input: [UInt8]) {
    let units = fuzzUnits(input)
    let limit = 1 + (input.first.map(Int.init) ?? 0) * 64
    do {
        let frame = try H264Depacketizer().depacketize(units, maximumFrameSize: limit)
        guard frame.bytes.count <= limit, frame.bytes.starts(with: H264NalUnit.startCode) else {
            codecViolation("H.264 frame beyond its limit or not Annex B")
        }
        guard frame.packetCount == units.count else { codecViolation("H.264 packet count") }
        if frame.isKeyframe {
            let types = Set(H264NalUnit.units(inAnnexB: frame.bytes).map { H264NalUnit.type($0[$0.startIndex]) })
            // A unit whose body holds a start code splits differently; the type bytes after
            // every start code are still among these.
            let all = Set(frame.bytes.indices.dropFirst(3).filter {
                frame.bytes[$0 - 3] == 0 && frame.bytes[$0 - 2] == 0 && frame.bytes[$0 - 1] == 1
            }.compactMap { $0 < frame.bytes.count ? H264NalUnit.type(frame.bytes[$0]) : nil })
            guard all.contains(5) || (all.contains(7) && all.contains(8)) || types.contains(5) else {
                codecViolation("an H.264 key frame without IDR or SPS + PPS")
            }
        }
    } catch {
        checkTyped(error)
    }
    for unit in units {
        _ = H264Depacketizer().startsFrame(unit.payload)
        _ = H264Depacketizer.startsKeyframe(unit.payload)
    }
}

private func fuzzVp8Frame(_ input: [UInt8]) {
    let units = fuzzUnits(input)
    do {
        let frame = try Vp8Depacketizer().depacketize(units)
        var expected: [UInt8] = []
        for unit in units {
            guard let parsed = try? Vp8PayloadDescriptor.parse(unit.payload) else { codecViolation("accepted a bad VP8 descriptor") }
            expected += unit.payload[parsed.length...]
        }
        guard frame.bytes == expected else { codecViolation("VP8 frame is not the payloads' data") }
    } catch {
        checkTyped(error)
    }
}

private func fuzzPacketizeRoundTrip(_ input: [UInt8]) {
    guard input.count >= 2 else { return }
    let limit = Int(input[1]) + (input[0] & 0x80 != 0 ? 1000 : 0)
    let frame = Array(input.dropFirst(2))
    let first = UInt16(truncatingIfNeeded: Int(input[1]) << 8 | Int(input[0]))
    func check(_ units: [RtpPayloadUnit], marks: Bool) {
        guard units.allSatisfy({ $0.payload.count <= limit && $0.timestamp == 7 }) else { codecViolation("payload over the limit") }
        guard units.enumerated().allSatisfy({ $1.marker == (marks && $0 == units.count - 1) && $1.sequenceNumber == first &+ UInt16(truncatingIfNeeded: $0) }) else {
            codecViolation("marker or sequence numbers wrong")
        }
    }
    switch input[0] % 6 {
    case 0:
        var packetizer = OpusPacketizer()
        guard let units = try? packetizer.packetize(frame, timestamp: 7, firstSequenceNumber: first, maximumPayloadSize: limit) else {
            guard frame.isEmpty || frame.count > limit else { codecViolation("Opus refused a frame that fits") }
            return
        }
        check(units, marks: false)
        guard (try? OpusDepacketizer().depacketize(units))?.bytes == frame else { codecViolation("Opus round trip") }
    case 1, 2, 3:
        let modes: [Vp8Packetizer.PictureIDMode] = [.none, .sevenBit, .fifteenBit]
        var packetizer = Vp8Packetizer(pictureIDMode: modes[Int(input[0] % 6) - 1], firstPictureID: first)
        do {
            let units = try packetizer.packetize(frame, timestamp: 7, firstSequenceNumber: first, maximumPayloadSize: limit)
            check(units, marks: true)
            guard (try? Vp8Depacketizer().depacketize(units))?.bytes == frame else { codecViolation("VP8 round trip") }
        } catch {
            checkTyped(error)
            guard frame.isEmpty || limit <= 4 else { codecViolation("VP8 refused frame \(frame.count) at \(limit): \(error)") }
        }
    default:
        var packetizer = H264Packetizer(aggregatesSmallUnits: input[0] % 6 == 4)
        do {
            let units = try packetizer.packetize(frame, timestamp: 7, firstSequenceNumber: first, maximumPayloadSize: limit)
            check(units, marks: true)
            let expected = H264NalUnit.annexB(H264NalUnit.units(inAnnexB: frame))
            guard let back = try? H264Depacketizer().depacketize(units, maximumFrameSize: expected.count), back.bytes == expected else {
                codecViolation("H.264 round trip")
            }
        } catch {
            checkTyped(error)
        }
    }
}

private func fuzzAssembler(_ input: [UInt8]) {
    guard let selector = input.first else { return }
    let depacketizers: [any RtpDepacketizer] = [OpusDepacketizer(), Vp8Depacketizer(), H264Depacketizer()]
    let limits = FrameAssembler.Limits(maximumFrameBytes: 1 + Int(selector >> 2) * 32, maximumPacketsPerFrame: 1 + Int(selector >> 4))
    var assembler = FrameAssembler(depacketizer: depacketizers[Int(selector % 3)], limits: limits)
    var sequenceNumber: UInt16 = 65_500
    var timestamp: UInt32 = 0
    var pushed = 0
    var emitted = 0
    var offset = 1
    while offset + 1 < input.count, pushed < 4096 {
        let flags = input[offset]
        let length = min(Int(input[offset + 1]), input.count - offset - 2)
        let payload = Array(input[(offset + 2)..<(offset + 2 + length)])
        offset += 2 + length
        sequenceNumber &+= UInt16(flags >> 1 & 0x03)
        if flags & 0x08 != 0 { timestamp &+= 3000 }
        let frames = assembler.push(RtpPayloadUnit(payload: payload, marker: flags & 0x01 != 0, timestamp: timestamp, sequenceNumber: sequenceNumber))
        pushed += 1
        guard frames.count <= 2 else { codecViolation("one packet completed \(frames.count) frames") }
        for frame in frames {
            guard frame.bytes.count <= limits.maximumFrameBytes, frame.packetCount <= limits.maximumPacketsPerFrame,
                  frame.packetCount >= 1 else { codecViolation("an emitted frame beyond the limits") }
        }
        emitted += frames.count
    }
    let counters = assembler.counters
    guard counters.packets == pushed, counters.frames == emitted, emitted <= pushed,
          counters.stalePackets <= pushed, counters.droppedFrames <= pushed else {
        codecViolation("assembler counters do not add up: \(counters)")
    }
    if let error = counters.lastError { checkTyped(error) }
}
