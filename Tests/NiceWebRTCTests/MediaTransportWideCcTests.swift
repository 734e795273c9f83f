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

    @Test("A NACK retransmission carries a new transport-wide sequence number, not the original's", .timeLimit(.minutes(1)))
    func retransmissionGetsNewSequence() async throws {
        let p = try await MediaRtcpTests.Pair.make()
        let engineB = try #require(p.b.core.media.engine)
        let id = try #require(engineB.state.withLock { $0.transportCc.extensionId })
        // Loss on the wire, chosen by the writer's index (the timestamp is i × 3000); the
        // dropped packets took their transport-wide numbers with them.
        let dropped: Set<UInt32> = [5, 17, 18, 40]
        p.a.core.media.setOutboundFilter { !dropped.contains($0.timestamp / 3000) }
        var progress = p.reader.progress.makeAsyncIterator()
        let total = 60
        for i in 0..<total { p.video.write(serverPacket(i)) }
        #expect(await p.reader.wait(for: total, &progress))
        let got = p.reader.peek(total)
        func sequence(_ packet: RtpPacket) -> UInt16? {
            packet.extensionValue(id: id).map { UInt16($0[0]) << 8 | UInt16($0[1]) }
        }
        let first = try #require(got.first { $0.timestamp == 0 }.flatMap(sequence))
        var offsets: [UInt32: Int] = [:]
        for packet in got { offsets[packet.timestamp / 3000] = Int(try #require(sequence(packet)) &- first) }
        // The originals took increasing numbers in the order written (retransmissions may come in
        // between: B's NACK can arrive while A still writes, as under ThreadSanitizer).
        let originals = (0..<UInt32(total)).filter { !dropped.contains($0) }
        for (earlier, later) in zip(originals, originals.dropFirst()) {
            #expect((offsets[earlier] ?? -1) < (offsets[later] ?? -1), "packets \(earlier), \(later): \(offsets)")
        }
        // A lost packet is sent again after B saw the gap, so after the next original: a number
        // the lost original never had.
        for index in dropped {
            let next = try #require(originals.first { $0 > index })
            #expect((offsets[index] ?? -1) > (offsets[next] ?? Int.max), "packet \(index): \(offsets)")
        }
        // Numbers reused would leave no hole; each lost original leaves one.
        let highest = try #require(offsets.values.max())
        #expect(highest + 1 - total >= dropped.count && highest < 1_000, "highest \(highest)")
        #expect(Set(got.compactMap(sequence)).count == total)
        // B recorded each transmission that arrived under its own number.
        let recorded = engineB.state.withLock { $0.transportCc.recorder.counters.recorded }
        #expect(recorded >= UInt64(total), "\(recorded)")
        await p.close()
    }
}
