@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

@Suite("Media: the frame path's reorder stage (bounded wait for NACK-recovered packets)")
struct FrameReorderTests {
    func packet(_ seq: UInt16, _ timestamp: UInt32 = 0) -> RtpPacket {
        RtpPacket(payloadType: 96, sequenceNumber: seq, timestamp: timestamp, ssrc: 1, payload: [UInt8(truncatingIfNeeded: seq)])
    }

    @Test("in order passes through; a late packet fills its gap and releases what waited; duplicates and stale packets dropped")
    func reorders() {
        var r = FrameReorder(clockRate: 90_000)
        #expect(r.push(packet(65_534)).packets.map(\.sequenceNumber) == [65_534])
        #expect(r.push(packet(65_535)).packets.map(\.sequenceNumber) == [65_535])
        #expect(r.push(packet(1)).packets.isEmpty && r.push(packet(2)).packets.isEmpty)
        #expect(r.push(packet(2)).packets.isEmpty)  // duplicate while held
        #expect(r.push(packet(0)).packets.map(\.sequenceNumber) == [0, 1, 2])
        #expect(r.push(packet(1)).packets.isEmpty && r.latePackets == 2)
    }

    @Test("without waiting (audio): a gap is skipped at once, late packets still dropped")
    func noWait() {
        var r = FrameReorder(clockRate: 48_000, waits: false)
        _ = r.push(packet(1))
        #expect(r.push(packet(3)).packets.map(\.sequenceNumber) == [3])
        #expect(r.push(packet(2)).packets.isEmpty && r.push(packet(4)).packets.map(\.sequenceNumber) == [4])
    }

    @Test("waiting ends after 500 ms of RTP time, or at 512 held packets, skipping to the oldest held")
    func givesUp() {
        var r = FrameReorder(clockRate: 90_000)
        _ = r.push(packet(10, 0))
        #expect(r.push(packet(12, 3000)).packets.isEmpty)
        #expect(r.push(packet(13, 45_000)).packets.isEmpty)
        #expect(r.push(packet(14, 48_001)).packets.map(\.sequenceNumber) == [12, 13, 14])
        #expect(r.push(packet(11)).packets.isEmpty)  // too late now
        var c = FrameReorder(clockRate: 90_000)
        _ = c.push(packet(0))
        for seq in 2...512 { #expect(c.push(packet(UInt16(seq))).packets.isEmpty) }
        #expect(c.push(packet(513)).packets.map(\.sequenceNumber) == Array(2...513))
    }

    @Test("a jump of 3,000 or more either way, or 64 late packets in a row, is a new stream: what waited is released, then the new numbers")
    func restarts() {
        var r = FrameReorder(clockRate: 90_000)
        _ = r.push(packet(100))
        #expect(r.push(packet(102)).packets.isEmpty)
        let jump = r.push(packet(20_000))
        #expect(jump.packets.map(\.sequenceNumber) == [102, 20_000] && jump.restartIndex == 1)
        #expect(r.push(packet(20_001)).packets.map(\.sequenceNumber) == [20_001])
        #expect(r.push(packet(5)).packets.map(\.sequenceNumber) == [5])
        // A restart a little behind: 64 late packets dropped, the 65th starts again.
        var late = FrameReorder(clockRate: 90_000)
        _ = late.push(packet(1000))
        for seq in 900..<964 { #expect(late.push(packet(UInt16(seq))).packets.isEmpty) }
        #expect(late.push(packet(964)).packets.map(\.sequenceNumber) == [964])
        #expect(late.push(packet(965)).packets.map(\.sequenceNumber) == [965])
    }
}
