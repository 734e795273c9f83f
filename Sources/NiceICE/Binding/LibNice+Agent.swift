internal import CNice

/// Agent calls of the funnel. All of them run on the agent's context thread except `send`.
extension LibNice {
    struct AgentOptions {
        var controlling: Bool
        var iceUDP: Bool
        var iceTCP: Bool
        var relayOnly: Bool
        var lite: Bool
        var stunMaxRetransmissions: Int
    }

    /// RFC 5245 compatibility (the RFC 8445 behaviour libnice implements), trickle, RFC 7675 consent
    /// freshness and regular nomination (the State Machine article). UPnP off: a server library
    /// must not open ports on a router behind the user's back.
    static func newAgent(_ h: LoopHandle, _ o: AgentOptions) -> AgentHandle? {
        let flags = NiceAgentOption(
            rawValue: NICE_AGENT_OPTION_ICE_TRICKLE.rawValue | NICE_AGENT_OPTION_CONSENT_FRESHNESS.rawValue
                | NICE_AGENT_OPTION_REGULAR_NOMINATION.rawValue | (o.lite ? NICE_AGENT_OPTION_LITE_MODE.rawValue : 0))
        guard let raw = nice_agent_new_full(h.context, NICE_COMPATIBILITY_RFC5245, flags) else { return nil }
        cnice_agent_set_bool(raw, "controlling-mode", o.controlling ? 1 : 0)
        cnice_agent_set_bool(raw, "upnp", 0)
        cnice_agent_set_bool(raw, "ice-udp", o.iceUDP ? 1 : 0)
        cnice_agent_set_bool(raw, "ice-tcp", o.iceTCP ? 1 : 0)
        if o.relayOnly { cnice_agent_set_bool(raw, "force-relay", 1) }
        cnice_agent_set_uint(raw, "stun-max-retransmissions", guint(o.stunMaxRetransmissions))
        return AgentHandle(raw: raw)
    }

    /// Sets the agent's ICE role (libnice's "controlling-mode" property, through the existing
    /// `cnice_agent_set_bool` shim). libnice 0.1.21 applies it to checks it starts from then on,
    /// and to the tie-breaker of role-conflict resolution (RFC 8445 §7.3.1.1); it is set before
    /// the remote credentials, so before any check of ours.
    static func setControlling(_ a: AgentHandle, _ controlling: Bool) {
        cnice_agent_set_bool(a.raw, "controlling-mode", controlling ? 1 : 0)
    }

    static func setStunServer(_ a: AgentHandle, ip: String, port: UInt16) {
        cnice_agent_set_string(a.raw, "stun-server", ip)
        cnice_agent_set_uint(a.raw, "stun-server-port", guint(port))
    }

    /// Adds a local address to gather on. `false` when libnice cannot parse it.
    static func addLocalAddress(_ a: AgentHandle, _ ip: String) -> Bool {
        var address = NiceAddress()
        nice_address_init(&address)
        guard nice_address_set_from_string(&address, ip) != 0 else { return false }
        return nice_agent_add_local_address(a.raw, &address) != 0
    }

    /// True when libnice parses `ip` as an IPv4 or IPv6 literal.
    static func isIPAddress(_ ip: String) -> Bool {
        var address = NiceAddress()
        nice_address_init(&address)
        return nice_address_set_from_string(&address, ip) != 0
    }

    /// The first IP address of a network interface, if it has one.
    static func interfaceAddress(_ name: String) -> String? {
        let copy = g_strdup(name)
        defer { g_free(copy) }
        guard let ip = nice_interfaces_get_ip_for_interface(copy) else { return nil }
        defer { g_free(ip) }
        return String(cString: ip)
    }

    static func addStream(_ a: AgentHandle, components: Int) -> UInt32 {
        nice_agent_add_stream(a.raw, guint(components))
    }

    static func setPortRange(_ a: AgentHandle, stream: UInt32, component: UInt32, min: UInt16, max: UInt16) {
        nice_agent_set_port_range(a.raw, stream, component, guint(min), guint(max))
    }

    static func setRelay(
        _ a: AgentHandle, stream: UInt32, component: UInt32, ip: String, port: UInt16, username: String,
        password: String, transport: IceServerURL.Transport, tls: Bool
    ) -> Bool {
        let type: NiceRelayType = tls ? NICE_RELAY_TYPE_TURN_TLS : (transport == .tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP)
        return nice_agent_set_relay_info(a.raw, stream, component, ip, guint(port), username, password, type) != 0
    }

