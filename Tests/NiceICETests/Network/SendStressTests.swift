import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// A 1,200-byte datagram that says who sent it and carries a checksum, so a datagram mangled
/// by a send race (bytes of two datagrams interleaved in the TCP stream) is caught.
func stressDatagram(thread: Int, sequence: UInt32) -> [UInt8] {
    var d = [UInt8](repeating: 0, count: 1200)
    d[0] = UInt8(thread)
    withUnsafeBytes(of: sequence.bigEndian) { for (i, b) in $0.enumerated() { d[1 + i] = b } }
    for i in 5..<1199 { d[i] = UInt8(truncatingIfNeeded: Int(sequence) &* 31 &+ i &* 7 &+ thread) }
    d[1199] = d[0..<1199].reduce(0, &+)
    return d
}

func isIntactStressDatagram(_ d: [UInt8]) -> Bool {
    guard d.count == 1200, d[0] < 4 else { return false }
    let sequence = d[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return d == stressDatagram(thread: Int(d[0]), sequence: sequence)
}

/// Issue 8 item 2: sends from many threads on TCP paths, where libnice 0.1.21's TCP socket is not
/// thread-safe. Run under `swift test --sanitize=address` and valgrind as well (see README).
extension NetworkTests {
    @Test("7: 4 threads send 1,200-byte datagrams for 10 s over ICE-TCP and over a TURN-TCP relay, 3 % loss: no corruption; stays connected (consent gets through, no ICE restart), data flows after",
          .timeLimit(.minutes(2)), arguments: ["ice-tcp", "turn-tcp"])
    func sendStressOverTcp(path: String) async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        var a: IceTransport.Configuration
        var b: IceTransport.Configuration
        if path == "ice-tcp" {
            a = .net(.controlling, bind: scene.agentAddress(1))
            b = .net(.controlled, bind: Internet.peerAddress)
            for i in [0, 1] {
                if i == 0 { a.iceUDP = false; a.iceTCP = true } else { b.iceUDP = false; b.iceTCP = true }
            }
        } else {
            a = .net(.controlling, bind: scene.agentAddress(1), servers: [Internet.turnServer(transport: "tcp")])
            a.iceTransportPolicy = .relay
            b = .net(.controlled, bind: Internet.peerAddress)
        }
        a.disconnectedGracePeriod = .seconds(20)
        b.disconnectedGracePeriod = .seconds(20)
        let pair = try NetPair(
            "7: send stress over \(path), lan1 behind a NAT ↔ public agent, 3 % loss",
            a: ("lan1", scene.lan(1), a), b: ("inet", scene.inet, b))
        defer { pair.closeNow(); pair.log.print() }
        if path == "turn-tcp" {
            try scene.iptables(scene.nat(1), ["-I", "FORWARD", "1", "-p", "udp", "-d", Internet.turnAddress, "-j", "DROP"])
        }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(30)), "\(pair.a.timeline) / \(pair.b.timeline)\n\(coturnLog())")
        let upChanges = [pair.a.changes.count, pair.b.changes.count]
        let selected = try #require(await pair.a.pc.stats().selectedPairs.first)
        pair.log.note("selected \(selected)")
        if path == "ice-tcp" { #expect(selected.local.transport == .tcp) } else { #expect(selected.local.type == .relay) }
        // 3 % segment loss (iptables `statistic`, see NetworkScene.addLoss). At 10 % this test saw
        // consent lost in 3 of 30 runs: TCP's retransmission back-off then stalls the one stream
        // that carries data and STUN alike for longer than libnice 0.1.21's fixed 10 s consent
        // window, in which it sends one check every 4–6 s and never resends it (RFC 7675 allows
        // 30 s). That is a link no TCP path keeps a 10 s deadline over, not a queue of ours.
        try scene.addLoss(1, probability: 0.03)

        let received = Atomic<Int>(0)
        let corrupt = Atomic<Int>(0)
        pair.b.pc.receiveHandler = { d in
            if isIntactStressDatagram(d.bytes) { received.add(1, ordering: .relaxed) } else { corrupt.add(1, ordering: .relaxed) }
        }
        let accepted = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        let end = ContinuousClock.now + .seconds(10)
        let sender = pair.a.pc
        let senders = DispatchGroup()
        for t in 0..<4 {
            senders.enter()
            let thread = Thread {
                var sequence: UInt32 = 0
                while ContinuousClock.now < end {
                    sequence &+= 1
                    do {
                        try sender.send(stressDatagram(thread: t, sequence: sequence))
                        accepted.add(1, ordering: .relaxed)
                    } catch {
                        refused.add(1, ordering: .relaxed)
                        usleep(200)
                    }
                }
                senders.leave()
            }
            thread.start()
        }
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            senders.notify(queue: .global()) { k.resume() }
        }
        try await Task.sleep(for: .seconds(1))
        pair.log.note("accepted \(accepted.load(ordering: .relaxed)), refused \(refused.load(ordering: .relaxed)), received intact \(received.load(ordering: .relaxed)), corrupt \(corrupt.load(ordering: .relaxed)); loss rule: \(scene.droppedByLoss(1))")
        #expect(corrupt.load(ordering: .relaxed) == 0)
        // TCP through segment loss moves a few hundred to a few thousand datagrams in 10 s
        // (926 intact at 10 % in one clean-clone CI run): the bar is "traffic crossed", not a rate.
        #expect(received.load(ordering: .relaxed) > 200, "almost nothing arrived")
        // Issue 17 §6: libnice sends consent checks and their responses on the same TCP connection
        // as the data and declares consent lost after 10 s without a response. NiceICE bounds what
        // waits ahead of them (the kernel send queue: 64 KiB buffer, 16 KiB unsent; its own queue
        // is never ahead of STUN) and leaves receive buffers autotuned, so a 10 s flood through
        // 3 % loss must not cost the connection: both sides stay connected/completed throughout,
        // with no ICE restart. (States are read before either side closes: a close makes the peer's
        // TCP connection fail, which is reported as `disconnected`.)
        var stayedUp = true
        for (peer, before) in zip([pair.a, pair.b], upChanges) {
            let after = peer.changes.dropFirst(before)
            let up = after.allSatisfy { [.connected, .completed].contains($0.state) }
            #expect(up, "\(peer.name) left connected during the send flood over \(path) (consent must get through behind the data; no ICE restart is allowed): \(peer.timeline)")
            stayedUp = stayedUp && up
        }
        // A connection that lost consent carries nothing more: the failure is recorded above, and
        // the rounds below would only spend the time limit.
        guard stayedUp else { return }
        // After the storm the connection carries ordinary traffic both ways.
        let peer = pair.b
        peer.pc.receiveHandler = { d in peer.datagrams.withLock { $0.append(d) } }
        // Datagrams, as UDP: one queued behind the flood's backlog on a TCP path in retransmission
        // back-off may wait past the send queue's age limit and be dropped (counted), so a few
        // rounds are allowed.
        var flowed = false
        for _ in 0..<4 where !flowed {
            flowed = await pair.exchangeData(count: 3, timeout: .seconds(10), waitForRoom: true)
        }
        #expect(flowed, "no datagram round crossed after the flood")
        await pair.closeBoth()
    }
}
