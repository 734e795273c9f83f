import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// NACKs answered from a ``LocalTrack``'s shared send history (issue 20): one copy of each
/// written packet for every sender, rewritten again per sender when NACKed.
@Suite("Media: shared NACK history (one copy per track) over 127.0.0.1")
struct MediaSharedNackTests {
    /// A connected pair sending `track` from A to B's reader.
    struct Pair {
        let a: PeerConnection, b: PeerConnection
        let links: [Task<Void, Never>]
        let sender: RtpSender
        let reader: TrackReader

        static func make(_ track: LocalTrack) async throws -> Pair {
            let a = try mediaPeer(), b = try mediaPeer()
            let links = trickle(a, b)
            let sender = try a.addTrack(track, streamIds: ["s"])
            let channel = try a.createDataChannel("c")
            let tracks = b.trackEvents()
            try await negotiate(a, b)
            let remote = try #require(await first(1, of: tracks).first?.track)
            try await channel.waitUntilOpen(timeout: .seconds(20))
            return Pair(a: a, b: b, links: links, sender: sender, reader: TrackReader(remote))
        }

        /// A's NACK responder counters for the sender.
        func counters() throws -> RtpNackResponder.Counters? {
            let engine = try #require(a.core.media.engine)
            let ssrc = sender.ssrc
            return engine.state.withLock { $0.outgoing[ssrc]?.responder.counters }
        }

        /// The bytes A's own (per-sender) history holds.
        func ownHistoryBytes() throws -> Int? {
            let engine = try #require(a.core.media.engine)
            let ssrc = sender.ssrc
            return engine.state.withLock { $0.outgoing[ssrc]?.responder.history.storedBytes }
        }

        /// Asks A (from B) for `sequenceNumbers` of the sender.
        func nack(_ sequenceNumbers: [UInt16]) throws {
            let nack = try RtcpGenericNack(senderSsrc: 1, mediaSsrc: sender.ssrc, lost: sequenceNumbers).serialized()
            try b.core.media.sendRaw(rtcp: nack)
        }

        func close() async {
            links.forEach { $0.cancel() }
            await a.closeAndWait()
            await b.closeAndWait()
            _ = await reader.task.value
        }
    }

    @Test("two PeerConnections sending one LocalTrack both recover lost packets from the track's one copy", .timeLimit(.minutes(2)))
    func twoConnectionsOneCopy() async throws {
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v")
        let p1 = try await Pair.make(video), p2 = try await Pair.make(video)
        // Different losses on each connection, chosen by the writer's index (timestamp = i × 3000).
        let dropped1: Set<UInt32> = [5, 17], dropped2: Set<UInt32> = [9, 17, 30]
        p1.a.core.media.setOutboundFilter { !dropped1.contains($0.timestamp / 3000) }
        p2.a.core.media.setOutboundFilter { !dropped2.contains($0.timestamp / 3000) }
        var progress1 = p1.reader.progress.makeAsyncIterator(), progress2 = p2.reader.progress.makeAsyncIterator()
        let total = 40
        for i in 0..<total { video.write(serverPacket(i)) }
        #expect(await p1.reader.wait(for: total, &progress1))
        #expect(await p2.reader.wait(for: total, &progress2))
        for (p, dropped) in [(p1, dropped1), (p2, dropped2)] {
            let got = p.reader.peek(total)
            #expect(Set(got.map { $0.timestamp / 3000 }) == Set(0..<UInt32(total)))
            // The recovered packets are the writer's (payload, marker) under the sender's SSRC and numbers.
            for packet in got where dropped.contains(packet.timestamp / 3000) {
                let i = Int(packet.timestamp / 3000)
                #expect(packet.payload == serverPacket(i).payload && packet.marker == serverPacket(i).marker)
                #expect(packet.ssrc == p.sender.ssrc)
            }
            let c = try #require(try p.counters())
            #expect(c.packetsResent >= UInt64(dropped.count) && c.packetsNotInTrackHistory == 0, "\(c)")
            // The sender kept no packet bytes of its own: only indexes into the track's history.
            #expect(try p.ownHistoryBytes() == 0)
        }
        // One copy of each packet for both connections, and every resend was read from it.
        let shared = video.history.snapshot
        #expect(shared.count == total && shared.counters.appended == UInt64(total), "\(shared)")
        #expect(shared.counters.hits >= UInt64(dropped1.count + dropped2.count), "\(shared)")
        await p1.close()
        await p2.close()
    }

