import Dispatch
import NiceICE
import NiceWebRTC
import Synchronization
import Testing

/// Issue 18 (echo): `connectionState` is `connected` (the DTLS transport connected) before SCTP
/// connects and before a channel opens (W3C order). Before the fix the peer connection learned the
/// DTLS state through a hop on its layer queue, and under load a channel was open (and SCTP
/// connected) while `connectionState` still said `connecting`.
@Suite("PeerConnection: connectionState order", .timeLimit(.minutes(3)))
struct PeerConnectionOrderTests {
    /// What one pair's handlers saw, in the order they ran on the pair's queue.
    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    }

    /// One pair: both connections deliver on `queue`; the offerer opens a channel. Returns the log.
    static func runPair(_ index: Int) async throws -> [String] {
        let queue = DispatchQueue(label: "test.order.\(index)")
        let a = try loopbackPeer(queue: queue), b = try loopbackPeer(queue: queue)
        defer {
            a.close()
            b.close()
        }
        let log = Log()
        for (name, pc) in [("A", a), ("B", b)] {
            pc.connectionStateHandler = { state in log.add("\(name).connection \(state)") }
            pc.sctpTransport.stateHandler = { [weak pc] state in
                guard state == .connected else { return }
                // The property too: connectionState is already connected when SCTP is.
                log.add("\(name).sctp connected (connectionState \(pc?.connectionState.rawValue ?? "gone"))")
            }
        }
        b.dataChannelHandler = { [weak b] channel in
            log.add("B.channel \(channel.readyState) (connectionState \(b?.connectionState.rawValue ?? "gone"))")
            channel.stateHandler = { [weak b] state in
                log.add("B.channel \(state) (connectionState \(b?.connectionState.rawValue ?? "gone"))")
            }
        }
        let trickling = trickle(a, b)
        defer { trickling.forEach { $0.cancel() } }
        _ = try a.createDataChannel("order")
        try await negotiate(a, b)
        let incoming = try await firstIncoming(b, timeout: .seconds(60))
        let opened = await withDeadline(.seconds(60)) {
            await incoming.stateChanges().first { $0 == .open } != nil
        }
        #expect(opened == true, "pair \(index): the incoming channel did not open")
        for pc in [a, b] {
            let connected = await withDeadline(.seconds(60)) {
                await pc.sctpTransport.stateChanges().first { $0 == .connected } != nil
            }
            #expect(connected == true, "pair \(index): SCTP did not connect")
        }
        // Everything posted so far has been delivered on the queue.
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in queue.async { k.resume() } }
        return log.entries.withLock { $0 }
    }

    @Test("20 pairs at once: each connection's connectionState connected comes before its SCTP connected and the answerer's channel open")
    func connectedBeforeSctpAndChannel() async throws {
        let logs = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for i in 0..<20 { group.addTask { (i, try await Self.runPair(i)) } }
            var logs: [Int: [String]] = [:]
            for try await (i, log) in group { logs[i] = log }
            return logs
        }
        for (i, log) in logs.sorted(by: { $0.key < $1.key }) {
            for name in ["A", "B"] {
                let connected = log.firstIndex(of: "\(name).connection connected")
                let sctp = log.firstIndex { $0.hasPrefix("\(name).sctp connected") }
                #expect(connected != nil && sctp != nil, "pair \(i): \(log)")
                if let connected, let sctp { #expect(connected < sctp, "pair \(i) \(name): \(log)") }
                #expect(log.filter { $0.hasPrefix("\(name).sctp connected") }.allSatisfy { $0.hasSuffix("(connectionState connected)") }, "pair \(i): \(log)")
            }
            let connected = log.firstIndex(of: "B.connection connected")
            let channel = log.firstIndex { $0.hasPrefix("B.channel") }
            #expect(channel != nil, "pair \(i): \(log)")
            if let connected, let channel { #expect(connected < channel, "pair \(i): \(log)") }
            #expect(log.filter { $0.hasPrefix("B.channel") }.allSatisfy { $0.hasSuffix("(connectionState connected)") }, "pair \(i): \(log)")
        }
    }
}
