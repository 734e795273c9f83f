import Testing

@testable import NiceWebRTCCore

/// Sequence-number arithmetic, unwrapping and the RTP/RTCP split.
@Suite("RTP sequence numbers and demultiplexing", .timeLimit(.minutes(1)))
struct RtpSequenceNumberTests {
    @Test("isNewer and distance wrap around 16 bits and are antisymmetric at half the space")
    func newer() {
        #expect(RtpSequenceNumber.isNewer(1, than: 0))
        #expect(RtpSequenceNumber.isNewer(0, than: 65_535))
        #expect(!RtpSequenceNumber.isNewer(65_535, than: 0))
        #expect(!RtpSequenceNumber.isNewer(7, than: 7))
        #expect(RtpSequenceNumber.isNewer(0x8000, than: 0) != RtpSequenceNumber.isNewer(0, than: 0x8000))
        #expect(RtpSequenceNumber.distance(from: 65_530, to: 4) == 10)
        #expect(RtpSequenceNumber.distance(from: 4, to: 65_530) == -10)
        #expect(RtpSequenceNumber.distance(from: 0, to: 0x8000) == 32_768)
        #expect(RtpSequenceNumber.distance(from: 0x8000, to: 0) == -32_768)
        for (a, b) in [(UInt16(0), UInt16(0x8000)), (100, 40_000), (65_535, 1), (3, 3)] {
            let d = RtpSequenceNumber.distance(from: a, to: b)
            #expect(a &+ UInt16(truncatingIfNeeded: d) == b)
            #expect((d > 0) == RtpSequenceNumber.isNewer(b, than: a))
        }
    }

    @Test("The unwrapper counts wraps forwards and places reordered packets before them")
    func unwrap() {
        var u = RtpSequenceUnwrapper()
        #expect(u.lastUnwrapped == nil)
        #expect(u.unwrap(65_534) == 65_534)
        #expect(u.unwrap(65_535) == 65_535)
        #expect(u.unwrap(1) == 65_537)
        #expect(u.unwrap(65_533) == 65_533)  // late, from before the wrap
        #expect(u.unwrap(2) == 65_538)
        #expect(u.peek(30_000) == 95_536)
        #expect(u.peek(40_000) == 40_000)  // more than half the space ahead: behind
        #expect(u.lastUnwrapped == 65_538)
        var v = RtpSequenceUnwrapper()
        #expect(v.unwrap(0) == 0)
        #expect(v.unwrap(65_535) == -1)
        // Many wraps forwards.
        var w = RtpSequenceUnwrapper()
        var last: Int64 = 0
        for i in 0..<10 * 65_536 / 30_000 { last = w.unwrap(UInt16(truncatingIfNeeded: i * 30_000)) }
        #expect(last == Int64((10 * 65_536 / 30_000 - 1) * 30_000))
    }

    @Test("RFC 7983 range then RFC 5761: second byte 192-223 is RTCP")
    func classify() {
        #expect(RtpOrRtcp.classify([0x80, 96]) == .rtp)
        #expect(RtpOrRtcp.classify([0x80, 0xE0]) == .rtp)  // marker + PT 96
        #expect(RtpOrRtcp.classify([0x81, 200, 0, 6]) == .rtcp)
        #expect(RtpOrRtcp.classify([0x8F, 205]) == .rtcp)
        #expect(RtpOrRtcp.classify([0x80, 191]) == .rtp)
        #expect(RtpOrRtcp.classify([0x80, 223]) == .rtcp)
        #expect(RtpOrRtcp.classify([0x80, 224]) == .rtp)
        #expect(RtpOrRtcp.classify([0x80]) == nil)
        #expect(RtpOrRtcp.classify([0x16, 0xFE, 0xFD]) == nil)  // DTLS
        #expect(RtpOrRtcp.classify([0x00, 0x01]) == nil)  // STUN
        #expect(RtpOrRtcp.classify([UInt8]()) == nil)
    }
}
