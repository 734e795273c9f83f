// Two NiceICE agents in one process, over 127.0.0.1: trickle signalling, state transitions,
// the selected pair, a ping/pong over ICE, then close.
//
// Written without async/await (handlers and a semaphore) so it also runs under valgrind, whose
// 3.19 release crashes on Swift's async main.
import Dispatch
import Foundation
import NiceICE

let start = ContinuousClock.now
@Sendable func ms() -> String {
    let (s, atto) = (ContinuousClock.now - start).components
    return String(format: "%7.1f ms", Double(s) * 1000 + Double(atto) / 1e15)
}
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data("[\(ms())] \(line)\n".utf8))
}

func runDemo() throws -> Bool {
    let left = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
    let right = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
    let queue = DispatchQueue(label: "demo")
    let completed = DispatchSemaphore(value: 0)
    let ponged = DispatchSemaphore(value: 0)

    for (name, me, peer) in [("L", left, right), ("R", right, left)] {
        say("\(name) iceConnectionState = \(me.iceConnectionState), ufrag \(me.localParameters.usernameFragment)")
        me.stateUpdateHandler = { change in
            say("\(name) iceConnectionState → \(change)")
            if change.state == .completed { completed.signal() }
        }
        me.candidateHandler = { candidate in
            say("\(name) local \(candidate?.candidateLine ?? "end-of-candidates")")
            try? peer.addIceCandidate(candidate)  // trickle; nil = end-of-candidates
        }
        me.selectedPairHandler = { pair in say("\(name) selected pair \(pair)") }
        me.start(queue: queue)
    }
    right.receiveHandler = { datagram in
        say("R got \"\(String(decoding: datagram.bytes, as: UTF8.self))\", answering")
        try? right.send(Array("pong".utf8))
    }
    left.receiveHandler = { datagram in
        say("L got \"\(String(decoding: datagram.bytes, as: UTF8.self))\"")
        ponged.signal()
    }

    try left.setRemoteParameters(right.localParameters)
    try right.setRemoteParameters(left.localParameters)

    // Both sides complete (bounded: 10 s).
    for _ in 0..<2 where completed.wait(timeout: .now() + 10) == .timedOut {
        say("did not complete: L \(left.iceConnectionState), R \(right.iceConnectionState)")
        return false
    }
    try left.send(Array("ping".utf8))
    guard ponged.wait(timeout: .now() + 5) == .success else {
        say("no pong")
        return false
    }
    left.close()
    right.close()
    say("closed: L \(left.iceConnectionState), R \(right.iceConnectionState)")
    // Give the GLib thread a moment to release the sockets before the process exits.
    Thread.sleep(forTimeInterval: 0.2)
    return true
}

do {
    if let i = CommandLine.arguments.firstIndex(of: "--tcp-stress") {
        let seconds = CommandLine.arguments.dropFirst(i + 1).first.flatMap { Int($0) } ?? 10
        exit(try runTcpStress(seconds: min(max(seconds, 1), 600)) ? 0 : 1)
    }
    exit(try runDemo() ? 0 : 1)
} catch {
    say("error: \(error)")
    exit(1)
}
