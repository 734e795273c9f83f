import Dispatch
import NiceICE
import NiceTestSupport
import NiceWebRTCCore
import Testing

@testable import NiceWebRTC

/// Issue 18 (echo): cancelling a task that iterates a library stream while the hub yields to it
/// never deadlocks, for every hub kind (see ``CancelWhileYielding``). Before the fix each hub held
/// its lock across the yield and the stream's `onTermination` took that lock; the EchoServer's
/// shared GLib context thread stalled for ever in `DataChannelObservers.yield`.
@Suite("Stream cancel while yielding (WebRTC)", .serialized, .timeLimit(.minutes(3)))
struct WebRTCStreamCancelTests {
    @Test("DataChannel state stream: 1,000 rounds of cancel while the channel yields states")
    func dataChannelStateStream() async {
        let observers = DataChannelObservers()
        let outcome = await CancelWhileYielding.run(rounds: 1000) { _ in
            observers.makeStream(current: .connecting)
        } emit: { _, i in
            observers.yield(i % 2 == 0 ? .open : .connecting)
        }
        #expect(outcome.stuck == nil, "\(outcome)")
        // Not when stuck: closing finishes the streams, which (before the fix) waited for the lock
        // the stuck emitter holds; the stuck threads are left behind.
        if outcome.stuck == nil { observers.finish() }
        #expect(outcome.received > 2 * outcome.rounds, "\(outcome)")
    }

    @Test("PeerConnection event stream: 1,000 rounds of cancel while the hub yields connection states")
    func peerConnectionStream() async {
        let hub = PeerConnectionHub(queue: DispatchQueue(label: "test.pc"))
        let outcome = await CancelWhileYielding.run(rounds: 1000) { _ in
            hub.makeConnectionStream()
        } emit: { _, i in
            hub.emit(.connection(i % 2 == 0 ? .connected : .connecting))
        }
        #expect(outcome.stuck == nil, "\(outcome)")
        // Not when stuck: closing finishes the streams, which (before the fix) waited for the lock
        // the stuck emitter holds; the stuck threads are left behind.
        if outcome.stuck == nil { hub.close() }
        #expect(outcome.received > 2 * outcome.rounds, "\(outcome)")
    }

    @Test("DTLS transport state stream: 1,000 rounds of cancel while the hub yields")
    func dtlsStream() async {
        let hub = DtlsHub(receiveLimit: 64, context: .default)
        hub.start(queue: DispatchQueue(label: "test.dtls"))
        let outcome = await CancelWhileYielding.run(rounds: 1000) { _ in
            hub.makeDtlsStream()
        } emit: { _, i in
            hub.emit(.dtls(DtlsTransportStateChange(state: i % 2 == 0 ? .connected : .connecting, reason: nil)))
        }
        #expect(outcome.stuck == nil, "\(outcome)")
        // Not when stuck: closing finishes the streams, which (before the fix) waited for the lock
        // the stuck emitter holds; the stuck threads are left behind.
        if outcome.stuck == nil { hub.close(ice: IceStateChange(state: .closed, reason: nil)) }
        #expect(outcome.received > 2 * outcome.rounds, "\(outcome)")
    }

    @Test("SCTP transport state stream: 1,000 rounds of cancel while the hub yields")
    func sctpStream() async {
        let hub = SctpHub(queue: DispatchQueue(label: "test.sctp"))
        let outcome = await CancelWhileYielding.run(rounds: 1000) { _ in
            hub.makeStateStream()
        } emit: { _, i in
            hub.transportState(i % 2 == 0 ? .connected : .connecting)
        }
        #expect(outcome.stuck == nil, "\(outcome)")
        // Not when stuck: closing finishes the streams, which (before the fix) waited for the lock
        // the stuck emitter holds; the stuck threads are left behind.
        if outcome.stuck == nil { hub.finish() }
        #expect(outcome.received > 2 * outcome.rounds, "\(outcome)")
    }
}
