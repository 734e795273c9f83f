// libFuzzer entry point for the pure RTP/RTCP code of NiceWebRTCCore (Sources/NiceWebRTCCore/Rtp).
//
// Built by Fuzz/media-run.sh together with Sources/NiceWebRTCCore (one module, so internal
// helpers are visible) over Sources/NiceICECore (a module of its own, as in the package). The
// first byte picks a mode; the rest is the input:
//   0  RTP: RtpPacket(parsing:) never traps; a parsed packet writes back to the input exactly
//      (padding filler octets as zero), re-parses equal, and its fields are the input's bits;
//      its header extension elements read back from a canonical rewrite.
//   1  RTCP: RtcpPacket.parseCompound never traps; a parsed compound writes (no throw),
//      re-parses equal, and its second writing equals the first; RtpOrRtcp.classify agrees.
//   2  NACK: the rest as 16-bit sequence numbers: a NACK built from them expands to exactly
//      that set, with no more entries than numbers, and round-trips through the wire; the rest
//      as PID/BLP entries: their expansion rebuilt covers the same set with at most one entry
//      more (greedy is optimal on a line; a set dense all around the circle may cost one more).
//   3  TWCC: the rest as arrivals (2 bytes each: flag, delta) builds feedback that serializes,
//      parses back equal and expands to the same arrivals; the rest as a TWCC body parses or
//      throws, and a parsed one round-trips.
//   4  sequence numbers: an unwrapper fed the rest (16-bit numbers) stays congruent to each
//      input mod 2^16 and moves at most 2^15 per step; isNewer and distance agree.
//   5  header extensions: elements from the rest build a one- or two-byte block exactly when
//      they fit its form, and read back equal through a packet.
//   6  session (Fuzz/MediaFuzzer/SessionFuzz.swift): fuzzed RTP arrivals, NACKs, report
//      blocks, SRs, keyframe requests and SSRC routes drive the Rtp/Session state machines
//      (receive and sender statistics, NACK generator and responder, keyframe limiter, SSRC
//      table, RTCP timer); their memory stays within its bounds and nothing traps.
//   7  IVF files, 8 Ogg Opus files (Fuzz/MediaFuzzer/MediaFiles.swift): the readers never trap,
//      stay within the input and their limits, and what they read writes back and reads equal.
//   9…0x7F  the mode byte modulo 6 (modes 0–5 above).
//   0x80… depacketizers (Fuzz/MediaFuzzer/Depacketizers.swift).
// A broken invariant traps (libFuzzer records the input).

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0, size <= 65_536 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let rest = Array(bytes[1...])
    if bytes[0] >= 0x80 {
        fuzzDepacketizers(rest)
        return 0
    }
    if bytes[0] == 6 {
        checkSession(rest)
        return 0
    }
    if bytes[0] == 7 {
        fuzzIvf(rest)
        return 0
    }
    if bytes[0] == 8 {
        fuzzOggOpus(rest)
        return 0
    }
    switch bytes[0] % 6 {
    case 0: checkRtp(rest)
    case 1: checkRtcp(rest)
    case 2: checkNack(rest)
    case 3: checkTwcc(rest)
    case 4: checkSequenceNumbers(rest)
    default: checkHeaderExtensions(rest)
    }
    return 0
}

// MARK: - RTP

private func checkRtp(_ input: [UInt8]) {
    let packet: RtpPacket
    do {
        packet = try RtpPacket(parsing: input)
    } catch {
        guard !error.field.isEmpty, !error.reason.isEmpty else { mediaViolation("RTP error without field or reason: \(error)") }
        return
    }
    guard input.count >= 12, input[0] >> 6 == 2 else { mediaViolation("parsed an RTP packet that is short or not version 2") }
    guard packet.marker == (input[1] & 0x80 != 0), packet.payloadType == input[1] & 0x7F,
        packet.sequenceNumber == UInt16(input[2]) << 8 | UInt16(input[3]), packet.csrcs.count == Int(input[0] & 0x0F),
        (packet.headerExtension != nil) == (input[0] & 0x10 != 0), (packet.paddingCount > 0) == (input[0] & 0x20 != 0)
    else { mediaViolation("RTP fields differ from the input's bits") }
    var expected = input
    if packet.paddingCount > 1 {
        for i in input.count - Int(packet.paddingCount)..<input.count - 1 { expected[i] = 0 }
    }
    let wire: [UInt8]
    do { wire = try packet.serialized() } catch { mediaViolation("a parsed RTP packet does not serialize: \(error)") }
    guard wire == expected, packet.wireCount == wire.count else { mediaViolation("RTP packet does not write back to its input") }
    guard let again = try? RtpPacket(parsing: wire), again == packet else { mediaViolation("RTP packet does not re-parse equal") }
    if let block = packet.headerExtension, block.form != .other {
        let elements = block.elements
        for element in elements {
            guard block.value(id: element.id) != nil else { mediaViolation("element \(element.id) not found by id") }
        }
        // A canonical rewrite (when the ids are distinct) keeps the elements.
        var rewritten = packet
        if Set(elements.map(\.id)).count == elements.count, let first = elements.first {
            do {
                try rewritten.setExtension(id: first.id, value: first.value)
            } catch {
                mediaViolation("rewriting a parsed element failed: \(error)")
            }
            guard rewritten.headerExtension?.elements == elements else { mediaViolation("canonical rewrite changed the elements") }
            guard let reparsed = try? RtpPacket(parsing: try rewritten.serialized()), reparsed == rewritten else {
                mediaViolation("rewritten packet does not round-trip")
            }
        }
    }
}

