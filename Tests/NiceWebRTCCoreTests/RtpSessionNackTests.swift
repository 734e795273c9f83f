import Testing

@testable import NiceWebRTCCore

/// NACK generation (receiver side) and answering (sender side, from the send history).
@Suite("RTP session: NACKs", .timeLimit(.minutes(1)))
struct RtpSessionNackTests {
    static let ms = RtpClock.millisecond

    @Test("A gap is NACKed after the reorder delay; a reordered arrival cancels it; retries are spaced by the RTT")
    func generate() throws {
        var g = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 2)
        g.received(sequenceNumber: 10, now: 0)
        g.received(sequenceNumber: 13, now: 0)
        #expect(g.missingSequenceNumbers == [11, 12])
        let result1 = g.poll(now: 5 * Self.ms)
        #expect(result1 == nil)  // within the reorder delay
        g.received(sequenceNumber: 12, now: 6 * Self.ms)  // reordered: no NACK for it
        #expect(g.counters.reordered == 1)
        let firstMade = g.poll(now: 10 * Self.ms)
        let first = try #require(firstMade)
        #expect(first.senderSsrc == 1 && first.mediaSsrc == 2)
        #expect(first.sequenceNumbers == [11])
        let result2 = g.poll(now: 15 * Self.ms)
        #expect(result2 == nil)  // retry not yet due (20 ms)
        let result3 = g.nextDeadline()
        #expect(result3 == 30 * Self.ms)
        let made1 = g.poll(now: 30 * Self.ms)
        let made1Value = try #require(made1)
        #expect(made1Value.sequenceNumbers == [11])
        let result4 = g.poll(now: 100 * Self.ms, roundTripTime: 100 * Self.ms)
        #expect(result4 == nil)  // RTT spacing
        let made2 = g.poll(now: 130 * Self.ms, roundTripTime: 100 * Self.ms)
        let made2Value = try #require(made2)
        #expect(made2Value.sequenceNumbers == [11])
        g.received(sequenceNumber: 11, now: 140 * Self.ms)
        #expect(g.counters.recovered == 1)
        #expect(g.missingSequenceNumbers.isEmpty)
        let result5 = g.poll(now: 500 * Self.ms)
        #expect(result5 == nil)
        let result6 = g.nextDeadline()
        #expect(result6 == nil)
        #expect(g.counters.nacksSent == 3)
        #expect(g.counters.numbersRequested == 3)
        let result7 = g.takeKeyframeNeeded()
        #expect(!result7)
    }

    @Test("Missing numbers are given up after the max age and after the max retries")
    func giveUp() throws {
        var config = RtpNackGenerator.Configuration()
        config.maxRetries = 3
        var g = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 2, configuration: config)
        g.received(sequenceNumber: 0, now: 0)
        g.received(sequenceNumber: 2, now: 0)
        var sent = 0
        var t: UInt64 = 0
        while t < 2 * RtpClock.second {
            if g.poll(now: t) != nil { sent += 1 }
            t += 5 * Self.ms
        }
        #expect(sent == 3)
        #expect(g.counters.givenUp == 1)
        #expect(g.missingSequenceNumbers.isEmpty)

        var aged = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 2)
        aged.received(sequenceNumber: 0, now: 0)
        aged.received(sequenceNumber: 2, now: 0)
        let result8 = aged.poll(now: RtpClock.second + 1)
        #expect(result8 == nil)  // older than 1 s: given up unasked
        #expect(aged.counters.givenUp == 1)
        #expect(aged.counters.nacksSent == 0)
    }

    @Test("Gaps across the 65535 wrap are NACKed by their 16-bit numbers")
    func wrap() throws {
        var g = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 2)
        g.received(sequenceNumber: 65_534, now: 0)
        g.received(sequenceNumber: 1, now: 0)
        #expect(g.missingSequenceNumbers == [65_535, 0])
        let nackMade = g.poll(now: 20 * Self.ms)
        let nack = try #require(nackMade)
        #expect(Set(nack.sequenceNumbers) == [65_535, 0])
        #expect(nack.entries.count == 1)
    }

    @Test("The missing list is bounded: overflow gives up the oldest and asks for a keyframe; a big jump restarts")
    func bounded() throws {
        var g = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 2)
        g.received(sequenceNumber: 0, now: 0)
        g.received(sequenceNumber: 300, now: 0)  // 299 missing, 256 kept
        #expect(g.missingSequenceNumbers.count == 256)
        #expect(g.missingSequenceNumbers.first == 44)
        #expect(g.counters.givenUp == 43)
        let result9 = g.takeKeyframeNeeded()
        #expect(result9)
        let result10 = g.takeKeyframeNeeded()
        #expect(!result10)
        g.received(sequenceNumber: 302, now: 0)  // one more: the oldest goes
        #expect(g.missingSequenceNumbers.count == 256)
        #expect(g.missingSequenceNumbers.first == 45)
        let result11 = g.takeKeyframeNeeded()
        #expect(result11)
        let nackMade = g.poll(now: 20 * Self.ms)
        let nack = try #require(nackMade)
        #expect(nack.sequenceNumbers.count == 256)
        #expect(nack.entries.count <= 17)
        g.received(sequenceNumber: 10_000, now: 0)  // a jump: restart
        #expect(g.missingSequenceNumbers.isEmpty)
        #expect(g.counters.restarts == 1)
        let result12 = g.takeKeyframeNeeded()
        #expect(result12)
    }

    @Test("The send history is a wrap-aware ring bounded in slots and bytes")
    func history() {
        var h = RtpSendHistory(capacity: 500)
        #expect(h.capacity == 512)
        for n in 0..<600 { h.record(sequenceNumber: UInt16(n), bytes: [UInt8(n & 0xFF)], now: UInt64(n)) }
        #expect(h.lookup(0) == nil)
        #expect(h.lookup(87) == nil)
        #expect(h.lookup(88)?.bytes == [88])
        #expect(h.lookup(599)?.sentAt == 599)
        #expect(h.lookup(600) == nil)
        #expect(h.count == 512)

        var w = RtpSendHistory(capacity: 64)
        for n in 65_500..<65_556 { w.record(sequenceNumber: UInt16(truncatingIfNeeded: n), bytes: [1], now: 0) }
        #expect(w.lookup(65_530) != nil)
        #expect(w.lookup(19) != nil)
        #expect(w.lookup(20) == nil)

        var b = RtpSendHistory(capacity: 512, maxBytes: 10_000)
        for n in 0..<100 { b.record(sequenceNumber: UInt16(n), bytes: Array(repeating: 0, count: 1_000), now: 0) }
        #expect(b.storedBytes <= 10_000)
        #expect(b.count == 10)
        #expect(b.lookup(99) != nil && b.lookup(90) != nil && b.lookup(89) == nil)
        b.record(sequenceNumber: 100, bytes: Array(repeating: 0, count: 20_000), now: 0)
        #expect(b.oversizedDropped == 1)
        // A jump past the ring forgets everything; a packet far behind is not kept.
        b.record(sequenceNumber: 5_000, bytes: [1], now: 0)
        #expect(b.count == 1 && b.lookup(99) == nil)
        b.record(sequenceNumber: 1_000, bytes: [1], now: 0)
        #expect(b.count == 1 && b.lookup(1_000) == nil)
    }

    @Test("The responder resends from history, once per interval per packet")
    func respond() throws {
        var r = RtpNackResponder(ssrc: 2)
        for n in 0..<300 { r.recordSent(sequenceNumber: UInt16(n), bytes: [UInt8(n & 0xFF), 0], now: 0) }
        let nack = RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, entries: [.init(packetId: 100, lostBitmask: 0xFFFF)])
        let sent = r.respond(to: nack, now: 0)
        #expect(sent.count == 17)
        #expect(sent.first == [100, 0])
        #expect(sent.last == [116, 0])
        let result13 = r.respond(to: nack, now: 5 * Self.ms)
        #expect(result13.isEmpty)  // within 10 ms
        #expect(r.counters.packetsRateLimited == 17)
        let result14 = r.respond(to: nack, now: 10 * Self.ms)
        #expect(result14.count == 17)
        let result15 = r.respond(to: nack, now: 30 * Self.ms, roundTripTime: 50 * Self.ms)
        #expect(result15.isEmpty)  // RTT widens it
        let result16 = r.respond(to: RtcpGenericNack(senderSsrc: 1, mediaSsrc: 3, lost: [1]), now: 0)
        #expect(result16.isEmpty)
        #expect(r.counters.nacksForOtherSsrc == 1)
        let result17 = r.respond(to: RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, lost: [400]), now: 0)
        #expect(result17.isEmpty)
        #expect(r.counters.packetsNotInHistory == 1)
        #expect(r.counters.packetsResent == 34)
        #expect(r.history.lookup(100)?.resendCount == 2)
    }

    @Test("A NACK storm (1,000 NACKs × 17 numbers, and one NACK of 1,000 entries) costs bounded output")
    func storm() {
        var r = RtpNackResponder(ssrc: 2)
        for n in 0..<512 { r.recordSent(sequenceNumber: UInt16(n), bytes: Array(repeating: 0, count: 1_200), now: 0) }
        var total = 0
        var x: UInt32 = 1
        for _ in 0..<1_000 {
            x = x &* 1_664_525 &+ 1_013_904_223
            let nack = RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, entries: [.init(packetId: UInt16(x % 520), lostBitmask: 0xFFFF)])
            let out = r.respond(to: nack, now: Self.ms)
            #expect(out.count <= 17)
            total += out.count
        }
        #expect(total <= 512)  // each packet at most once per interval
        #expect(r.counters.nacksReceived == 1_000)
        let huge = RtcpGenericNack(
            senderSsrc: 1, mediaSsrc: 2, entries: (0..<1_000).map { .init(packetId: UInt16($0 * 17 % 512), lostBitmask: 0xFFFF) })
        let out = r.respond(to: huge, now: RtpClock.second)
        #expect(out.count == r.configuration.maxPacketsPerNack)
        #expect(r.counters.packetsOverCap > 0)
    }
}
