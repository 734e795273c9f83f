import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A UDP forwarder on 127.0.0.1 that hands every reply of the server back `delay` late, so a test
/// can act while a request (a TURN Allocate) is in flight. One upstream socket per client address.
/// Runs one thread until `stop()`; bounded by a poll timeout so `stop()` is noticed.
final class DelayingUDPProxy: Sendable {
    let port: UInt16
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(to serverPort: UInt16, delay: Duration) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = Self.loopback(0)
        guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }) == 0
        else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let listener = fd
        let thread = Thread { [self] in
            self.run(listener: listener, serverPort: serverPort, delay: delay)
        }
        thread.start()
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = port.bigEndian
        return a
    }

    private func run(listener: Int32, serverPort: UInt16, delay: Duration) {
        var upstream: [UInt64: Int32] = [:]  // client (address << 16 | port) → socket connected to the server
        var clients: [Int32: sockaddr_in] = [:]
        let replies = DispatchQueue(label: "proxy.replies")
        var buffer = [UInt8](repeating: 0, count: 65_536)
        defer {
            for fd in upstream.values { close(fd) }
            close(listener)
            finished.signal()
        }
        while !stopped.load(ordering: .relaxed) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)] + upstream.values.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            for p in fds where p.revents & Int16(POLLIN) != 0 {
                if p.fd == listener {
                    var from = sockaddr_in()
                    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                    let n = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(listener, &buffer, buffer.count, 0, $0, &length) } }
                    guard n > 0 else { continue }
                    let key = UInt64(from.sin_addr.s_addr) << 16 | UInt64(from.sin_port)
                    var fd = upstream[key] ?? -1
                    if fd < 0 {
                        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                        var server = Self.loopback(serverPort)
                        _ = withUnsafePointer(to: &server) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                        upstream[key] = fd
                        clients[fd] = from
                    }
                    _ = send(fd, buffer, n, 0)
                } else if let client = clients[p.fd] {
                    let n = recv(p.fd, &buffer, buffer.count, 0)
                    guard n > 0 else { continue }
                    let reply = Array(buffer[0..<n])
                    let (s, atto) = delay.components
                    replies.asyncAfter(deadline: .now() + .nanoseconds(Int(s) * 1_000_000_000 + Int(atto / 1_000_000_000))) {
                        [listener] in
                        var to = client
                        _ = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(listener, reply, reply.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                    }
                }
            }
        }
    }

    /// Stops the thread and closes every socket (waits at most 2 s).
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        _ = finished.wait(timeout: .now() + 2)
    }
}
