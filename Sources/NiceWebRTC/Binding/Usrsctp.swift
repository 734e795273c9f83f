internal import CUsrsctp
import NiceICE
import NiceWebRTCCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What usrsctp calls back into. usrsctp knows an endpoint only by a number (registered as its
/// AF_CONN "address"), never by a pointer, so a callback that arrives after the endpoint went away
/// (usrsctp#405: the write callback fires on closed sockets) finds nothing and does nothing.
protocol UsrsctpEndpoint: AnyObject, Sendable {
    /// An SCTP packet to send down (to DTLS). Called on usrsctp's timer thread, or inline from
    /// ``UsrsctpSocket/input(_:)`` and ``UsrsctpSocket/send(_:stream:ppid:unordered:reliability:)``;
    /// usrsctp's own locks may be held. The bytes are valid only during the call.
    func usrsctpWrite(_ packet: UnsafeRawBufferPointer) -> Bool
    /// The socket became readable or writable (or has an error). usrsctp's locks are held: only
    /// schedule work, never call usrsctp from here.
    func usrsctpUpcall()
}

/// The one funnel for usrsctp's process-global state: initialisation, the registry of live
/// endpoints, and the two C callbacks.
///
/// **Lifetime.** usrsctp is initialised once, by the first ``SctpTransport``, and is never
/// finished: `usrsctp_finish` fails while any association exists, re-initialising restarts its
/// timer thread, and libdatachannel, the most used usrsctp client, finishes it only at an explicit
/// global clean-up. So `usrsctp_finish` never runs while a socket lives, by construction.
///
/// **Lock order.** The registry lock is taken alone and only for a look-up or an edit; no
/// endpoint call and no usrsctp call happens under it, except the one-time `usrsctp_init`.
enum Usrsctp {
    struct Entry: Sendable {
        weak var endpoint: (any UsrsctpEndpoint)?
    }

    struct Registry: Sendable {
        var entries: [UInt: Entry] = [:]
        var nextID: UInt = 1
        var initialised = false
    }

    static let registry = Locked(Registry())

    /// The largest message we send or accept: Chrome's and libdatachannel's 256 KiB.
    static let maximumMessageSize = 262_144
    /// usrsctp's socket buffers, each way (its default is 256 KiB, too small for a realistic RTT;
    /// Mozilla bug 1051685). 4 MiB by measurement (`NiceBench dc-rtt`, one channel of 64 KiB
    /// messages through a delaying relay): at 1 MiB (libdatachannel's choice) the receiver window
    /// capped 20/50/100 ms RTT at 234/82/18 Mbit/s, at 4 MiB 287/228/235 (Pion publishes
    /// 200/85/45). A bound, not an allocation: memory is used only by data waiting or in flight.
    static let bufferSize: UInt32 = 4_194_304

    /// A fresh endpoint id (never reused in the process).
    static func reserveID() -> UInt {
        registry.withLock { r in
            defer { r.nextID += 1 }
            return r.nextID
        }
    }

    /// Registers an endpoint under its id, initialising usrsctp on first use, before any socket.
    static func register(_ endpoint: any UsrsctpEndpoint, id: UInt) {
        registry.withLock { r in
            // Under the lock so that a second transport cannot create a socket before usrsctp_init
            // returned; usrsctp calls nothing of ours during init (no socket exists yet).
            if !r.initialised { initialise() }
            r.initialised = true
            r.entries[id] = Entry(endpoint: endpoint)
        }
        usrsctp_register_address(address(id))
    }

    /// Forgets an endpoint: later callbacks for its id do nothing.
    static func deregister(_ id: UInt) {
        usrsctp_deregister_address(address(id))
        _ = registry.withLock { $0.entries.removeValue(forKey: id) }
    }

    static func endpoint(_ id: UInt) -> (any UsrsctpEndpoint)? {
        registry.withLock { $0.entries[id]?.endpoint }
    }

    static func address(_ id: UInt) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: id) }

    /// The first registration runs this once, before any socket exists (so before any callback).
    /// The values follow libdatachannel's `SctpTransport::SetSettings`, each for its reason.
    private static func initialise() {
        usrsctp_init(0, writeCallback, nil)
        _ = usrsctp_sysctl_set_sctp_pr_enable(1)  // RFC 3758 partial reliability (maxRetransmits, lifetime)
        _ = usrsctp_sysctl_set_sctp_ecn_enable(0)  // no ECN over DTLS/UDP
        // Extensions WebRTC does not use, off so their parsers are not reachable from a peer
        // (Debian's 0.9.5 lacks later upstream input-validation fixes): address reconfiguration
        // (ASCONF, RFC 5061) first, since AUTH (RFC 4895) cannot be turned off while ASCONF is on;
        // NR-SACK and PKTDROP are off by default and stay so. Stream reset (RFC 6525) needs neither.
        _ = usrsctp_sysctl_set_sctp_asconf_enable(0)
        _ = usrsctp_sysctl_set_sctp_auth_enable(0)
        _ = usrsctp_sysctl_set_sctp_nrsack_enable(0)
        _ = usrsctp_sysctl_set_sctp_pktdrop_enable(0)
        usrsctp_enable_crc32c_offload()  // DTLS authenticates; compute CRC32c only when sending
        _ = usrsctp_sysctl_set_sctp_recvspace(bufferSize)
        _ = usrsctp_sysctl_set_sctp_sendspace(bufferSize)
        _ = usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024)
        _ = usrsctp_sysctl_set_sctp_initial_cwnd(10)  // RFC 6928
        _ = usrsctp_sysctl_set_sctp_max_burst_default(10)
        _ = usrsctp_sysctl_set_sctp_default_cc_module(0)  // RFC 4960 congestion control
        _ = usrsctp_sysctl_set_sctp_delayed_sack_time_default(20)  // ms, not 200
        _ = usrsctp_sysctl_set_sctp_rto_min_default(200)  // ms, as TCP on Linux
        _ = usrsctp_sysctl_set_sctp_rto_max_default(10_000)
        _ = usrsctp_sysctl_set_sctp_init_rto_max_default(10_000)
        _ = usrsctp_sysctl_set_sctp_rto_initial_default(1_000)
        _ = usrsctp_sysctl_set_sctp_init_rtx_max_default(5)
        _ = usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5)
        _ = usrsctp_sysctl_set_sctp_path_rtx_max_default(5)
        _ = usrsctp_sysctl_set_sctp_heartbeat_interval_default(10_000)
    }
}

