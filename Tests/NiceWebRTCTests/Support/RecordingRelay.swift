import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A UDP relay on 127.0.0.1 that records every byte it forwards: peer A is told that B lives at
/// ``portFacingA`` and B that A lives at ``portFacingB``; the relay forwards each datagram to the
/// other side's last-seen address from its other socket. What the tests read is the wire.
final class RecordingRelay: @unchecked Sendable {
    // @unchecked Sendable: sockets are immutable after init; `captured` and the addresses are
    // behind `lock`; the thread ends (stop flag + 50 ms poll timeout) before deinit closes them.
    let portFacingA: UInt16
    let portFacingB: UInt16
    private let socketA: Int32
    private let socketB: Int32
    private let lock = NSLock()
    private var captured: [(fromA: Bool, bytes: [UInt8])] = []
    private var addressA: sockaddr_in?
    private var addressB: sockaddr_in?
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// Datagrams forwarded to A (from B) or to B (from A) may be transformed or dropped (nil).
    let transform = Mutex<(@Sendable (_ toB: Bool, _ bytes: [UInt8]) -> [[UInt8]])?>(nil)

    init() throws {
        socketA = try Self.bind()
        socketB = try Self.bind()
        portFacingA = Self.port(of: socketA)
        portFacingB = Self.port(of: socketB)
        Thread.detachNewThread { [self] in run() }
    }

    deinit {
        stop()
        close(socketA)
        close(socketB)
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        done.wait()
    }

    /// Every datagram forwarded so far.
    var datagrams: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return captured.map(\.bytes) }

    /// The datagrams A sent (`fromA`) or B sent.
    func datagrams(fromA: Bool) -> [[UInt8]] {
        lock.lock()
        defer { lock.unlock() }
        return captured.filter { $0.fromA == fromA }.map(\.bytes)
    }

    /// Injects a datagram towards A (as if from B) or towards B.
    func inject(_ bytes: [UInt8], toB: Bool) {
        lock.lock()
        let target = toB ? addressB : addressA
        lock.unlock()
        guard var target else { return }
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &target) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(toB ? socketB : socketA, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// Whether the peers' addresses are known (each side sent something).
    var bothSeen: Bool { lock.lock(); defer { lock.unlock() }; return addressA != nil && addressB != nil }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var fds = [pollfd(fd: socketA, events: Int16(POLLIN), revents: 0), pollfd(fd: socketB, events: Int16(POLLIN), revents: 0)]
        while !stopped.load(ordering: .acquiring) {
            guard poll(&fds, 2, 50) > 0 else { continue }
            for i in 0..<2 where fds[i].revents & Int16(POLLIN) != 0 {
                var from = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let n = buffer.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &from) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fds[i].fd, b.baseAddress, b.count, 0, $0, &length) }
                    }
                }
                guard n > 0 else { continue }
                let bytes = Array(buffer[0..<n])
                let fromA = i == 0
                lock.lock()
                if fromA { addressA = from } else { addressB = from }
                captured.append((fromA, bytes))
                lock.unlock()
                let out = transform.withLock { $0 }?(fromA, bytes) ?? [bytes]
                for d in out { inject(d, toB: fromA) }
            }
        }
        done.signal()
    }

    private static func bind() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let r = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return fd
    }

    private static func port(of fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