// MARK: - RTCP

private func checkRtcp(_ input: [UInt8]) {
    if let kind = RtpOrRtcp.classify(input) {
        guard input.count >= 2, (128...191).contains(input[0]), (kind == .rtcp) == (192...223).contains(input[1]) else {
            mediaViolation("classify is wrong")
        }
    }
    let packets: [RtcpPacket]
    do {
        packets = try RtcpPacket.parseCompound(input)
    } catch {
        guard !error.field.isEmpty else { mediaViolation("RTCP error without field: \(error)") }
        return
    }
    guard !packets.isEmpty, packets.count <= input.count / 4 else { mediaViolation("RTCP packet count out of bounds") }
    let wire: [UInt8]
    do { wire = try RtcpPacket.serializeCompound(packets) } catch { mediaViolation("parsed RTCP does not serialize: \(error)") }
    let again: [RtcpPacket]
    do { again = try RtcpPacket.parseCompound(wire) } catch { mediaViolation("written RTCP does not parse: \(error)") }
    guard again == packets else { mediaViolation("RTCP compound does not re-parse equal") }
    guard (try? RtcpPacket.serializeCompound(again)) == wire else { mediaViolation("RTCP writing is not a fixpoint") }
    for packet in packets {
        switch packet {
        case .raw(let raw):
            guard let copy = try? RtcpRawPacket(raw.bytes), copy == raw else { mediaViolation("a raw packet is not a valid packet") }
        case .genericNack(let nack):
            let expanded = nack.sequenceNumbers
            let rebuilt = RtcpGenericNack(senderSsrc: 0, mediaSsrc: 0, lost: expanded)
            // Greedy from the widest gap is optimal on a line; on the circle at most one more.
            guard Set(rebuilt.sequenceNumbers) == Set(expanded), rebuilt.entries.count <= nack.entries.count + 1 else {
                mediaViolation("a parsed NACK's expansion does not rebuild to its set")
            }
        case .transportWideCc(let twcc):
            let expanded = twcc.packets
            guard expanded.count == Int(twcc.packetStatusCount), expanded.compactMap(\.delta) == twcc.deltas else {
                mediaViolation("TWCC expansion disagrees with its deltas")
            }
        default:
            break
        }
    }
}

// MARK: - NACK

private func checkNack(_ input: [UInt8]) {
    let numbers = stride(from: 0, to: input.count - 1, by: 2).map { word(input, $0) }
    let nack = RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, lost: numbers)
    let set = Set(numbers)
    guard Set(nack.sequenceNumbers) == set, nack.sequenceNumbers.count == set.count, nack.entries.count <= set.count else {
        mediaViolation("NACK built from \(set.count) numbers expands to another set")
    }
    if !set.isEmpty {
        guard let wire = try? nack.serialized(), (try? RtcpPacket.parseCompound(wire)) == [.genericNack(nack)] else {
            mediaViolation("a built NACK does not round-trip")
        }
    }
    // The rest as wire entries.
    let entries = stride(from: 0, to: input.count - 3, by: 4).map { (i: Int) -> RtcpGenericNack.Entry in
        RtcpGenericNack.Entry(packetId: word(input, i), lostBitmask: word(input, i + 2))
    }
    let parsed = RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, entries: entries)
    let expanded = parsed.sequenceNumbers
    let rebuilt = RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, lost: expanded)
    guard Set(rebuilt.sequenceNumbers) == Set(expanded), rebuilt.entries.count <= entries.count + 1 else {
        mediaViolation("rebuilding a NACK's expansion changed the set or grew")
    }
}

// MARK: - TWCC

