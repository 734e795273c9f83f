// Two NiceICE agents in one process, over 127.0.0.1: trickle signalling, state transitions,
// the selected pair, a ping/pong over ICE, then close.
import Dispatch
import Foundation
import NiceICE

struct Demo {
    static func run() async throws {
        let start = ContinuousClock.now
        @Sendable func ms() -> String {
            let (s, atto) = (ContinuousClock.now - start).components
            return String(format: "%7.1f ms", Double(s) * 1000 + Double(atto) / 1e15)
        }

        let left = try PeerConnection(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
        let right = try PeerConnection(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
        let queue = DispatchQueue(label: "demo")

        for (name, me, peer) in [("L", left, right), ("R", right, left)] {
            print("[\(ms())] \(name) iceConnectionState = \(me.iceConnectionState), ufrag \(me.localParameters.usernameFragment)")
            me.stateUpdateHandler = { change in print("[\(ms())] \(name) iceConnectionState → \(change)") }
            me.candidateHandler = { candidate in
                if let candidate { print("[\(ms())] \(name) local \(candidate.candidateLine)") }
                try? peer.addIceCandidate(candidate)  // trickle; nil = end-of-candidates
            }
            me.selectedPairHandler = { pair in print("[\(ms())] \(name) selected pair \(pair)") }
            me.start(queue: queue)
        }
        try left.setRemoteParameters(right.localParameters)
        try right.setRemoteParameters(left.localParameters)

        // Wait for both sides to complete (bounded: 10 s).
        let deadline = ContinuousClock.now + .seconds(10)
        while (left.iceConnectionState != .completed || right.iceConnectionState != .completed) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard left.iceConnectionState == .completed, right.iceConnectionState == .completed else {
            print("did not complete: L \(left.iceConnectionState), R \(right.iceConnectionState)")
            exit(1)
        }

        // Ping / pong over ICE.
        let pong = AsyncStream.makeStream(of: String.self)
        right.receiveHandler = { datagram in
            print("[\(ms())] R got \(String(decoding: datagram.bytes, as: UTF8.self))")
            try? right.send(Array("pong".utf8))
        }
        left.receiveHandler = { datagram in pong.continuation.yield(String(decoding: datagram.bytes, as: UTF8.self)) }
        try left.send(Array("ping".utf8))
        var reply: String?
        for await text in pong.stream { reply = text; break }
        print("[\(ms())] L got \(reply ?? "nothing")")

        await left.close()
        await right.close()
        print("[\(ms())] closed: L \(left.iceConnectionState), R \(right.iceConnectionState)")
    }
}

do {
    try await Demo.run()
} catch {
    print("error: \(error)")
    exit(1)
}