/// usrsctp's output callback: the CRC32c (offloaded, see above), then the endpoint, if it lives.
private let writeCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int, UInt8, UInt8) -> Int32 = {
    address, data, length, _, _ in
    guard let address, let data, length >= 12 else { return -1 }
    guard let endpoint = Usrsctp.endpoint(UInt(bitPattern: address)) else { return -1 }
    data.storeBytes(of: 0, toByteOffset: 8, as: UInt32.self)
    data.storeBytes(of: usrsctp_crc32c(data, length), toByteOffset: 8, as: UInt32.self)
    return endpoint.usrsctpWrite(UnsafeRawBufferPointer(start: data, count: length)) ? 0 : -1
}

/// usrsctp's socket upcall (readable / writable / error).
private let upcallCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32) -> Void = { _, argument, _ in
    guard let argument, let endpoint = Usrsctp.endpoint(UInt(bitPattern: argument)) else { return }
    endpoint.usrsctpUpcall()
}

/// One usrsctp AF_CONN socket: one SCTP association over one DTLS transport (RFC 8261).
///
/// Not `Sendable`: its ``SctpCore`` hands it out under its own locks. Sends and stream resets run
/// under the core's send gate, reads under its state lock, possibly at the same time (usrsctp's
/// socket calls are thread-safe, as a BSD socket's); `socket` is written only by `init` and by
/// `close()`, which runs under the gate after the state lock detached the socket, when no read can
/// reach it any more.
final class UsrsctpSocket {
    enum SendResult {
        case sent
        case wouldBlock
        case tooLarge
        case failed(Int32)
    }

