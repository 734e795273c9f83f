import Testing

@testable import NiceWebRTCCore

/// The receiver's transport-wide CC recorder: arrivals in, feedback that parses back out.
@Suite("RTP session: transport-wide CC recorder", .timeLimit(.minutes(1)))
struct RtpSessionTransportWideCcTests {
    static let ms: UInt64 = 1_000_000
    /// An arbitrary monotonic start, not a multiple of 64 ms.
    static let t0: UInt64 = 5_000 * ms + 123_456

    /// Serializes and parses back with the core parser.
    static func wire(_ feedback: [RtcpTransportWideCc]) throws -> [RtcpTransportWideCc] {
        try feedback.map { f in
            let bytes = try f.serialized()
            let packets = try RtcpPacket.parseCompound(bytes)
            guard packets.count == 1, case .transportWideCc(let back) = packets[0] else {
                throw RtpError(.invalidValue, field: "test", reason: "not one TWCC")
            }
            return back
        }
    }

    /// Arrival times (ns) the feedback gives, by sequence number, rebuilt from the reference
    /// time and the deltas, relative to the first feedback's reference.
    static func arrivals(_ feedback: [RtcpTransportWideCc]) -> [UInt16: Int64] {
        var out: [UInt16: Int64] = [:]
        for f in feedback {
            var t = Int64(f.referenceTime) * 64_000_000
            for p in f.packets {
                guard let d = p.delta else { continue }
                t += Int64(d) * 250_000
                out[p.sequenceNumber] = t
            }
        }
        return out
    }

    @Test("in order: one feedback, every packet received, deltas of 4 ticks (1 ms), reference in 64 ms units")
    func inOrder() throws {
        var r = TransportWideCcRecorder()
        for i in 0..<20 { r.record(sequenceNumber: UInt16(100 + i), arrival: Self.t0 + UInt64(i) * Self.ms) }
        #expect(r.hasPendingFeedback)
        let f = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        #expect(!r.hasPendingFeedback && r.makeFeedback(senderSsrc: 1, mediaSsrc: 2).isEmpty)
        let one = try #require(f.first)
        #expect(f.count == 1 && one.senderSsrc == 1 && one.mediaSsrc == 2 && one.feedbackPacketCount == 0)
        #expect(one.baseSequenceNumber == 100 && one.packetStatusCount == 20)
        #expect(one.referenceTime == UInt32(Self.t0 / (64 * Self.ms)))
        #expect(one.packets.allSatisfy { $0.status == .receivedSmallDelta })
        #expect(Array(one.deltas.dropFirst()) == Array(repeating: 4, count: 19))
        // The first delta is the base packet's offset from the reference time.
        let firstTick = Int16((Self.t0 % (64 * Self.ms)) / 250_000)
        #expect(one.deltas.first == firstTick)
        // The next feedback counts on.
        r.record(sequenceNumber: 120, arrival: Self.t0 + 30 * Self.ms)
        let next = try #require(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2).first)
        #expect(next.feedbackPacketCount == 1 && next.baseSequenceNumber == 120 && next.packetStatusCount == 1)
    }

    @Test("loss and wrap-around: gaps are not-received, 65530…5 in one feedback")
    func lossAndWrap() throws {
        var r = TransportWideCcRecorder()
        let sent: [UInt16] = [65530, 65531, 65533, 65535, 0, 1, 4, 5]
        for (i, s) in sent.enumerated() { r.record(sequenceNumber: s, arrival: Self.t0 + UInt64(i) * 2 * Self.ms) }
        let f = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        let one = try #require(f.first)
        #expect(f.count == 1 && one.baseSequenceNumber == 65530 && one.packetStatusCount == 12)
        let received = one.packets.filter { $0.status != .notReceived }.map(\.sequenceNumber)
        #expect(received == sent)
        let times = Self.arrivals(f)
        for (i, s) in sent.enumerated() {
            // Ticks are floored: within 250 µs of the truth.
            let truth = Int64(Self.t0 + UInt64(i) * 2 * Self.ms)
            #expect(abs((times[s] ?? 0) - truth) < 250_000, "\(s)")
        }
    }

    @Test("reordering: a late packet gets a negative delta; one arriving after its feedback is reported again")
    func reordering() throws {
        var r = TransportWideCcRecorder()
        r.record(sequenceNumber: 10, arrival: Self.t0)
        r.record(sequenceNumber: 12, arrival: Self.t0 + 1 * Self.ms)
        r.record(sequenceNumber: 11, arrival: Self.t0 + 3 * Self.ms)
        r.record(sequenceNumber: 13, arrival: Self.t0 + 2 * Self.ms)  // clocks may step back too
        let f = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        #expect(f.count == 1 && f.first?.packetStatusCount == 4)
        #expect(f.first?.packets.contains { $0.status == .receivedLargeDelta } == true)
        let times = Self.arrivals(f)
        #expect(times[13].flatMap { t in times[11].map { t - $0 } } == -4 * 250_000)
        // 14, 16 reported with 15 missing; then 15 turns up late.
        r.record(sequenceNumber: 14, arrival: Self.t0 + 10 * Self.ms)
        r.record(sequenceNumber: 16, arrival: Self.t0 + 11 * Self.ms)
        let g = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        #expect(g.first?.baseSequenceNumber == 14 && g.first?.packets.map(\.status) == [.receivedSmallDelta, .notReceived, .receivedSmallDelta])
        r.record(sequenceNumber: 15, arrival: Self.t0 + 12 * Self.ms)
        let h = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        #expect(h.first?.baseSequenceNumber == 15 && h.first?.packetStatusCount == 2)
    }

