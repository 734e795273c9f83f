import Foundation
import NiceWebRTC
import Testing
@testable import LiveServer

@Suite("Media: pure parts (TimestampRebaser, KeyframeGate, SDP edits, session ids)")
struct MediaUnitTests {
    @Test("the first source passes through; later packets of it keep their distance", .timeLimit(.minutes(1)))
    func rebaserFirstSource() {
        var rebaser = TimestampRebaser(clockRate: 90_000)
        let t0 = ContinuousClock.now
        let a = TimestampRebaser.Source(generation: 1, ssrc: 7)
        #expect(rebaser.rebase(1000, source: a, at: t0) == 1000)
        #expect(rebaser.rebase(4000, source: a, at: t0 + .milliseconds(33)) == 4000)
        #expect(rebaser.rebase(UInt32.max, source: a, at: t0 + .milliseconds(66)) == UInt32.max)
        #expect(rebaser.rebase(2999, source: a, at: t0 + .milliseconds(99)) == 2999, "wraps as RTP does")
    }

    @Test("a new publisher or SSRC continues from the last timestamp plus the wall-clock gap", .timeLimit(.minutes(1)))
    func rebaserNewSource() {
        var rebaser = TimestampRebaser(clockRate: 90_000)
        let t0 = ContinuousClock.now
        let a = TimestampRebaser.Source(generation: 1, ssrc: 7)
        _ = rebaser.rebase(5_000, source: a, at: t0)
        #expect(rebaser.rebase(8_000, source: a, at: t0 + .milliseconds(33)) == 8_000)
        // A new publisher 2 s later with a random start: 8000 + 2 s × 90 kHz.
        let b = TimestampRebaser.Source(generation: 2, ssrc: 99)
        let first = rebaser.rebase(3_000_000_000, source: b, at: t0 + .milliseconds(2033))
        #expect(first == 8_000 + 180_000)
        #expect(rebaser.rebase(3_000_003_000, source: b, at: t0 + .milliseconds(2066)) == 8_000 + 183_000)
        // The same publisher changing SSRC counts as a new source; a zero gap still moves one tick.
        let c = TimestampRebaser.Source(generation: 2, ssrc: 100)
        #expect(rebaser.rebase(17, source: c, at: t0 + .milliseconds(2066)) == 8_000 + 183_001)
        // Audio clock.
        var audio = TimestampRebaser(clockRate: 48_000)
        _ = audio.rebase(UInt32.max - 100, source: a, at: t0)
        #expect(audio.rebase(0, source: b, at: t0 + .milliseconds(500)) == (UInt32.max - 100) &+ 24_000)
    }

    @Test("a reordered older packet keeps its place and does not move the reference", .timeLimit(.minutes(1)))
    func rebaserReordering() {
        var rebaser = TimestampRebaser(clockRate: 90_000)
        let t0 = ContinuousClock.now
        let a = TimestampRebaser.Source(generation: 1, ssrc: 1), b = TimestampRebaser.Source(generation: 2, ssrc: 2)
        _ = rebaser.rebase(10_000, source: a, at: t0)
        #expect(rebaser.rebase(7_000, source: a, at: t0 + .milliseconds(40)) == 7_000)
        #expect(rebaser.rebase(500, source: b, at: t0 + .seconds(1)) == 10_000 + 90_000, "from the newest packet and its time")
        #expect(TimestampRebaser.ticks(.seconds(100_000), clockRate: 90_000) == UInt32(Int32.max))
        #expect(TimestampRebaser.ticks(.milliseconds(-5), clockRate: 90_000) == 0)
    }

    @Test("the gate sends one request per interval, schedules one for the interval's end, coalesces the rest", .timeLimit(.minutes(1)))
    func keyframeGate() {
        var gate = KeyframeGate(interval: .milliseconds(500))
        let t0 = ContinuousClock.now
        #expect(gate.request(at: t0) == .sendNow)
        #expect(gate.request(at: t0 + .milliseconds(100)) == .sendAt(t0 + .milliseconds(500)))
        #expect(gate.request(at: t0 + .milliseconds(200)) == .coalesced)
        #expect(gate.request(at: t0 + .milliseconds(700)) == .coalesced, "still scheduled")
        gate.sent(at: t0 + .milliseconds(520))
        #expect(gate.request(at: t0 + .milliseconds(600)) == .sendAt(t0 + .milliseconds(1020)))
        gate.sent(at: t0 + .milliseconds(1020))
        #expect(gate.request(at: t0 + .milliseconds(1600)) == .sendNow)
        // A flood: a request every 10 ms for 1 s gives 3 sends (0, 500, 1000 ms).
        var flood = KeyframeGate()
        var sends = 0
        var pending: ContinuousClock.Instant?
        for i in 0..<100 {
            let now = t0 + .milliseconds(i * 10)
            if let at = pending, at <= now {
                flood.sent(at: at)
                sends += 1
                pending = nil
            }
            switch flood.request(at: now) {
            case .sendNow: sends += 1
            case .sendAt(let at): pending = at
            case .coalesced: break
            }
        }
        if pending != nil { sends += 1 }
        #expect(sends == 3)
    }

    @Test("candidates go at the end of the first m= section; a restart offer has new credentials and no candidates", .timeLimit(.minutes(1)))
    func sdpEdits() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=mid:0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n"
        let candidate = IceCandidateInit(candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0)
        let added = SdpEditing.adding(candidates: [candidate], complete: true, to: sdp)
        #expect(added.contains("a=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\nm=audio"))
        let restart = SdpEditing.replacingCredentials(in: added, ufrag: "wxyz", password: "abcdefghijklmnopqrstuv")
        #expect(restart.contains("a=ice-ufrag:wxyz\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"))
        #expect(!restart.contains("a=candidate") && !restart.contains("end-of-candidates"))
        #expect(SdpEditing.isIceChars("ab+/", minimum: 4) && !SdpEditing.isIceChars("ab c", minimum: 4) && !SdpEditing.isIceChars("abc", minimum: 4))
    }

    @Test("session ids: 26 base32 characters, never the same", .timeLimit(.minutes(1)))
    func sessionIds() {
        let ids = (0..<1000).map { _ in LiveSessionID.random().value }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 26 && $0.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) } })
        #expect(StreamRecorder.stamp(Date(timeIntervalSince1970: 1_796_650_000)) == "20261207-132640")
    }
}
