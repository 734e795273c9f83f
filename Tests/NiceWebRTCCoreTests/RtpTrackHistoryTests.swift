import NiceWebRTCCore
import Synchronization
import Testing

/// A test store: an ``RtpTrackHistory`` behind a mutex.
private final class TestStore: RtpPacketStore {
    let ring: Mutex<RtpTrackHistory>
    init(capacity: Int = 512, maxBytes: Int = 1 << 20) { ring = Mutex(RtpTrackHistory(capacity: capacity, maxBytes: maxBytes)) }
    func append(_ packet: RtpPacket) -> UInt64? { ring.withLock { $0.append(packet) } }
    func packet(at index: UInt64) -> RtpPacket? { ring.withLock { $0.packet(at: index) } }
}

private func written(_ i: Int, size: Int = 100) -> RtpPacket {
    RtpPacket(
        marker: i % 2 == 0, payloadType: 96, sequenceNumber: UInt16(truncatingIfNeeded: i * 11), timestamp: UInt32(i * 3000),
        ssrc: 0xDEAD_BEEF, payload: Array(repeating: UInt8(truncatingIfNeeded: i), count: size))
}

@Suite("RTP session: a track's shared send history", .timeLimit(.minutes(1)))
struct RtpTrackHistoryTests {
    @Test("The track's ring is indexed by write index, bounded in slots and bytes, and counts misses")
    func ring() throws {
        var h = RtpTrackHistory(capacity: 100)
        #expect(h.capacity == 128)
        for i in 0..<200 { #expect(h.append(written(i)) == UInt64(i)) }
        #expect(h.count == 128 && h.storedBytes == 128 * 112)
        #expect(h.packet(at: 71) == nil && h.packet(at: 200) == nil)
        #expect(h.packet(at: 72)?.payload == written(72).payload && h.packet(at: 199)?.timestamp == written(199).timestamp)
        #expect(h.counters.misses == 2 && h.counters.hits == 2)
        // Header extensions are not kept (each sender writes its own).
        var withExtension = written(200)
        try withExtension.setExtension(id: 3, value: [1, 2])
        let appended = h.append(withExtension)
        let index = try #require(appended)
        #expect(h.packet(at: index)?.headerExtension == nil)

        var b = RtpTrackHistory(capacity: 512, maxBytes: 10_000)
        for i in 0..<100 { _ = b.append(written(i, size: 988)) }
        #expect(b.storedBytes <= 10_000 && b.count == 10 && b.counters.evictedForBytes == 90)
        #expect(b.packet(at: 99) != nil && b.packet(at: 90) != nil && b.packet(at: 89) == nil)
        #expect(b.append(written(100, size: 20_000)) == nil && b.counters.oversizedDropped == 1)
        #expect(b.count == 10 && b.nextIndex == 100)
    }

    @Test("Two senders answer NACKs from one shared copy, each with its own rewrite and numbers")
    func twoSenders() throws {
        let store = TestStore()
        let one = RtpRewrite(payloadType: 100, midExtensionId: 1, mid: "0", transportCcExtensionId: nil)
        let two = RtpRewrite(payloadType: 101, midExtensionId: nil, mid: "1", transportCcExtensionId: 5)
        var r1 = RtpNackResponder(ssrc: 1), r2 = RtpNackResponder(ssrc: 2)
        for i in 0..<50 {
            let index = try #require(store.append(written(i)))
            r1.recordSent(sequenceNumber: UInt16(1_000 + i), shared: RtpSharedPacket(store: store, index: index, rewrite: one), now: 0)
            // The second sender skipped the first ten writes: its numbers start at 60_000.
            if i >= 10 {
                r2.recordSent(sequenceNumber: UInt16(60_000 + i - 10), shared: RtpSharedPacket(store: store, index: index, rewrite: two), now: 0)
            }
        }
        #expect(r1.history.storedBytes == 0 && r2.history.storedBytes == 0)
        let a = r1.respond(to: RtcpGenericNack(senderSsrc: 9, mediaSsrc: 1, lost: [1_020]), now: 0)
        let b = r2.respond(to: RtcpGenericNack(senderSsrc: 9, mediaSsrc: 2, lost: [60_010]), now: 0)
        let p1 = try RtpPacket(parsing: try #require(a.first)), p2 = try RtpPacket(parsing: try #require(b.first))
        #expect(p1.ssrc == 1 && p1.payloadType == 100 && p1.sequenceNumber == 1_020 && p1.extensionValue(id: 1) == Array("0".utf8))
        #expect(p2.ssrc == 2 && p2.payloadType == 101 && p2.sequenceNumber == 60_010 && p2.extensionValue(id: 5) == [0, 0])
        #expect(p2.extensionValue(id: 1) == nil)
        for p in [p1, p2] { #expect(p.payload == written(20).payload && p.timestamp == written(20).timestamp && p.marker) }
        #expect(r1.counters.bytesResent == UInt64(a[0].count) && r1.history.lookup(1_020)?.resendCount == 1)
    }

    @Test("A packet the track's ring no longer holds (or whose track is gone) is not resent, and is counted")
    func evictedOrGone() throws {
        var store: TestStore? = TestStore(capacity: 16)
        let rewrite = RtpRewrite(payloadType: 100, midExtensionId: nil, mid: "0", transportCcExtensionId: nil)
        var r = RtpNackResponder(ssrc: 1)
        for i in 0..<40 {
            let live = try #require(store)
            let index = try #require(live.append(written(i)))
            r.recordSent(sequenceNumber: UInt16(i), shared: RtpSharedPacket(store: live, index: index, rewrite: rewrite), now: 0)
        }
        let out = r.respond(to: RtcpGenericNack(senderSsrc: 9, mediaSsrc: 1, lost: [0, 23, 24, 39]), now: 0)
        // The ring holds writes 24…39; the sender's window all 40.
        #expect(out.count == 2)
        #expect(r.counters.packetsNotInHistory == 2 && r.counters.packetsNotInTrackHistory == 2 && r.counters.packetsResent == 2)
        weak let gone = store
        store = nil
        #expect(gone == nil)
        let after = r.respond(to: RtcpGenericNack(senderSsrc: 9, mediaSsrc: 1, lost: [30]), now: 0)
        #expect(after.isEmpty && r.counters.packetsNotInTrackHistory == 3)
    }
}
