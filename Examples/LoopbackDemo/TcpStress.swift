// `LoopbackDemo --tcp-stress SECONDS`: an ICE-TCP pair on 127.0.0.1 and 4 threads sending 1,200-byte
// datagrams on it for SECONDS, the receiver checking every byte. Written with threads and
// semaphores (no async) so it runs under valgrind (scripts/valgrind-demo.sh runs it with
// G_SLICE=always-malloc): libnice 0.1.21's TCP socket is not thread-safe, so this is the path where
// a send race would corrupt the heap.
import Dispatch
import Foundation
import NiceICE
import Synchronization

/// A datagram that names its sender and sequence and whose bytes follow from them.
func stressPayload(thread: Int, sequence: UInt32) -> [UInt8] {
    var d = [UInt8](repeating: 0, count: 1200)
    d[0] = UInt8(thread)
    withUnsafeBytes(of: sequence.bigEndian) { for (i, b) in $0.enumerated() { d[1 + i] = b } }
    for i in 5..<1200 { d[i] = UInt8(truncatingIfNeeded: Int(sequence) &* 31 &+ i &* 7 &+ thread) }
    return d
}

func isIntact(_ d: [UInt8]) -> Bool {
    guard d.count == 1200, d[0] < 4 else { return false }
    let sequence = d[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return d == stressPayload(thread: Int(d[0]), sequence: sequence)
}

func runTcpStress(seconds: Int) throws -> Bool {
    func tcpOnly(_ role: IceTransport.Role) -> IceTransport.Configuration {
        var c = IceTransport.Configuration(role: role, localAddresses: ["127.0.0.1"])
        c.iceUDP = false
        c.iceTCP = true
        return c
    }
    let left = try IceTransport(configuration: tcpOnly(.controlling))
    let right = try IceTransport(configuration: tcpOnly(.controlled))
    let queue = DispatchQueue(label: "stress")
    let up = DispatchSemaphore(value: 0)
    let intact = Atomic<Int>(0)
    let corrupt = Atomic<Int>(0)
    // Issue 17 §6: a fast sender must not starve consent. Once up, either side leaving
    // connected/completed (say `disconnected (consentLost)`) fails the run.
    let departures = Atomic<Int>(0)
    for (me, peer) in [(left, right), (right, left)] {
        let wasUp = Atomic<Bool>(false)
        me.candidateHandler = { try? peer.addIceCandidate($0) }
        me.stateUpdateHandler = { change in
            if [.connected, .completed].contains(change.state) {
                if !wasUp.exchange(true, ordering: .relaxed) { up.signal() }
            } else if wasUp.load(ordering: .relaxed) {
                departures.add(1, ordering: .relaxed)
                say("stress: state left connected: \(change)")
            }
        }
        me.start(queue: queue)
    }
    right.receiveHandler = { d in
        if isIntact(d.bytes) { intact.add(1, ordering: .relaxed) } else { corrupt.add(1, ordering: .relaxed) }
    }
    try left.setRemoteParameters(right.localParameters)
    try right.setRemoteParameters(left.localParameters)
    for _ in 0..<2 where up.wait(timeout: .now() + 30) == .timedOut {
        say("stress: not connected: \(left.iceConnectionState) / \(right.iceConnectionState)")
        return false
    }
    say("stress: connected over \(left.selectedPair.map { "\($0)" } ?? "?"); 4 threads send for \(seconds) s")
    let end = ContinuousClock.now + .seconds(seconds)
    let done = DispatchGroup()
    let accepted = Atomic<Int>(0)
    for t in 0..<4 {
        done.enter()
        Thread {
            var sequence: UInt32 = 0
            while ContinuousClock.now < end {
                sequence &+= 1
                if (try? left.send(stressPayload(thread: t, sequence: sequence))) != nil {
                    accepted.add(1, ordering: .relaxed)
                } else {
                    usleep(100)
                }
            }
            done.leave()
        }.start()
    }
    done.wait()
    Thread.sleep(forTimeInterval: 1)
    let ok = corrupt.load(ordering: .relaxed) == 0 && intact.load(ordering: .relaxed) > 0
        && [.connected, .completed].contains(left.iceConnectionState) && [.connected, .completed].contains(right.iceConnectionState)
        && departures.load(ordering: .relaxed) == 0
    say("stress: accepted \(accepted.load(ordering: .relaxed)), received intact \(intact.load(ordering: .relaxed)), corrupt \(corrupt.load(ordering: .relaxed)), state \(left.iceConnectionState) / \(right.iceConnectionState), left connected \(departures.load(ordering: .relaxed)) times")
    left.close()
    right.close()
    Thread.sleep(forTimeInterval: 0.3)
    return ok
}