    /// One `usrsctp_recvv` result.
    struct Received {
        var count: Int
        var isNotification: Bool
        var isEndOfRecord: Bool
        var stream: UInt16
        var ppid: UInt32
        /// The SSN and TSN of the (last) DATA chunk, for trace logs.
        var ssn: UInt16 = 0
        var tsn: UInt32 = 0
    }

    enum ReceiveResult {
        case data(Received)
        case empty
        case endOfStream
        case failed(Int32)
    }

    let id: UInt
    private var socket: OpaquePointer?

    /// Creates, configures and binds the socket to `localPort`.
    init(id: UInt, localPort: UInt16, streams: UInt16) throws(DataChannelError) {
        self.id = id
        guard let s = usrsctp_socket(AF_CONN, Int32(SOCK_STREAM.rawValue), Int32(IPPROTO_SCTP), nil, nil, 0, nil) else {
            throw DataChannelError(.sctpFailure, field: "usrsctp_socket", reason: "errno \(errno)")
        }
        socket = s
        do throws(DataChannelError) {
            try configure(s, streams: streams)
            var local = Self.address(id: id, port: localPort)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { usrsctp_bind(s, UnsafeMutablePointer(mutating: $0), socklen_t(MemoryLayout<sockaddr_conn>.size)) }
            }
            guard bound == 0 else { throw DataChannelError(.sctpFailure, field: "usrsctp_bind", reason: "errno \(errno)") }
        } catch {
            usrsctp_close(s)
            socket = nil
            throw error
        }
        usrsctp_set_upcall(s, upcallCallback, Usrsctp.address(id))
    }

    deinit { close() }

    private func configure(_ s: OpaquePointer, streams: UInt16) throws(DataChannelError) {
        func set<T: BitwiseCopyable>(_ level: Int32, _ name: Int32, _ value: T, _ what: String) throws(DataChannelError) {
            let r = withUnsafeBytes(of: value) { usrsctp_setsockopt(s, level, name, $0.baseAddress, socklen_t($0.count)) }
            guard r == 0 else {
                throw DataChannelError(.sctpFailure, field: what, reason: "usrsctp_setsockopt: errno \(errno)")
            }
        }
        let sctp = Int32(IPPROTO_SCTP)
        guard usrsctp_set_non_blocking(s, 1) == 0 else {
            throw DataChannelError(.sctpFailure, field: "non-blocking", reason: "errno \(errno)")
        }
        // close() aborts at once (no lingering association after the transport is gone).
        try set(SOL_SOCKET, SO_LINGER, linger(l_onoff: 1, l_linger: 0), "SO_LINGER")
        try set(sctp, SCTP_ENABLE_STREAM_RESET, sctp_assoc_value(assoc_id: UInt32(SCTP_ALL_ASSOC), assoc_value: UInt32(SCTP_ENABLE_RESET_STREAM_REQ)), "SCTP_ENABLE_STREAM_RESET")
        try set(sctp, SCTP_RECVRCVINFO, Int32(1), "SCTP_RECVRCVINFO")
        for event in [SCTP_ASSOC_CHANGE, SCTP_SENDER_DRY_EVENT, SCTP_STREAM_RESET_EVENT] {
            try set(sctp, SCTP_EVENT, sctp_event(se_assoc_id: UInt32(SCTP_ALL_ASSOC), se_type: UInt16(event), se_on: 1), "SCTP_EVENT")
        }
        try set(sctp, SCTP_NODELAY, Int32(1), "SCTP_NODELAY")  // RFC 8831 §6.6: no Nagle
        // RFC 8261 §5: no path-MTU discovery; SCTP packets that fit 1,200-byte IP packets after
        // DTLS (≤ 48), UDP (8), IPv6 (40) and SCTP's common header (12): libdatachannel's value.
        var params = sctp_paddrparams()
        params.spp_assoc_id = UInt32(SCTP_FUTURE_ASSOC)
        params.spp_flags = UInt32(SPP_HB_ENABLE | SPP_PMTUD_DISABLE)
        params.spp_pathmtu = 1200 - 12 - 48 - 8 - 40
        try set(sctp, SCTP_PEER_ADDR_PARAMS, params, "SCTP_PEER_ADDR_PARAMS")
        // RFC 8831 §6.2 asks for 65,535 streams; usrsctp allocates per-stream state up front (a few
        // MB per association at 65,535, usrsctp#121), so the count is configurable, 1,024 by default.
        try set(sctp, SCTP_INITMSG, sctp_initmsg(sinit_num_ostreams: streams, sinit_max_instreams: streams, sinit_max_attempts: 0, sinit_max_init_timeo: 0), "SCTP_INITMSG")
        // Whole messages one after another, never interleaved with notifications (RFC 6458 §8.1.20).
        try set(sctp, SCTP_FRAGMENT_INTERLEAVE, Int32(0), "SCTP_FRAGMENT_INTERLEAVE")
        // A non-blocking send takes a message only when it fits the send buffer whole.
        let size = Int32(max(Int(Usrsctp.bufferSize), Usrsctp.maximumMessageSize))
        try set(SOL_SOCKET, SO_RCVBUF, size, "SO_RCVBUF")
        try set(SOL_SOCKET, SO_SNDBUF, size, "SO_SNDBUF")
    }

    static func address(id: UInt, port: UInt16) -> sockaddr_conn {
        sockaddr_conn(sconn_family: UInt16(AF_CONN), sconn_port: port.bigEndian, sconn_addr: Usrsctp.address(id))
    }

    /// Starts the association (both sides connect: the WebRTC way, RFC 8831 §6.2).
    func connect(remotePort: UInt16) -> Int32? {
        guard let s = socket else { return EBADF }
        var remote = Self.address(id: id, port: remotePort)
        let r = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { usrsctp_connect(s, UnsafeMutablePointer(mutating: $0), socklen_t(MemoryLayout<sockaddr_conn>.size)) }
        }
        if r == 0 || errno == EINPROGRESS { return nil }
        return errno
    }

    /// Hands a DTLS plaintext (one SCTP packet) to usrsctp. usrsctp may call the write callback
    /// and the upcall from inside.
    func input(_ packet: UnsafeRawBufferPointer) {
        guard socket != nil, let base = packet.baseAddress else { return }
        usrsctp_conninput(Usrsctp.address(id), base, packet.count, 0)
    }

    func send(_ payload: UnsafeRawBufferPointer, stream: UInt16, ppid: UInt32, unordered: Bool, reliability: DataChannelReliability) -> SendResult {
        guard let s = socket else { return .failed(EBADF) }
        var spa = sctp_sendv_spa()
        spa.sendv_flags = UInt32(SCTP_SEND_SNDINFO_VALID | SCTP_SEND_PRINFO_VALID)
        spa.sendv_sndinfo.snd_sid = stream
        spa.sendv_sndinfo.snd_ppid = ppid.bigEndian
        spa.sendv_sndinfo.snd_flags = UInt16(SCTP_EOR) | (unordered ? UInt16(SCTP_UNORDERED) : 0)
        switch reliability {
        case .reliable:
            spa.sendv_prinfo.pr_policy = UInt16(SCTP_PR_SCTP_NONE)
        case .maxRetransmits(let n):
            spa.sendv_prinfo.pr_policy = UInt16(SCTP_PR_SCTP_RTX)
            spa.sendv_prinfo.pr_value = UInt32(n)
        case .maxPacketLifeTime(let ms):
            spa.sendv_prinfo.pr_policy = UInt16(SCTP_PR_SCTP_TTL)
            spa.sendv_prinfo.pr_value = UInt32(ms)
        }
        let r = usrsctp_sendv(s, payload.baseAddress, payload.count, nil, 0, &spa, socklen_t(MemoryLayout<sctp_sendv_spa>.size), UInt32(SCTP_SENDV_SPA), 0)
        if r >= 0 { return .sent }
        let e = errno
        if e == EWOULDBLOCK || e == EAGAIN { return .wouldBlock }
        if e == EMSGSIZE { return .tooLarge }
        return .failed(e)
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> ReceiveResult {
        guard let s = socket else { return .failed(EBADF) }
        var info = sctp_rcvinfo()
        var infoLength = socklen_t(MemoryLayout<sctp_rcvinfo>.size)
        var infoType: UInt32 = 0
        var flags: Int32 = 0
        var from = sockaddr_conn()
        var fromLength = socklen_t(MemoryLayout<sockaddr_conn>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                usrsctp_recvv(s, buffer.baseAddress, buffer.count, $0, &fromLength, &info, &infoLength, &infoType, &flags)
            }
        }
        if n < 0 {
            let e = errno
            return e == EWOULDBLOCK || e == EAGAIN ? .empty : .failed(e)
        }
        if n == 0 && flags & Int32(MSG_NOTIFICATION) == 0 { return .endOfStream }
        let hasInfo = infoType == UInt32(SCTP_RECVV_RCVINFO)
        return .data(
            Received(
                count: n, isNotification: flags & Int32(MSG_NOTIFICATION) != 0, isEndOfRecord: flags & Int32(MSG_EOR) != 0,
                stream: hasInfo ? info.rcv_sid : 0, ppid: hasInfo ? UInt32(bigEndian: info.rcv_ppid) : 0,
                ssn: hasInfo ? info.rcv_ssn : 0, tsn: hasInfo ? info.rcv_tsn : 0))
    }

    /// RFC 8831 §6.7: resets our outgoing stream (closes a channel). False when usrsctp refused.
    func resetOutgoing(_ stream: UInt16) -> Bool {
        guard let s = socket else { return false }
        return cnsctp_reset_outgoing_stream(s, stream) == 0
    }

    /// The bytes usrsctp still holds for the association (queued or unacknowledged); nil when it
    /// cannot say.
    func outputQueueBytes() -> Int? {
        guard let s = socket else { return nil }
        let n = cnsctp_output_queue_bytes(s)
        return n < 0 ? nil : n
    }

    /// The DATA chunks usrsctp sent and the peer has not acknowledged cumulatively yet (`SCTP_STATUS`'s
    /// `sstat_unackdata`: its sent queue); nil when it cannot say.
    func unacknowledgedChunks() -> Int? {
        guard let s = socket else { return nil }
        var status = sctp_status()
        var length = socklen_t(MemoryLayout<sctp_status>.size)
        guard usrsctp_getsockopt(s, Int32(IPPROTO_SCTP), SCTP_STATUS, &status, &length) == 0 else { return nil }
        return Int(status.sstat_unackdata)
    }

    /// **Test-only**: pins usrsctp's retransmission timeout (`SCTP_RTOINFO`, initial = min = max,
    /// milliseconds), so a test can hold back its T3-rtx as usrsctp#750 does. False when refused.
    func pinRetransmissionTimeout(milliseconds: UInt32) -> Bool {
        guard let s = socket else { return false }
        var info = sctp_rtoinfo()
        info.srto_assoc_id = 0
        info.srto_initial = milliseconds
        info.srto_max = milliseconds
        info.srto_min = milliseconds
        return usrsctp_setsockopt(s, Int32(IPPROTO_SCTP), SCTP_RTOINFO, &info, socklen_t(MemoryLayout<sctp_rtoinfo>.size)) == 0
    }

    /// The negotiated (inbound, outbound) stream counts, once the association is up.
    func streamCounts() -> (inbound: UInt16, outbound: UInt16)? {
        guard let s = socket else { return nil }
        var status = sctp_status()
        var length = socklen_t(MemoryLayout<sctp_status>.size)
        guard usrsctp_getsockopt(s, Int32(IPPROTO_SCTP), SCTP_STATUS, &status, &length) == 0 else { return nil }
        return (status.sstat_instrms, status.sstat_outstrms)
    }

    /// The association's smoothed round-trip time (`SCTP_STATUS`'s `spinfo_srtt` of the primary
    /// path, whole milliseconds: 0 on loopback); nil when usrsctp cannot say.
    func smoothedRoundTripTime() -> Duration? {
        guard let s = socket else { return nil }
        var status = sctp_status()
        var length = socklen_t(MemoryLayout<sctp_status>.size)
        guard usrsctp_getsockopt(s, Int32(IPPROTO_SCTP), SCTP_STATUS, &status, &length) == 0 else { return nil }
        return .milliseconds(Int64(status.sstat_primary.spinfo_srtt))
    }

    /// The primary path's congestion state (`SCTP_STATUS`); nil when usrsctp cannot say.
    func pathStatus() -> SctpPathStatus? {
        guard let s = socket else { return nil }
        var status = sctp_status()
        var length = socklen_t(MemoryLayout<sctp_status>.size)
        guard usrsctp_getsockopt(s, Int32(IPPROTO_SCTP), SCTP_STATUS, &status, &length) == 0 else { return nil }
        return SctpPathStatus(
            smoothedRoundTripTime: .milliseconds(Int64(status.sstat_primary.spinfo_srtt)),
            congestionWindow: Int(status.sstat_primary.spinfo_cwnd), receiverWindow: Int(status.sstat_rwnd),
            mtu: Int(status.sstat_primary.spinfo_mtu), unacknowledgedChunks: Int(status.sstat_unackdata),
            pendingChunks: Int(status.sstat_penddata))
    }

    /// Aborts the association (SO_LINGER 0) and frees the socket. Idempotent.
    func close() {
        guard let s = socket else { return }
        socket = nil
        usrsctp_set_upcall(s, nil, nil)
        usrsctp_close(s)
    }
}

