import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// Transport-wide CC between two real PeerConnections over 127.0.0.1: A sends video with
/// transport-wide sequence numbers, B records their arrivals and sends feedback A parses.
@Suite("Media: transport-wide CC feedback over 127.0.0.1")
struct MediaTransportWideCcTests {
    @Test("B sends TWCC feedback about A's packets every ~100 ms; A parses and counts it", .timeLimit(.minutes(1)))
    func feedbackFlows() async throws {
        let p = try await MediaRtcpTests.Pair.make()
        let engineA = try #require(p.a.core.media.engine), engineB = try #require(p.b.core.media.engine)
        let id = try #require(engineB.state.withLock { $0.transportCc.extensionId })
        var progress = p.reader.progress.makeAsyncIterator()
        let total = 60
        for i in 0..<total {
            p.video.write(serverPacket(i))
            if i % 20 == 19 { #expect(await p.reader.wait(for: i + 1, &progress)) }
        }
        // Every packet A wrote carries the next transport-wide sequence number.
        let sequences = p.reader.peek(total).compactMap { $0.extensionValue(id: id) }.map { UInt16($0[0]) << 8 | UInt16($0[1]) }
        #expect(sequences.count == total && zip(sequences, sequences.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
        // B reports every packet; A receives the feedback (the session-wide counter starts at a
        // random value, so wrap-around is covered whenever it lands near 65535).
        #expect(await eventually { engineA.counters.transportCcPacketsReported >= UInt64(total) })
        let (sent, recorded) = engineB.state.withLock { ($0.counters.transportCcFeedbackSent, $0.transportCc.recorder.counters.recorded) }
        #expect(sent >= 1 && recorded == UInt64(total))
        #expect(await eventually { engineA.counters.transportCcFeedbackReceived == engineB.counters.transportCcFeedbackSent })
        await p.close()
    }
}
