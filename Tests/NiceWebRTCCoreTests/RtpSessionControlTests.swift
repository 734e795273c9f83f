import Testing

@testable import NiceWebRTCCore

/// Keyframe request limits, the SSRC table, the RTCP interval.
@Suite("RTP session: keyframe requests, SSRC routes, RTCP interval", .timeLimit(.minutes(1)))
struct RtpSessionControlTests {
    static let ms = RtpClock.millisecond

    @Test("Outgoing PLI/FIR at most once per 500 ms; FIR sequence numbers increment")
    func outgoing() throws {
        var k = KeyframeRequestLimiter(mediaSsrc: 42)
        let pliMade = k.makePictureLossIndication(senderSsrc: 1, now: 0)
        let pli = try #require(pliMade)
        #expect(pli.mediaSsrc == 42 && pli.senderSsrc == 1)
        let result1 = k.makePictureLossIndication(senderSsrc: 1, now: 100 * Self.ms)
        #expect(result1 == nil)
        let result2 = k.makeFullIntraRequest(senderSsrc: 1, now: 499 * Self.ms)
        #expect(result2 == nil)
        let fir0Made = k.makeFullIntraRequest(senderSsrc: 1, now: 500 * Self.ms)
        let fir0 = try #require(fir0Made)
        #expect(fir0.entries == [.init(ssrc: 42, sequenceNumber: 0)])
        let fir1Made = k.makeFullIntraRequest(senderSsrc: 1, now: RtpClock.second)
        let fir1 = try #require(fir1Made)
        #expect(fir1.entries.first?.sequenceNumber == 1)
        #expect(k.counters.pliSent == 1 && k.counters.firSent == 2 && k.counters.outgoingSuppressed == 2)
    }

    @Test("An incoming PLI flood surfaces one keyframe request per interval; a repeated FIR is not new")
    func incoming() {
        var k = KeyframeRequestLimiter(mediaSsrc: 42)
        var surfaced = 0
        for i in 0..<10_000 where k.receivedPictureLossIndication(now: UInt64(i) * 100_000) { surfaced += 1 }  // 1 s of PLIs every 0.1 ms
        #expect(surfaced == 2)
        #expect(k.counters.pliReceived == 10_000)
        #expect(k.counters.incomingSuppressed == 9_998)
        let result3 = k.receivedFullIntraRequest(sequenceNumber: 7, now: 5 * RtpClock.second)
        #expect(result3)
        let result4 = k.receivedFullIntraRequest(sequenceNumber: 7, now: 10 * RtpClock.second)
        #expect(!result4)  // retransmitted FIR
        let result5 = k.receivedFullIntraRequest(sequenceNumber: 8, now: 10 * RtpClock.second)
        #expect(result5)
        #expect(k.counters.firReceived == 3)
        // The stats views take their feedback counts from the limiter (and the NACK machines).
        let outbound = RtpSenderStatistics(ssrc: 42, clockRate: 90_000).outboundStats(responder: RtpNackResponder(ssrc: 42), keyframeRequests: k)
        #expect(outbound.pliCount == 10_000 && outbound.firCount == 3 && outbound.nackCount == 0)
        var g = RtpNackGenerator(senderSsrc: 1, mediaSsrc: 42)
        g.received(sequenceNumber: 1, now: 0)
        g.received(sequenceNumber: 3, now: 0)
        _ = g.poll(now: RtpClock.second / 2)
        let inbound = RtpReceiveStatistics(ssrc: 42, clockRate: 90_000).inboundStats(nackGenerator: g, keyframeRequests: k)
        #expect(inbound.nackCount == 1 && inbound.pliCount == 0 && inbound.firCount == 0)
    }

    @Test("SSRC routes are learnt from the mid extension and a=ssrc lines; a flood stops at the cap")
    func ssrcTable() {
        var t = RtpSsrcTable(capacity: 64)
        let result6 = t.routePacket(ssrc: 1, midExtension: nil)
        #expect(result6 == nil)
        #expect(t.counters.droppedUnknown == 1)
        let result7 = t.routePacket(ssrc: 1, midExtension: Array("0".utf8))
        #expect(result7 == "0")
        let result8 = t.routePacket(ssrc: 1, midExtension: nil)
        #expect(result8 == "0")  // learnt
        let result9 = t.learnSignaled(ssrc: 2, mid: "1")
        #expect(result9)
        let result10 = t.routePacket(ssrc: 2, midExtension: Array("0".utf8))
        #expect(result10 == "1")  // signaled wins
        let result11 = t.routePacket(ssrc: 1, midExtension: [0xFF, 0xFE])
        #expect(result11 == "0")  // invalid UTF-8: kept route
        #expect(t.counters.rejectedMids == 1)
        for ssrc in UInt32(100)..<10_100 { _ = t.routePacket(ssrc: ssrc, midExtension: Array("0".utf8)) }
        #expect(t.count == 64)
        #expect(t.counters.droppedOverCapacity == 10_000 - 62)
        t.remove(ssrc: 1)
        #expect(t.route(of: 1) == nil)
        t.remove(mid: "0")
        #expect(t.count == 1)
        var only = RtpSsrcTable(allowedMids: ["a"])
        let result12 = only.routePacket(ssrc: 5, midExtension: Array("b".utf8))
        #expect(result12 == nil)
        let result13 = only.learnSignaled(ssrc: 5, mid: String(repeating: "a", count: 300))
        #expect(!result13)
        let result14 = only.learnSignaled(ssrc: 5, mid: "a")
        #expect(result14)
    }

    @Test("The RTCP interval is 1 s video / 5 s audio × [0.5, 1.5), halved the first time")
    func interval() {
        var video = RtcpIntervalTimer(kind: .video)
        let result15 = video.nextDeadline(after: 10, random: 0)
        #expect(result15 == 10 + 250 * Self.ms)
        let result16 = video.nextDeadline(after: 0, random: 0)
        #expect(result16 == 500 * Self.ms)
        let result17 = video.nextDeadline(after: 0, random: 1 << 31)
        #expect(result17 == RtpClock.second)
        let late = video.nextDeadline(after: 0, random: .max)
        #expect(late < 1_500 * Self.ms && late > 1_499 * Self.ms)
        var audio = RtcpIntervalTimer(kind: .audio)
        _ = audio.nextDeadline(after: 0, random: 0)
        let result18 = audio.nextDeadline(after: 0, random: 1 << 31)
        #expect(result18 == 5 * RtpClock.second)
        var tiny = RtcpIntervalTimer(interval: 0)
        _ = tiny.nextDeadline(after: .max, random: .max)  // wraps, never traps
    }
}
