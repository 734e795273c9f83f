#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The socket half of ``TurnProbe``: plain POSIX sockets, non-blocking and poll-driven, that carry the
// TURN messages LibNice+Stun.swift builds. Part of the C funnel: every POSIX call is a `static func`
// on ``LibNice``.

final class TurnProbeSocket {
    let fd: Int32
    let isStream: Bool
    /// Bytes received over TCP but not yet returned as a whole frame.
    fileprivate var pending: [UInt8] = []

    fileprivate init(fd: Int32, isStream: Bool) {
        self.fd = fd
        self.isStream = isStream
    }
}

/// Why a probe socket could not be connected or used.
enum TurnProbeSocketFailure: Error, Sendable, Equatable {
    case badAddress
    case refused
    case timedOut
    case system(Int32)
}

/// What one receive produced.
enum TurnProbeReceive: Sendable, Equatable {
    case message([UInt8])
    case timedOut
    case failed(TurnProbeSocketFailure)
}


extension LibNice {
    // MARK: Sockets (POSIX, non-blocking, poll-driven)

    /// Opens a UDP or TCP socket connected to the numeric address `ip`:`port`. TCP waits for the
    /// handshake until `deadline`. UDP is connected too, so an ICMP port-unreachable surfaces as
    /// `ECONNREFUSED` on the next receive.
    static func probeConnect(ip: String, port: UInt16, stream: Bool, deadline: ContinuousClock.Instant)
        -> Result<TurnProbeSocket, TurnProbeSocketFailure>
    {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(ip, String(port), &hints, &list) == 0, let first = list else { return .failure(.badAddress) }
        defer { freeaddrinfo(list) }
        let type = hints.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(first.pointee.ai_family, type, first.pointee.ai_protocol)
        guard fd >= 0 else { return .failure(.system(errno)) }
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            let error = errno
            guard stream, error == EINPROGRESS else {
                close(fd)
                return .failure(error == ECONNREFUSED ? .refused : .system(error))
            }
            switch waitFor(fd, events: Int16(POLLOUT), deadline: deadline) {
            case .ready:
                var soError: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                let got = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
                if got != 0 || soError != 0 {
                    close(fd)
                    let error = got != 0 ? errno : soError
                    return .failure(error == ECONNREFUSED ? .refused : .system(error))
                }
            case .timedOut:
                close(fd)
                return .failure(.timedOut)
            case .failed(let error):
                close(fd)
                return .failure(.system(error))
            }
        }
        return .success(TurnProbeSocket(fd: fd, isStream: stream))
    }

    static func probeClose(_ socket: TurnProbeSocket) {
        close(socket.fd)
    }

    /// Sends one message (all of it, for TCP) before `deadline`.
    static func probeSend(_ socket: TurnProbeSocket, _ bytes: [UInt8], deadline: ContinuousClock.Instant)
        -> TurnProbeSocketFailure?
    {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                posixSend(socket.fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 {
                if !socket.isStream && sent != bytes.count { return .system(EMSGSIZE) }
                offset += sent
                continue
            }
            let error = errno
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                switch waitFor(socket.fd, events: Int16(POLLOUT), deadline: deadline) {
                case .ready: continue
                case .timedOut: return .timedOut
                case .failed(let error): return .system(error)
                }
            case ECONNREFUSED: return .refused
            default: return .system(error)
            }
        }
        return nil
    }

    /// Receives one STUN message before `deadline`: one datagram over UDP; over TCP, one frame of
    /// the back-to-back stream (20-byte header + length; ChannelData frames are skipped).
    static func probeReceive(_ socket: TurnProbeSocket, deadline: ContinuousClock.Instant) -> TurnProbeReceive {
        var chunk = [UInt8](repeating: 0, count: TurnStunClient.maxMessage)
        while true {
            if socket.isStream {
                switch nextFrame(&socket.pending) {
                case .frame(let frame): return .message(frame)
                case .skip: continue
                case .garbage: return .failed(.system(EPROTO))
                case .needMore: break
                }
            }
            let got = chunk.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
            if got > 0 {
                if !socket.isStream { return .message(Array(chunk[0..<got])) }
                socket.pending += chunk[0..<got]
                continue
            }
            if got == 0 {
                // UDP: an empty datagram (ignore it); TCP: the server closed the connection.
                if socket.isStream { return .failed(.refused) }
                continue
            }
            let error = errno
            switch error {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                switch waitFor(socket.fd, events: Int16(POLLIN), deadline: deadline) {
                case .ready: continue
                case .timedOut: return .timedOut
                case .failed(let error): return .failed(.system(error))
                }
            case ECONNREFUSED, ECONNRESET: return .failed(.refused)
            default: return .failed(.system(error))
            }
        }
    }

    /// `send(2)` (the bare name resolves to ``LibNice/send`` inside this extension).
    private static func posixSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        #if canImport(Glibc)
        Glibc.send(fd, buffer, count, flags)
        #else
        Musl.send(fd, buffer, count, flags)
        #endif
    }

    private enum Frame {
        case frame([UInt8]), skip, needMore, garbage
    }

    /// Cuts one frame off the front of a TCP stream buffer (RFC 5766 §11.7 framing).
    private static func nextFrame(_ pending: inout [UInt8]) -> Frame {
        guard pending.count >= 4 else { return .needMore }
        let length = Int(pending[2]) << 8 | Int(pending[3])
        let size: Int
        let isStun: Bool
        switch pending[0] >> 6 {
        case 0:
            size = 20 + length
            isStun = true
        case 1:
            size = 4 + (length + 3) / 4 * 4  // ChannelData, padded to 4 over TCP
            isStun = false
        default:
            return .garbage
        }
        guard pending.count >= size else { return .needMore }
        let frame = Array(pending[0..<size])
        pending.removeFirst(size)
        return isStun ? .frame(frame) : .skip
    }

    private enum Wait { case ready, timedOut, failed(Int32) }

    /// Polls one descriptor for `events` until `deadline`.
    private static func waitFor(_ fd: Int32, events: Int16, deadline: ContinuousClock.Instant) -> Wait {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return .timedOut }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&entry, 1, Int32(clamping: remaining.milliseconds))
            if n > 0 { return .ready }  // POLLERR/POLLHUP too: the following call reports why
            if n == 0 { continue }  // re-check the clock; returns once the deadline passed
            let error = errno
            if error != EINTR { return .failed(error) }
        }
    }

    /// "ip:port" (IPv6 as "[ip]:port") of a socket address, numerically.
    static func numericHost(_ address: inout sockaddr_storage, _ length: socklen_t) -> String? {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { numericAddress($0, length, withPort: true) }
        }
    }

    /// The numeric host of a socket address ("192.0.2.1", "::1"), with ":port" (IPv6 in brackets)
    /// when `withPort`. One `getnameinfo` conversion for the probe and the resolver.
    static func numericAddress(_ address: UnsafePointer<sockaddr>, _ length: socklen_t, withPort: Bool) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = getnameinfo(
            address, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
            NI_NUMERICHOST | NI_NUMERICSERV)
        guard status == 0 else { return nil }
        let h = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard withPort else { return h }
        let s = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return h.contains(":") ? "[\(h)]:\(s)" : "\(h):\(s)"
    }

    /// The text of an `errno` value, for logs.
    static func probeErrorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
