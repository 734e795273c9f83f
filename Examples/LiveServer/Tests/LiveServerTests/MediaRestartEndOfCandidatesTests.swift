import NiceWebRTC
import Testing
@testable import LiveServer

/// A restarted ICE generation's end-of-candidates waits for that generation's first selected pair
/// (browser-test/README.md, "ICE restart and end-of-candidates").
@Suite("Media: end-of-candidates after an ICE restart")
struct MediaRestartEndOfCandidatesTests {
    static let candidate = IceCandidateInit(candidate: "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host", sdpMid: "0", sdpMLineIndex: 0)

    static func fragment(end: Bool) -> TrickleIceFragment {
        TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: [candidate], endOfCandidates: end)
    }

    @Test("without a restart waiting, fragments go through unchanged", .timeLimit(.minutes(1)))
    func noRestart() {
        var hold = RestartEndOfCandidates()
        let r1 = hold.hold(Self.fragment(end: true))
        #expect(r1 == Self.fragment(end: true))
        let r2 = hold.release(1)
        #expect(!r2)
    }

    @Test("a restart holds the end-of-candidates (candidates pass) until its pair is selected", .timeLimit(.minutes(1)))
    func heldUntilSelected() {
        var hold = RestartEndOfCandidates()
        let generation = hold.begin()
        let r3 = hold.hold(Self.fragment(end: false))
        #expect(r3 == Self.fragment(end: false))
        let r4 = hold.hold(Self.fragment(end: true))
        #expect(r4 == Self.fragment(end: false))
        let r101 = hold.release(generation)
        #expect(r101, "the held end-of-candidates is applied at the selection")
        let r102 = hold.release(generation)
        #expect(!r102, "once")
        let r5 = hold.hold(Self.fragment(end: true))
        #expect(r5 == Self.fragment(end: true), "after the selection it goes through")
    }

    @Test("a selection with nothing held applies nothing; a newer restart supersedes an older one", .timeLimit(.minutes(1)))
    func generations() {
        var hold = RestartEndOfCandidates()
        let first = hold.begin()
        let second = hold.begin()
        #expect(second != first)
        _ = hold.hold(Self.fragment(end: true))
        let r103 = hold.release(first)
        #expect(!r103, "the older restart's selection does not release the newer one's")
        let r6 = hold.release(second)
        #expect(r6)
        let third = hold.begin()
        let r104 = hold.release(third)
        #expect(!r104, "nothing held")
    }
}
