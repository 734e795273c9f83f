import Foundation
import NiceICE
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

@Suite("Media: hostile input after the keys")
struct MediaHostileInputTests {
    @Test("forged datagrams, random RTP and RTCP under valid SRTP, an SSRC flood: dropped and counted, media still flows",
          .timeLimit(.minutes(1)))
    func hostile() async throws {
        let a = try mediaPeer(), b = try mediaPeer()
        let links = trickle(a, b)
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v")
        let sender = try a.addTrack(video, streamIds: ["s"])
        let channel = try a.createDataChannel("c")
        let tracks = b.trackEvents()
        try await negotiate(a, b)
        let track = try #require(await first(1, of: tracks).first?.track)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let reader = TrackReader(track)
        var progress = reader.progress.makeAsyncIterator()
        video.write(serverPacket(0))
        #expect(await reader.wait(for: 1, &progress))
        let srtpA = try #require(a.core.media.srtp)
        let srtpB = try #require(b.core.media.srtp)
        var rng = SystemRandomNumberGenerator()
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }

        let mid = try #require(b.transceivers.first?.mid)
        let midId = try #require(b.core.media.state.withLock { $0.bindings.values.first?.receive?.midExtensionId })
        let payloadType = try #require(sender.codec?.payloadType)
        // RTX (RFC 4588) on its own SSRC, learnt by the mid: unwrapped to the original packet; one
        // too short to hold an OSN is dropped.
        let rtxType = try #require(b.core.media.state.withLock { $0.bindings.values.first?.receive?.rtx.first { $0.value == payloadType }?.key })
        var rtx = RtpPacket(payloadType: rtxType, sequenceNumber: 7, timestamp: 42, ssrc: 0x0BAD_F00D, payload: [0x12, 0x34, 9, 9, 9])
        try rtx.setExtension(id: midId, value: Array(mid.utf8))
        var shortRtx = rtx
        shortRtx.sequenceNumber = 8
        shortRtx.payload = [1]
        let rtxBefore = b.core.media.counters
        try srtpA.sendRtp(try rtx.serialized())
        try srtpA.sendRtp(try shortRtx.serialized())
        // Both seen before the flood starts (two datagrams on loopback: nothing to lose them).
        #expect(await eventually { b.core.media.counters.rtxUnwrapped == rtxBefore.rtxUnwrapped + 1 && b.core.media.counters.rtxDropped == rtxBefore.rtxDropped + 1 }, "\(b.core.media.counters)")
        // Forged: RTP's first byte, no valid tag (SRTP drops them: authentication).
        for i in 0..<100 {
            var bytes = random(12 + i)
            bytes[0] = 0x80 | (bytes[0] & 0x3F)
            try? a.core.dtls.core.connection.send(bytes)
        }
        // Authenticated garbage: random bodies behind valid RTP and RTCP first bytes.
        for i in 0..<200 {
            var rtp = random(12 + i % 60)
            rtp[0] = 0x80 | (rtp[0] & 0x0F)
            rtp[1] = rtp[1] & 0x3F  // PT 0–63: never RTCP
            try? srtpA.sendRtp(rtp)
            var rtcp = random(8 + (i % 10) * 4)
            rtcp[0] = 0x80 | (rtcp[0] & 0x1F)
            rtcp[1] = 200 + UInt8(i % 7)
            try? srtpA.sendRtcp(rtcp)
        }
        // An SSRC flood carrying the right mid: at most learntSsrcLimit are learnt.
        for i in 0..<200 {
            var p = RtpPacket(payloadType: payloadType, sequenceNumber: UInt16(i), timestamp: 0, ssrc: 0x1000_0000 + UInt32(i), payload: [1, 2, 3])
            try p.setExtension(id: midId, value: Array(mid.utf8))
            try? srtpA.sendRtp(try p.serialized())
        }
        // Real media still arrives after all of it. The ~700 datagrams above go out in one burst
        // and a loaded machine may drop some at the receiving socket (UDP), the next real packet
        // among them: so real packets go out until one arrives (bounded).
        var arrived = false
        for k in 1...20 where !arrived {
            video.write(serverPacket(k))
            arrived = await eventually(.milliseconds(500)) {
                reader.peek(10_000).contains { $0.ssrc == sender.ssrc && $0.payload == serverPacket(k).payload }
            }
        }
        #expect(arrived)
        _ = progress
        let repaired = reader.peek(10_000).filter { $0.sequenceNumber == 0x1234 && $0.timestamp == 42 }
        #expect(repaired.count == 1 && repaired.first?.payload == [9, 9, 9] && repaired.first?.payloadType == payloadType)
        #expect(repaired.first?.ssrc == sender.ssrc)
        let rtxAfter = b.core.media.counters
        #expect(rtxAfter.rtxUnwrapped == rtxBefore.rtxUnwrapped + 1 && rtxAfter.rtxDropped == rtxBefore.rtxDropped + 1, "\(rtxAfter)")
        // The forged datagrams that arrived were refused by SRTP (authentication, or a header
        // libsrtp cannot read) — under load a burst may lose some at the socket, so not all 100.
        #expect(await eventually { srtpB.counters.authFailures + srtpB.counters.unprotectFailures >= 50 }, "\(srtpB.counters)")
        let counters = b.core.media.counters
        #expect(counters.malformedRtcp + counters.malformedRtp + counters.notReceived + counters.unknownSsrc > 0, "\(counters)")
        #expect(counters.unknownSsrc > 0, "\(counters)")
        #expect(b.core.media.state.withLock { $0.routes.count } <= MediaSession.learntSsrcLimit + 4)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
    }
}
