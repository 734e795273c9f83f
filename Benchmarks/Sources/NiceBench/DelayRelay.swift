// A userspace UDP relay on 127.0.0.1 that holds every datagram for half the round-trip time, and
// drops a fixed share of them, so two ICE agents on one machine see an internet path (this kernel
// has no `netem`). Each agent is told only the relay's socket as the other's candidate:
//   A → relayA ─(RTT/2)→ from relayB → B,   B → relayB ─(RTT/2)→ from relayA → A.
// One thread: poll both sockets, queue arrivals (a FIFO per direction: the delay is constant, so
// arrival order is due order), send what is due. No bandwidth limit: the path's only limits are
// its delay and loss, as in pion/sctp#218's runs.
import Dispatch
import Foundation
import NiceICE
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class DelayRelay: Sendable {
    /// The socket A sends to (stands for B) and the one B sends to (stands for A).
    let portFacingA: UInt16
    let portFacingB: UInt16
    private let fdA: Int32
    private let fdB: Int32
    /// The agents' real ports, learnt from the candidates given to `rewrite`.
    private let realA = Atomic<UInt16>(0)
    private let realB = Atomic<UInt16>(0)
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    let forwarded = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    /// Most datagrams held per direction (a bound on the relay's memory: about 60 MB of 1,200-B
    /// datagrams); beyond it the datagram is dropped, as a router's full queue would.
    static let queueLimit = 50_000

    init(rtt: Duration, lossPercent: Double) {
        func bound() -> (Int32, UInt16) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var size: Int32 = 8 << 20
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var address = DelayRelay.loopback(0)
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if fd < 0 || ok != 0 { die(4, "relay socket: \(String(cString: strerror(errno)))") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            return (fd, UInt16(bigEndian: address.sin_port))
        }
        (fdA, portFacingA) = bound()
        (fdB, portFacingB) = bound()
        let oneWay = rtt / 2
        let thread = Thread { [self] in run(oneWay: oneWay, lossPercent: lossPercent) }
        thread.name = "delay-relay"
        thread.start()
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = port.bigEndian
        return a
    }

    /// The candidate `side` (0 = A, 1 = B) gives the other side, pointed at the relay; nil for a
    /// candidate the relay does not carry (anything but UDP on 127.0.0.1).
    func rewrite(_ candidate: IceCandidate, from side: Int) -> IceCandidate? {
        guard candidate.transport == .udp, candidate.address == "127.0.0.1" else { return nil }
        var c = candidate
        if side == 0 {
            realA.store(candidate.port, ordering: .sequentiallyConsistent)
            c.port = portFacingB  // B sends to A through the socket facing B
        } else {
            realB.store(candidate.port, ordering: .sequentiallyConsistent)
            c.port = portFacingA
        }
        return c
    }

    private struct Held {
        var due: UInt64
        var bytes: [UInt8]
    }

    private func run(oneWay: Duration, lossPercent: Double) {
        let delayNs = UInt64(oneWay.components.seconds) * 1_000_000_000 + UInt64(oneWay.components.attoseconds / 1_000_000_000)
        // Deterministic loss: a fixed-seed xorshift, so runs drop the same share.
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        let threshold = UInt64(lossPercent / 100 * Double(UInt64.max >> 11)) << 11
        var toB: [Held] = []  // arrived from A, leaves from fdB to B
        var toA: [Held] = []
        var headB = 0, headA = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        defer {
            close(fdA)
            close(fdB)
            finished.signal()
        }
        while !stopped.load(ordering: .relaxed) {
            let now = nowNs()
            // Send what is due, oldest first.
            func flush(_ q: inout [Held], _ head: inout Int, _ fd: Int32, _ port: UInt16) {
                guard port != 0 else { return }
                var to = Self.loopback(port)
                while head < q.count, q[head].due <= now {
                    let bytes = q[head].bytes
                    _ = withUnsafePointer(to: &to) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                    forwarded.add(1, ordering: .relaxed)
                    head += 1
                }
                if head > 4096 && head * 2 > q.count {
                    q.removeFirst(head)
                    head = 0
                }
            }
            flush(&toB, &headB, fdB, realB.load(ordering: .relaxed))
            flush(&toA, &headA, fdA, realA.load(ordering: .relaxed))
            // Wait for arrivals until the next datagram is due (at most 20 ms, to notice stop()).
            var next = now + 20_000_000
            if headB < toB.count { next = min(next, toB[headB].due) }
            if headA < toA.count { next = min(next, toA[headA].due) }
            let waitMs = Int32(max(0, (Int64(next) - Int64(now) + 999_999) / 1_000_000))
            var fds = [pollfd(fd: fdA, events: Int16(POLLIN), revents: 0), pollfd(fd: fdB, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, waitMs) > 0 else { continue }
            for p in fds where p.revents & Int16(POLLIN) != 0 {
                // Read what is there (bounded per wake-up).
                for _ in 0..<256 {
                    let n = recv(p.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    guard n > 0 else { break }
                    rng ^= rng << 13
                    rng ^= rng >> 7
                    rng ^= rng << 17
                    if threshold > 0 && rng < threshold {
                        dropped.add(1, ordering: .relaxed)
                        continue
                    }
                    let held = Held(due: nowNs() + delayNs, bytes: Array(buffer[0..<n]))
                    if p.fd == fdA {
                        if toB.count - headB < Self.queueLimit { toB.append(held) } else { dropped.add(1, ordering: .relaxed) }
                    } else {
                        if toA.count - headA < Self.queueLimit { toA.append(held) } else { dropped.add(1, ordering: .relaxed) }
                    }
                }
            }
        }
    }

    /// Stops the thread and closes both sockets (waits at most 2 s).
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        _ = finished.wait(timeout: .now() + 2)
    }
}