private func checkTwcc(_ input: [UInt8]) {
    let arrivals: [Int?] = stride(from: 0, to: input.count - 1, by: 2).map { i -> Int? in
        switch input[i] & 3 {
        case 0: nil
        case 1: Int(input[i + 1])
        case 2: Int(Int8(bitPattern: input[i + 1])) * 129
        default: Int(input[i + 1]) * 128
        }
    }
    let reference = UInt32(input.first ?? 0) << 16
    do {
        let twcc = try RtcpTransportWideCc(
            senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: UInt16(input.count), referenceTime: reference, feedbackPacketCount: 3,
            receiveDeltas: arrivals)
        guard twcc.packets.map({ $0.delta.map(Int.init) }) == arrivals else { mediaViolation("TWCC expansion differs from its arrivals") }
        let wire = try twcc.serialized()
        guard try RtcpPacket.parseCompound(wire) == [.transportWideCc(twcc)] else { mediaViolation("built TWCC does not parse back equal") }
    } catch {
        mediaViolation("TWCC from valid arrivals failed: \(error)")
    }
    // The rest as a TWCC body.
    guard let framed = try? RtcpFraming.frame(count: 15, type: 205, body: input, field: "fuzz") else { return }
    if let packets = try? RtcpPacket.parseCompound(framed) {
        guard let wire = try? RtcpPacket.serializeCompound(packets), (try? RtcpPacket.parseCompound(wire)) == packets else {
            mediaViolation("a parsed TWCC body does not round-trip")
        }
    }
}

// MARK: - Sequence numbers

private func checkSequenceNumbers(_ input: [UInt8]) {
    var unwrapper = RtpSequenceUnwrapper()
    var previous: (UInt16, Int64)?
    for i in stride(from: 0, to: input.count - 1, by: 2) {
        let number = word(input, i)
        let value = unwrapper.unwrap(number)
        guard UInt16(truncatingIfNeeded: value) == number else { mediaViolation("unwrapped value is not congruent") }
        if let previous {
            let (last, lastValue) = previous
            let step = value - lastValue
            guard abs(step) <= 32_768, step == Int64(RtpSequenceNumber.distance(from: last, to: number)) else {
                mediaViolation("unwrapper stepped \(step) from \(last) to \(number)")
            }
            guard (step > 0) == RtpSequenceNumber.isNewer(number, than: last) else { mediaViolation("isNewer disagrees with distance") }
            guard number == last || RtpSequenceNumber.isNewer(number, than: last) != RtpSequenceNumber.isNewer(last, than: number) else {
                mediaViolation("isNewer is not antisymmetric")
            }
        }
        previous = (number, value)
    }
}

// MARK: - Header extensions

private func checkHeaderExtensions(_ input: [UInt8]) {
    var elements: [RtpHeaderExtension.Element] = []
    var i = 0
    while i + 1 < input.count {
        let id = input[i], length = min(Int(input[i + 1]), input.count - i - 2)
        elements.append(.init(id: id, value: Array(input[i + 2..<i + 2 + length])))
        i += 2 + length
    }
    let distinct = Set(elements.map(\.id)).count == elements.count
    let fitsOne = distinct && elements.allSatisfy { (1...14).contains($0.id) && (1...16).contains($0.value.count) }
    let fitsTwo = distinct && elements.allSatisfy { $0.id != 0 } && elements.reduce(0, { $0 + 2 + $1.value.count }) <= RtpHeaderExtension.maximumDataCount
    for (oneByte, fits) in [(true, fitsOne), (false, fitsTwo)] {
        let block: RtpHeaderExtension
        do {
            block = oneByte ? try RtpHeaderExtension(oneByte: elements) : try RtpHeaderExtension(twoByte: elements)
        } catch {
            guard !fits else { mediaViolation("a block refused elements that fit its form: \(error)") }
            continue
        }
        guard fits, block.elements == elements else { mediaViolation("a block took elements that do not fit, or changed them") }
        let packet = RtpPacket(payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, headerExtension: block, payload: [1])
        guard let wire = try? packet.serialized(), let back = try? RtpPacket(parsing: wire), back == packet,
            back.headerExtension?.elements == elements
        else { mediaViolation("a built header extension does not round-trip through a packet") }
    }
}

/// The big-endian 16-bit word at `i`.
private func word(_ bytes: [UInt8], _ i: Int) -> UInt16 { UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]) }

/// Reports a broken invariant on stderr (unbuffered, so it survives the trap) and traps,
/// which libFuzzer records as a crash with its reproducer.
func mediaViolation(_ message: String) -> Never {
    invariantViolated("NiceWebRTC media", message)
}