    static func gather(_ a: AgentHandle, stream: UInt32) -> Bool {
        nice_agent_gather_candidates(a.raw, stream) != 0
    }

    static func localCredentials(_ a: AgentHandle, stream: UInt32) -> IceParameters? {
        var ufrag: UnsafeMutablePointer<gchar>?
        var pwd: UnsafeMutablePointer<gchar>?
        guard nice_agent_get_local_credentials(a.raw, stream, &ufrag, &pwd) != 0, let ufrag, let pwd else { return nil }
        defer {
            g_free(ufrag)
            g_free(pwd)
        }
        return IceParameters(usernameFragment: String(cString: ufrag), password: String(cString: pwd))
    }

    /// Sets our ufrag and password (NiceICE generates them so a connection can be created without
    /// waiting for the GLib thread).
    static func setLocalCredentials(_ a: AgentHandle, stream: UInt32, _ p: IceParameters) -> Bool {
        nice_agent_set_local_credentials(a.raw, stream, p.usernameFragment, p.password) != 0
    }

    static func setRemoteCredentials(_ a: AgentHandle, stream: UInt32, _ p: IceParameters) -> Bool {
        nice_agent_set_remote_credentials(a.raw, stream, p.usernameFragment, p.password) != 0
    }

    /// Adds one remote candidate given as libnice's SDP form (`a=candidate:…` without extensions).
    /// Returns false when libnice rejects it (for example a host name it cannot resolve).
    static func addRemoteCandidate(_ a: AgentHandle, stream: UInt32, sdp: String) -> Bool {
        guard let candidate = nice_agent_parse_remote_candidate_sdp(a.raw, stream, sdp) else { return false }
        defer { nice_candidate_free(candidate) }
        let list = g_slist_append(nil, candidate)
        defer { g_slist_free(list) }
        return nice_agent_set_remote_candidates(a.raw, stream, guint(candidate.pointee.component_id), list) > 0
    }

    static func peerGatheringDone(_ a: AgentHandle, stream: UInt32) {
        _ = nice_agent_peer_candidate_gathering_done(a.raw, stream)
    }

    static func restartStream(_ a: AgentHandle, stream: UInt32) -> Bool {
        nice_agent_restart_stream(a.raw, stream) != 0
    }

    /// Removes the stream: prunes its discoveries, checks and TURN refreshes (see
    /// ``AgentCore/teardown()``).
    static func removeStream(_ a: AgentHandle, stream: UInt32) {
        nice_agent_remove_stream(a.raw, stream)
    }

    static func consentLost(_ a: AgentHandle, stream: UInt32, component: UInt32) -> Bool {
        nice_agent_consent_lost(a.raw, stream, component) != 0
    }

    /// Sends one datagram; the byte count, or a negative value on failure. Thread-safe in libnice.
    static func send(_ a: AgentHandle, stream: UInt32, component: UInt32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let base = bytes.baseAddress else { return nice_agent_send(a.raw, stream, component, 0, "") }
        return nice_agent_send(a.raw, stream, component, guint(bytes.count), base.assumingMemoryBound(to: gchar.self))
    }