    @Test("a NACK for a packet older than the track's ring is ignored and counted; a newer one is answered", .timeLimit(.minutes(1)))
    func olderThanTheRing() async throws {
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v", streamId: nil, history: SharedSendHistory(capacity: 16))
        let p = try await Pair.make(video)
        // The last packet is lost on the wire (B cannot tell: nothing follows it), so the NACK
        // below brings it to B for the first time (SRTP's replay check drops a second copy).
        let total = 40
        p.a.core.media.setOutboundFilter { $0.timestamp / 3000 != UInt32(total - 1) }
        var progress = p.reader.progress.makeAsyncIterator()
        for i in 0..<total { video.write(serverPacket(i)) }
        #expect(await p.reader.wait(for: total - 1, &progress))
        let numbers = p.reader.peek(total - 1).map(\.sequenceNumber)
        let first = try #require(numbers.first), last = try #require(numbers.last) &+ 1
        // Packet 0 is still in the sender's 512-number window, but the track's ring holds 16.
        try p.nack([first, last])
        #expect(await p.reader.wait(for: total, &progress))
        let resent = try #require(p.reader.peek(total).last)
        #expect(resent.sequenceNumber == last && resent.payload == serverPacket(total - 1).payload)
        #expect(await eventually { (try? p.counters())??.nacksReceived == 1 })
        let c = try #require(try p.counters())
        #expect(c.packetsResent == 1 && c.packetsNotInHistory == 1 && c.packetsNotInTrackHistory == 1, "\(c)")
        #expect(c.packetsResent + c.packetsRateLimited + c.packetsNotInHistory + c.packetsOverCap == c.packetsRequested)
        let shared = video.history.snapshot
        #expect(shared.count == 16 && shared.counters.misses == 1 && shared.counters.hits == 1, "\(shared)")
        await p.close()
    }

    @Test("replaceTrack: NACKs are answered for both tracks' packets; the old track's history goes with it", .timeLimit(.minutes(1)))
    func replaceTrack() async throws {
        var first: LocalTrack? = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v1")
        let second = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v2")
        let p = try await Pair.make(try #require(first))
        // Lost on the wire: the first track's last packet (B sees the gap only once the second
        // track's packets come: its NACK then reaches a sender that sends the second track) and
        // one of the second track's. Both come back from their track's history.
        let dropped: Set<UInt32> = [19, 25]
        p.a.core.media.setOutboundFilter { !dropped.contains($0.timestamp / 3000) }
        var progress = p.reader.progress.makeAsyncIterator()
        for i in 0..<20 { first?.write(serverPacket(i)) }
        #expect(await p.reader.wait(for: 19, &progress))
        try p.sender.replaceTrack(second)
        for i in 20..<40 { second.write(serverPacket(i)) }
        #expect(await p.reader.wait(for: 40, &progress))
        let got = p.reader.peek(40)
        #expect(Set(got.map { $0.timestamp / 3000 }) == Set(0..<UInt32(40)))
        for packet in got where dropped.contains(packet.timestamp / 3000) {
            #expect(packet.payload == serverPacket(Int(packet.timestamp / 3000)).payload)
        }
        // Continuous numbering across the replacement.
        let numbers = got.sorted { $0.timestamp < $1.timestamp }.map(\.sequenceNumber)
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
        #expect((first?.history.snapshot.counters.hits ?? 0) >= 1 && second.history.snapshot.counters.hits >= 1)
        // The old track released (the sender holds the new one): its history goes, though the
        // sender still maps numbers to it; a NACK for its packets is then counted, not answered.
        weak let history = first?.history
        first = nil
        #expect(history == nil)
        let before = try #require(try p.counters())
        try p.nack([numbers[6]])
        #expect(await eventually { (try? p.counters())??.nacksReceived == before.nacksReceived + 1 })
        let c = try #require(try p.counters())
        #expect(c.packetsResent == before.packetsResent && c.packetsNotInTrackHistory == before.packetsNotInTrackHistory + 1, "\(c)")
        await p.close()
    }
}
