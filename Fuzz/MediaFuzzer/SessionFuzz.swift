// Mode 6 of the media fuzzer (Fuzz/MediaFuzzer/main.swift): the media control plane of
// Sources/NiceWebRTCCore/Rtp/Session driven by fuzzed operations — RTP arrivals, NACK polls,
// sent packets, incoming NACKs, report blocks, SRs, keyframe requests, SSRC routes, timer
// deadlines — with small limits so the bounds are reached. After every operation the state
// must stay within its bounds (memory bounded whatever the input) and nothing may trap.

/// Reads the input as a stream of operations; a broken invariant traps.
func checkSession(_ input: [UInt8]) {
    var reader = SessionFuzzReader(input)
    var config = RtpNackGenerator.Configuration()
    config.maxMissing = 32
    var generator = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 2, configuration: config)
    var receive = RtpReceiveStatistics(ssrc: 2, clockRate: 90_000)
    var responderConfig = RtpNackResponder.Configuration()
    responderConfig.historyCapacity = 64
    responderConfig.historyMaxBytes = 8_000
    responderConfig.maxEntriesPerNack = 8
    responderConfig.maxPacketsPerNack = 16
    var responder = RtpNackResponder(ssrc: 3, configuration: responderConfig)
    var sender = RtpSenderStatistics(ssrc: 3, clockRate: 48_000)
    var limiter = KeyframeRequestLimiter(mediaSsrc: 2, minInterval: 500 * RtpClock.millisecond)
    var lastSurfaced: UInt64?
    var table = RtpSsrcTable(capacity: 8)
    var timer = RtcpIntervalTimer(kind: .video)
    var now: UInt64 = 0
    var steps = 0

    while let op = reader.u8(), steps < 4_096 {
        steps += 1
        // Time only moves forward (a monotonic clock), by up to 65 ms a step.
        now &+= UInt64(reader.u16() ?? 0) * 1_000
        switch op % 10 {
        case 0:  // RTP arrival
            guard let seq = reader.u16(), let ts = reader.u32(), let size = reader.u16(), let ssrc = reader.u8() else { return }
            receive.received(sequenceNumber: seq, rtpTimestamp: ts, payloadBytes: Int(size), now: now)
            generator.received(sequenceNumber: seq, now: now)
            let mid: [UInt8]? = ssrc & 0x80 != 0 ? reader.bytes(Int(ssrc & 0x1F)) : nil
            _ = table.routePacket(ssrc: UInt32(ssrc), midExtension: mid)
        case 1:  // NACK poll
            let rtt = UInt64(reader.u16() ?? 0) * 10_000
            if let nack = generator.poll(now: now, roundTripTime: rtt) {
                let numbers = nack.sequenceNumbers
                guard !numbers.isEmpty, numbers.count <= config.maxMissing, nack.entries.count <= numbers.count,
                    (try? nack.serialized()) != nil
                else { sessionViolation("a generated NACK is empty, too long or does not serialize") }
            }
            if let deadline = generator.nextDeadline(roundTripTime: rtt), generator.missingSequenceNumbers.isEmpty {
                sessionViolation("a deadline \(deadline) with nothing missing")
            }
        case 2:  // a packet sent
            guard let seq = reader.u16(), let size = reader.u16() else { return }
            let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: seq), count: Int(size % 12_000))
            responder.recordSent(sequenceNumber: seq, bytes: bytes, now: now)
            sender.recordSent(payloadBytes: bytes.count, rtpTimestamp: UInt32(seq) &* 960, capturedAt: now, isRetransmission: size & 1 == 1)
        case 3:  // an incoming NACK
            guard let count = reader.u8() else { return }
            var entries: [RtcpGenericNack.Entry] = []
            for _ in 0..<count {
                guard let pid = reader.u16(), let blp = reader.u16() else { break }
                entries.append(.init(packetId: pid, lostBitmask: blp))
            }
            let mediaSsrc: UInt32 = count & 0x80 != 0 ? 4 : 3
            let before = responder.counters.packetsResent
            let overCapBefore = responder.counters.packetsOverCap
            let out = responder.respond(to: RtcpGenericNack(senderSsrc: 9, mediaSsrc: mediaSsrc, entries: entries), now: now)
            guard out.count <= responderConfig.maxPacketsPerNack, responder.counters.packetsResent - before == UInt64(out.count)
            else { sessionViolation("a NACK answered with \(out.count) packets") }
            guard mediaSsrc == 3 || out.isEmpty else { sessionViolation("answered a NACK for another SSRC") }
            // Nothing resent twice within the interval at one instant (unless the caps held some back).
            let capped = responder.counters.packetsOverCap != overCapBefore
            let again = responder.respond(to: RtcpGenericNack(senderSsrc: 9, mediaSsrc: mediaSsrc, entries: entries), now: now)
            guard capped || again.isEmpty else { sessionViolation("the same NACK at the same instant resent \(again.count) packets again") }
        case 4:  // a report block about our stream
            guard let raw = reader.bytes(28) else { return }
            let block = RtcpReportBlock(
                ssrc: raw[0] & 1 == 0 ? 3 : 5, fractionLost: raw[1], cumulativeLost: Int32(bitPattern: sessionWord(raw, 2) << 8) >> 8,
                extendedHighestSequenceNumber: sessionWord(raw, 6), jitter: sessionWord(raw, 10),
                lastSenderReport: sessionWord(raw, 14), delaySinceLastSenderReport: sessionWord(raw, 18))
            let arrival = UInt64(sessionWord(raw, 22)) << 32 | UInt64(sessionWord(raw, 24))
            if let rtt = sender.receivedReportBlock(block, arrivalNtp: arrival) {
                guard rtt.isFinite, rtt >= 0, rtt < 32_768 else { sessionViolation("RTT \(rtt) out of range") }
            }
            let remote = sender.remoteInbound
            guard remote.fractionLost >= 0, remote.fractionLost < 1, remote.jitter.isFinite, remote.totalRoundTripTime.isFinite
            else { sessionViolation("remote-inbound-rtp out of range") }
        case 5:  // an SR from the remote source, then our report block and SR
            guard let high = reader.u32(), let low = reader.u32() else { return }
            receive.receivedSenderReport(ntpTimestamp: UInt64(high) << 32 | UInt64(low), now: now)
            if let block = receive.makeReportBlock(now: now &+ UInt64(low) * 1_000) {
                guard (try? RtcpReceiverReport(ssrc: 1, reports: [block]).serialized()) != nil else {
                    sessionViolation("a report block does not serialize: \(block)")
                }
                if let sr = sender.makeSenderReport(now: now, ntp: UInt64(high) << 32, reports: [block]) {
                    guard (try? sr.serialized()) != nil else { sessionViolation("an SR does not serialize") }
                }
            }
            guard receive.inboundStats.jitter.isFinite, receive.inboundStats.jitter >= 0 else { sessionViolation("jitter not finite") }
        case 6:  // keyframe requests both ways
            guard let kind = reader.u8() else { return }
            switch kind % 4 {
            case 0: _ = limiter.makePictureLossIndication(senderSsrc: 1, now: now)
            case 1: _ = limiter.makeFullIntraRequest(senderSsrc: 1, now: now)
            case 2, 3:
                let surfaced =
                    kind % 4 == 2
                    ? limiter.receivedPictureLossIndication(now: now)
                    : limiter.receivedFullIntraRequest(sequenceNumber: kind >> 2, now: now)
                if surfaced {
                    if let last = lastSurfaced, now - last < limiter.minInterval {
                        sessionViolation("two keyframe requests surfaced \(now - last) ns apart")
                    }
                    lastSurfaced = now
                }
            default: break
            }
            let c = limiter.counters
            guard c.incomingSurfaced + c.incomingSuppressed == c.pliReceived + c.firReceived else {
                sessionViolation("incoming keyframe requests not all accounted for")
            }
        case 7:  // an a=ssrc line
            guard let ssrc = reader.u32(), let length = reader.u8(), let mid = reader.bytes(Int(length % 40)) else { return }
            _ = table.learnSignaled(ssrc: ssrc, mid: String(decoding: mid, as: UTF8.self))
        case 8:  // timer
            let random = reader.u32() ?? 0
            let deadline = timer.nextDeadline(after: now, random: random)
            guard deadline > now, deadline - now <= 1_500 * RtpClock.millisecond else { sessionViolation("deadline out of range") }
        default:  // a stream restart with a jump
            guard let seq = reader.u16() else { return }
            for n in 0..<3 { generator.received(sequenceNumber: seq &+ UInt16(n), now: now) }
        }
        // Bounds, whatever the input.
        let history = responder.history
        guard history.storedBytes <= history.maxBytes, history.count <= history.capacity, history.capacity == 64 else {
            sessionViolation("send history over its bounds: \(history.count) packets, \(history.storedBytes) bytes")
        }
        guard generator.missingSequenceNumbers.count <= config.maxMissing else {
            sessionViolation("NACK generator tracks \(generator.missingSequenceNumbers.count) numbers")
        }
        guard table.count <= table.capacity else { sessionViolation("SSRC table holds \(table.count) entries") }
        let block = receive.makeReportBlock(now: now)
        if let block, !(-0x80_0000...0x7F_FFFF).contains(block.cumulativeLost) {
            sessionViolation("cumulative lost \(block.cumulativeLost) beyond 24 bits")
        }
    }
}

/// Reads big-endian integers from the fuzz input, nil at the end.
private struct SessionFuzzReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, at + n <= bytes.count else { return nil }
        defer { at += n }
        return Array(bytes[at..<at + n])
    }

    mutating func u8() -> UInt8? { bytes(1)?[0] }

    mutating func u16() -> UInt16? {
        guard let b = bytes(2) else { return nil }
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func u32() -> UInt32? {
        guard let b = bytes(4) else { return nil }
        return sessionWord(b, 0)
    }
}

/// The big-endian 32-bit word at `i`.
private func sessionWord(_ bytes: [UInt8], _ i: Int) -> UInt32 {
    UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
}

private func sessionViolation(_ message: String) -> Never {
    mediaViolation("session: " + message)
}