    /// Asks for a kernel receive buffer of `bytes` on the socket that carries the selected pair
    /// of `component` (libnice has no option for it; `nice_agent_get_selected_socket` lends the
    /// `GSocket`). Returns what the kernel granted (it doubles the request for its bookkeeping
    /// and caps it at `net.core.rmem_max`), nil when there is no such socket. Context thread,
    /// outside libnice's signal handlers (the call takes the agent lock).
    static func setSelectedSocketReceiveBuffer(_ a: AgentHandle, stream: UInt32, component: UInt32, bytes: Int) -> Int? {
        guard let socket = nice_agent_get_selected_socket(a.raw, stream, component) else { return nil }
        defer { g_object_unref(socket) }
        let fd = g_socket_get_fd(socket)
        guard fd >= 0 else { return nil }
        var value = Int32(clamping: bytes)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
        var granted: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length) == 0 else { return nil }
        return Int(granted)
    }

    /// The kernel receive buffer of the socket carrying `component`'s selected pair (tests and
    /// stats); nil when there is none. Context thread.
    static func selectedSocketReceiveBuffer(_ a: AgentHandle, stream: UInt32, component: UInt32) -> Int? {
        guard let socket = nice_agent_get_selected_socket(a.raw, stream, component) else { return nil }
        defer { g_object_unref(socket) }
        var granted: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUF, &granted, &length) == 0 else { return nil }
        return Int(granted)
    }

    /// The local candidates of one component, as `candidate:` attribute values.
    static func localCandidateLines(_ a: AgentHandle, stream: UInt32, component: UInt32) -> [String] {
        candidateLines(a, nice_agent_get_local_candidates(a.raw, stream, component))
    }

    /// The remote candidates of one component (including peer-reflexive ones), as `candidate:` values.
    static func remoteCandidateLines(_ a: AgentHandle, stream: UInt32, component: UInt32) -> [String] {
        candidateLines(a, nice_agent_get_remote_candidates(a.raw, stream, component))
    }

    /// Converts and frees a candidate list that libnice handed over (transfer full).
    private static func candidateLines(_ a: AgentHandle, _ list: UnsafeMutablePointer<GSList>?) -> [String] {
        defer { cnice_candidate_list_free(list) }
        var lines: [String] = []
        var node = list
        while let n = node {
            if let c = n.pointee.data?.assumingMemoryBound(to: NiceCandidate.self) {
                lines.append(candidateLine(a, c))
            }
            node = n.pointee.next
        }
        return lines
    }

    /// libnice's state of a component.
    static func componentState(_ a: AgentHandle, stream: UInt32, component: UInt32) -> NiceState? {
        NiceState(rawValue: nice_agent_get_component_state(a.raw, stream, component).rawValue)
    }

    /// libnice's SDP text of a candidate, without the `a=` prefix.
    static func candidateLine(_ a: AgentHandle, _ c: UnsafeMutablePointer<NiceCandidate>) -> String {
        guard let sdp = nice_agent_generate_local_candidate_sdp(a.raw, c) else { return "" }
        defer { g_free(sdp) }
        let text = String(cString: sdp)
        return text.hasPrefix("a=") ? String(text.dropFirst(2)) : text
    }

    static func candidateStream(_ c: UnsafeMutablePointer<NiceCandidate>) -> UInt32 {
        c.pointee.stream_id
    }

    // MARK: Signals and receive

    /// Connects the agent's signals; each connection holds one retain of `box`, released by GLib.
    static func connectSignals(_ a: AgentHandle, box: SignalBox) -> [UInt] {
        func retained() -> UnsafeMutableRawPointer { Unmanaged.passRetained(box).toOpaque() }
        return [
            cnice_connect_state_changed(a.raw, Trampolines.stateChanged, retained(), Trampolines.releaseSignalBox),
            cnice_connect_new_candidate(a.raw, Trampolines.newCandidate, retained(), Trampolines.releaseSignalBox),
            cnice_connect_new_remote_candidate(a.raw, Trampolines.newRemoteCandidate, retained(), Trampolines.releaseSignalBox),
            cnice_connect_gathering_done(a.raw, Trampolines.gatheringDone, retained(), Trampolines.releaseSignalBox),
            cnice_connect_selected_pair(a.raw, Trampolines.selectedPair, retained(), Trampolines.releaseSignalBox),
        ].map { UInt($0) }
    }

    static func disconnectSignals(_ a: AgentHandle, _ ids: [UInt]) {
        for id in ids where id != 0 { g_signal_handler_disconnect(UnsafeMutableRawPointer(a.raw), gulong(id)) }
    }

    /// Attaches the receive callback; `box` must stay alive until `detachReceive`.
    static func attachReceive(_ a: AgentHandle, _ h: LoopHandle, stream: UInt32, component: UInt32, box: UnsafeMutableRawPointer) {
        _ = nice_agent_attach_recv(a.raw, stream, component, h.context, Trampolines.receive, box)
    }

    static func detachReceive(_ a: AgentHandle, _ h: LoopHandle, stream: UInt32, component: UInt32) {
        _ = nice_agent_attach_recv(a.raw, stream, component, h.context, nil, nil)
    }

    /// Closes the agent's sockets asynchronously, then drops NiceICE's reference and runs `done` on
    /// the loop thread. The unref runs in a later loop job, not inside libnice's close callback:
    /// the close task holds its own reference until that callback returns, so unreferencing there
    /// would leave the sockets open for a moment after `done` (and after `await closeAndWait()`).
    static func closeAndRelease(_ a: AgentHandle, _ h: LoopHandle, _ done: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ClosureBox {
            invoke(h) {
                g_object_unref(UnsafeMutableRawPointer(a.raw))
                done()
            }
        }).toOpaque()
        nice_agent_close_async(a.raw, Trampolines.closed, box)
    }

    static func stateName(_ s: NiceState) -> String {
        String(cString: nice_component_state_to_string(NiceComponentState(rawValue: s.rawValue)))
    }
}
