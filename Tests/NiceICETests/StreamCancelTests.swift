import Logging
import NiceICECore
import NiceTestSupport
import Testing

@testable import NiceICE

/// Issue 18 (echo): cancelling a task that iterates a transport's stream while the hub yields to
/// it never deadlocks (see ``CancelWhileYielding``; the hub's lock was held across the yield and
/// taken by the stream's `onTermination`).
@Suite("Stream cancel while yielding", .serialized, .timeLimit(.minutes(3)))
struct StreamCancelTests {
    static func hub() -> EventHub {
        EventHub(
            machine: IceStateMachine(streams: [1], components: 1), logger: Logger(label: "test"), context: .default,
            gracePeriod: .seconds(20), receiveLimit: 64)
    }

    @Test("ICE state stream: 1,000 rounds of cancel while the hub yields states")
    func iceStateStream() async {
        let hub = Self.hub()
        let key = ComponentKey(stream: 1, component: 1)
        let outcome = await CancelWhileYielding.run(rounds: 1000) { _ in
            hub.makeStateStream()
        } emit: { _, i in
            hub.process(.componentState(key, i % 2 == 0 ? .connected : .connecting))
        }
        #expect(outcome.stuck == nil, "\(outcome)")
        // Not when stuck: closing finishes the streams, which (before the fix) waited for the lock
        // the stuck emitter holds; the stuck threads are left behind.
        if outcome.stuck == nil { _ = hub.close() }
        // The states did change (the race was exercised): far more than the replays.
        #expect(outcome.received > 2 * outcome.rounds, "\(outcome)")
    }

    @Test("ICE gathering stream: 1,000 rounds of cancel while the hub yields")
    func iceGatheringStream() async {
        let hub = Self.hub()
        let outcome = await CancelWhileYielding.run(rounds: 1000) { _ in
            hub.makeGatheringStream()
        } emit: { _, i in
            hub.emit(.gathering(i % 2 == 0 ? .gathering : .complete))
        }
        #expect(outcome.stuck == nil, "\(outcome)")
        // Not when stuck: closing finishes the streams, which (before the fix) waited for the lock
        // the stuck emitter holds; the stuck threads are left behind.
        if outcome.stuck == nil { _ = hub.close() }
        #expect(outcome.received > 2 * outcome.rounds, "\(outcome)")
    }

    @Test("Cancelled streams are not kept: a hub that never yields again forgets them at the next registration")
    func cancelledStreamsForgotten() async {
        let hub = Self.hub()
        defer { _ = hub.close() }
        for _ in 0..<100 {
            let stream = hub.makeGatheringStream()
            let task = Task { for await _ in stream {} }
            task.cancel()
            await task.value
        }
        _ = hub.makeGatheringStream()
        #expect(hub.state.withLock { $0.streams.registeredCount(of: IceGatheringState.self) } == 1)
    }
}
