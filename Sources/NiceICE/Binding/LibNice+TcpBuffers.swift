internal import CNice  // sockaddr_storage may be owned by CNice's clang module (it includes <sys/socket.h>)
import Glibc

/// Send-side bounds for libnice's TCP connections (issue 17 §6).
///
/// libnice sends its STUN consent checks and their responses on the same TCP connection as the
/// data (`agent_socket_send` → `nice_socket_send_messages_reliable`, RFC 4571 framing): every byte
/// already in our socket's send queue is ahead of them. libnice's own TCP queue is not the culprit:
/// a non-reliable `nice_agent_send` is refused while it holds anything (`socket/tcp-bsd.c`
/// `socket_send_message`), so at most one data message waits there ahead of a check.
///
/// What waits in the kernel is bounded here: `SO_SNDBUF` (which also stops send autotuning, that
/// grows to megabytes) and `TCP_NOTSENT_LOWAT`, so a send is refused (EAGAIN; libnice queues that
/// one message and refuses the next) once more than `notSentLowWater` bytes are not yet on the
/// wire. A check then waits behind at most that much unsent data plus what is in flight.
///
/// The receive buffer is left to Linux's autotuning on purpose. Capping it (64 KiB, as NiceICE
/// did before) made the pathology worse: through 10 % loss the receiver's out-of-order queue
/// filled the small buffer, it dropped segments (`ss` skmem `d`) and advertised a zero window, and
/// the sender sat in retransmission and zero-window-probe back-off for 5–8 s — with the consent
/// check in the stream behind it (libnice 0.1.21 declares consent lost after 10 s without a
/// response). Autotuning grows a receive buffer only as fast as the application reads it, and
/// libnice reads its sockets as soon as they are readable.
///
/// libnice exposes no TCP socket (`nice_agent_get_selected_socket` returns NULL for TCP and relay
/// pairs), so the connected TCP sockets of this process whose peer is the selected pair's far end
/// (the remote candidate, or the TURN server) are found through `/proc/self/fd`. Linux only, like
/// the project.
extension LibNice {
    /// Bounds the send side of every connected TCP socket whose peer is `ip:port`: `SO_SNDBUF`
    /// `sendBytes` and `TCP_NOTSENT_LOWAT` `notSentLowWater`. Returns how many sockets were
    /// bounded. Any thread (only `setsockopt` on sockets).
    static func boundTcpSendQueue(peerIP ip: String, port: UInt16, sendBytes: Int32, notSentLowWater: Int32) -> Int {
        var v4 = in_addr()
        var v6 = in6_addr()
        let isV4 = inet_pton(AF_INET, ip, &v4) == 1
        guard isV4 || inet_pton(AF_INET6, ip, &v6) == 1 else { return 0 }
        guard let dir = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(dir) }
        var capped = 0
        while let entry = readdir(dir) {
            // Read the name in place, up to its NUL: a `dirent` is only as long as its record
            // (`d_reclen`), so copying the whole 256-byte `d_name` would read past it (found by ASan).
            guard let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) else { continue }
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            guard let fd = Int32(name), fd != dirfd(dir) else { continue }
            var type: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_STREAM.rawValue) else { continue }
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &peerLength) }
            }
            guard named == 0 else { continue }
            let family = peer.ss_family
            let matches = withUnsafeBytes(of: peer) { raw -> Bool in
                if isV4 {
                    guard family == sa_family_t(AF_INET) else { return false }
                    let a = raw.load(as: sockaddr_in.self)
                    return a.sin_port == port.bigEndian && a.sin_addr.s_addr == v4.s_addr
                }
                guard family == sa_family_t(AF_INET6) else { return false }
                let a = raw.load(as: sockaddr_in6.self)
                return a.sin6_port == port.bigEndian
                    && withUnsafeBytes(of: a.sin6_addr) { x in withUnsafeBytes(of: v6) { y in x.elementsEqual(y) } }
            }
            guard matches else { continue }
            var send = sendBytes
            var lowWater = notSentLowWater
            let size = socklen_t(MemoryLayout<Int32>.size)
            if setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send, size) == 0
                && setsockopt(fd, Int32(IPPROTO_TCP), TCP_NOTSENT_LOWAT, &lowWater, size) == 0
            {
                capped += 1
            }
        }
        return capped
    }
}