    @Test("duplicates and packets older than the window are counted, not recorded")
    func duplicatesAndOld() throws {
        var r = TransportWideCcRecorder(limits: .init(window: 64))
        for i in 0..<10 { r.record(sequenceNumber: UInt16(i), arrival: Self.t0 + UInt64(i) * Self.ms) }
        _ = r.makeFeedback(senderSsrc: 1, mediaSsrc: 2)
        r.record(sequenceNumber: 5, arrival: Self.t0 + 50 * Self.ms)
        #expect(r.counters.duplicates == 1 && !r.hasPendingFeedback)
        r.record(sequenceNumber: 200, arrival: Self.t0 + 60 * Self.ms)
        r.record(sequenceNumber: 100, arrival: Self.t0 + 61 * Self.ms)
        #expect(r.counters.tooOld == 1 && r.windowSpan == 64)
        let f = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        #expect(f.count == 1 && f.first?.baseSequenceNumber == 200 && f.first?.packetStatusCount == 1)
    }

    @Test("size bound: feedback is split under the byte limit, contiguous, every packet reported once")
    func splitBySize() throws {
        var r = TransportWideCcRecorder(limits: .init(window: 4096, maximumFeedbackBytes: 200, maximumFeedbackPackets: 100))
        // Arrivals 100 ms back and forth (2-byte deltas) and loss: the worst case per status.
        var received: [UInt16] = []
        for i in 0..<1500 where i % 3 != 1 {
            let s = UInt16(truncatingIfNeeded: 65000 + i)
            r.record(sequenceNumber: s, arrival: Self.t0 + UInt64(i) * Self.ms + (i % 2 == 0 ? 100 * Self.ms : 0))
            received.append(s)
        }
        let raw = r.makeFeedback(senderSsrc: 1, mediaSsrc: 2)
        #expect(raw.count > 1 && raw.allSatisfy { ((try? $0.serialized().count) ?? 999) <= 200 })
        let f = try Self.wire(raw)
        for (a, b) in zip(f, f.dropFirst()) {
            #expect(b.baseSequenceNumber &- a.baseSequenceNumber >= a.packetStatusCount)
            #expect(b.feedbackPacketCount == a.feedbackPacketCount &+ 1)
        }
        let reported = f.flatMap { $0.packets.filter { $0.status != .notReceived }.map(\.sequenceNumber) }
        #expect(reported == received)
    }

    @Test("delta bound: a pause longer than 8 s starts a new feedback with its own reference time")
    func longPause() throws {
        var r = TransportWideCcRecorder()
        r.record(sequenceNumber: 1, arrival: Self.t0)
        r.record(sequenceNumber: 2, arrival: Self.t0 + 9_000 * Self.ms)
        let f = try Self.wire(r.makeFeedback(senderSsrc: 1, mediaSsrc: 2))
        #expect(f.map(\.baseSequenceNumber) == [1, 2] && f.map(\.packetStatusCount) == [1, 1])
        #expect(f.count == 2 && f[1].referenceTime > f[0].referenceTime)
    }

    @Test("a hostile spray of sequence numbers: memory and work bounded, feedback still valid")
    func hostileSpray() throws {
        let limits = TransportWideCcRecorder.Limits(window: 512, maximumFeedbackBytes: 300, maximumFeedbackPackets: 4)
        var r = TransportWideCcRecorder(limits: limits)
        var rng = SplitMix(seed: 42)
        for i in 0..<50_000 {
            r.record(sequenceNumber: UInt16(truncatingIfNeeded: rng.next()), arrival: Self.t0 + UInt64(i) * 10_000)
            #expect(r.windowSpan <= 512 && r.slots.count == 512)
            if i % 1000 == 999 {
                let f = r.makeFeedback(senderSsrc: 1, mediaSsrc: 2)
                #expect(f.count <= 4)
                for p in f { #expect(((try? p.serialized().count) ?? 999) <= 300) }
                _ = try Self.wire(f)
            }
        }
        #expect(r.counters.recorded + r.counters.duplicates + r.counters.tooOld == 50_000)
        // Backlog beyond the per-call bound drains over later calls.
        var calls = 0
        while r.hasPendingFeedback, calls < 1000 {
            _ = r.makeFeedback(senderSsrc: 1, mediaSsrc: 2)
            calls += 1
        }
        #expect(!r.hasPendingFeedback)
    }
}

/// A small deterministic generator for the spray.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