/// Reading notifications (`union sctp_notification`), from the bytes `usrsctp_recvv` returned.
enum SctpNotification {
    case associationChange(state: UInt16, inbound: UInt16, outbound: UInt16)
    /// Streams whose incoming side the peer reset (what closes a channel, RFC 8831 §6.7).
    case streamReset(incoming: [UInt16])
    case senderDry
    case other(UInt16)

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8, let base = bytes.baseAddress else { return nil }
        let type = bytes.loadUnaligned(as: UInt16.self)
        let length = Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard length == bytes.count else { return nil }
        switch Int32(type) {
        case Int32(SCTP_ASSOC_CHANGE):
            guard bytes.count >= MemoryLayout<sctp_assoc_change>.size else { return nil }
            let c = bytes.loadUnaligned(as: sctp_assoc_change.self)
            self = .associationChange(state: c.sac_state, inbound: c.sac_inbound_streams, outbound: c.sac_outbound_streams)
        case Int32(SCTP_STREAM_RESET_EVENT):
            let count = cnsctp_reset_event_count(base, bytes.count)
            guard count >= 0 else { return nil }
            let flags = bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
            let streams = (0..<Int(count)).map { cnsctp_reset_event_stream(base, Int32($0)) }
            self = .streamReset(incoming: flags & UInt16(SCTP_STREAM_RESET_INCOMING_SSN) != 0 ? streams : [])
        case Int32(SCTP_SENDER_DRY_EVENT):
            self = .senderDry
        default:
            self = .other(type)
        }
    }

    static let communicationUp = UInt16(SCTP_COMM_UP)
    static let restart = UInt16(SCTP_RESTART)
}
