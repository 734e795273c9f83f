/// W3C `RTCIceTransportPolicy`.
public enum IceTransportPolicy: String, Sendable, Hashable {
    /// Use every candidate type.
    case all
    /// Use only relay (TURN) candidates: neither host nor server-reflexive addresses are revealed.
    case relay
}

extension IceTransport {
    /// The ICE role. Browsers derive it from offer/answer; a server picks it explicitly (see
    /// ``Configuration/role``), or takes it from the offer with
    /// ``IceDescription/answererRole(iceLite:)`` or ``IceAnswer/role``.
    public typealias Role = IceRole

    /// An inclusive range of local UDP/TCP ports to gather on.
    public struct PortRange: Sendable, Hashable, CustomStringConvertible {
        /// Lowest port, inclusive.
        public var lowerBound: UInt16
        /// Highest port, inclusive.
        public var upperBound: UInt16

        /// Creates a range. It is validated when the ``IceTransport`` is created, so a range with
        /// `lowerBound > upperBound` throws a typed error there instead of trapping here.
        public init(_ lowerBound: UInt16, _ upperBound: UInt16) {
            self.lowerBound = lowerBound
            self.upperBound = upperBound
        }

        public var description: String { "\(lowerBound)-\(upperBound)" }
    }

    /// Which special-purpose addresses a remote candidate may name (``Configuration/remoteAddressPolicy``).
    ///
    /// ``IceTransport/addIceCandidate(_:)-(IceCandidate?)`` refuses a candidate whose address is in
    /// a scope the policy does not allow, with ``IceError`` `addressNotAllowed`, field `address`; the
    /// connection is unchanged. Ordinary unicast addresses (private ranges included) are always
    /// allowed, and host names are never resolved by libnice, so they need no check.
    ///
    /// The policy covers what the peer *signals*. Peer-reflexive candidates, which libnice 0.1.21
    /// learns from the source address of an authenticated check and uses at once, cannot be
    /// filtered (libnice has no hook before it uses them and no call to remove one); their
    /// address is one the peer really sent from, so it does not let the peer pick an arbitrary
    /// destination. NiceICE logs those in a refused scope at warning level.
    public struct RemoteAddressPolicy: Sendable, Hashable {
        /// Special scopes always allowed.
        public var allowedScopes: IceAddressScopes
        /// Also allow loopback (127.0.0.0/8, ::1) when one of
        /// ``Configuration/localAddresses`` is a loopback address or an interface whose address
        /// is (two agents on one host, tests, a server behind a local proxy).
        public var allowsLoopbackWhenBoundToLoopback: Bool

        /// Creates a policy.
        public init(allowedScopes: IceAddressScopes, allowsLoopbackWhenBoundToLoopback: Bool = false) {
            self.allowedScopes = allowedScopes
            self.allowsLoopbackWhenBoundToLoopback = allowsLoopbackWhenBoundToLoopback
        }

        /// No special scope, except loopback when the connection gathers on loopback.
        public static let `default` = RemoteAddressPolicy(allowedScopes: [], allowsLoopbackWhenBoundToLoopback: true)
        /// No special scope at all, whatever the local addresses.
        public static let strict = RemoteAddressPolicy(allowedScopes: [])
        /// Every scope (the behaviour before this option existed): only for trusted peers.
        public static let allowAll = RemoteAddressPolicy(allowedScopes: .all)

        /// The scopes allowed for a connection that does (or does not) gather on loopback.
        func allowed(boundToLoopback: Bool) -> IceAddressScopes {
            allowsLoopbackWhenBoundToLoopback && boundToLoopback ? allowedScopes.union(.loopback) : allowedScopes
        }
    }

    /// Everything a ``IceTransport`` needs before it starts. Validated by
    /// ``IceTransport/init(configuration:context:logger:)``, which throws ``IceError`` naming the field.
    public struct Configuration: Sendable, Hashable {
        /// STUN and TURN servers. libnice uses one STUN server (the first `stun:` URL) and every TURN URL.
        public var iceServers: [IceServer] = []
        /// Which candidates may be used.
        public var iceTransportPolicy: IceTransportPolicy = .all
        /// Controlling or controlled: a required choice, because the wrong default would be wrong for
        /// the main use. The offerer controls (RFC 8445 §6.1.1, as browsers do): a server answering a
        /// browser's offer is ``IceRole/controlled``, a server that sends the offer ``IceRole/controlling``
        /// (against an ICE-lite offerer, the full agent controls). A conflict still resolves (RFC
        /// 8445 §7.3.1.1) at the cost of a round trip.
        public var role: Role
        /// Local ports to gather on; `nil` lets the system choose.
        public var portRange: PortRange?
        /// Local IP addresses or interface names to gather host candidates on. Empty means every
        /// interface libnice finds. Tests and servers usually pin this (for example `["127.0.0.1"]`).
        public var localAddresses: [String] = []
        /// Number of components per stream: 1 (RTP/RTCP mux, data) or 2 (separate RTCP).
        public var componentCount: Int = 1
        /// How long `disconnected` lasts before it becomes `failed` (W3C leaves this to the
        /// implementation). With libnice 0.1.21's 10 s consent timeout, the default 20 s gives
        /// RFC 7675's ≈30 s from the last response to `failed`.
        public var disconnectedGracePeriod: Duration = .seconds(20)
        /// Public addresses to advertise instead of the host address in host candidates (one per
        /// address family), for servers behind a 1:1 NAT such as cloud instances with an elastic
        /// IP: what Pion's `SetNAT1To1IPs` and Janus's `nat_1_1_mapping` do. Empty: advertise
        /// host addresses as they are.
        public var natOneToOneAddresses: [String] = []
        /// Run as an ICE-lite agent (RFC 8445 §2.5): for servers with public addresses, which
        /// answer the peer's checks but send none of their own. A lite agent is always
        /// ``IceRole/controlled``; tell the peer with `a=ice-lite` (see ``IceDescription`` and ``IceAnswer``).
        public var iceLite: Bool = false
        /// Transmissions of each STUN request (connectivity checks, STUN and TURN discovery)
        /// before it counts as lost; the delay doubles from 500 ms (3 → 2 s, 6 → 19.5 s).
        ///
        /// The default, libnice's 3, keeps connecting behind NATs fast: libnice's regular
        /// nomination waits until the unreachable pairs (private host addresses across NATs) time
        /// out, so connect time there is about one request lifetime (≈2 s). On very lossy links
        /// raise it: at 20 % loss each way about one connection attempt in 10 fails with 3, none
        /// in our runs with 6 — which makes connecting behind NATs take ≈20 s. Range 3–9.
        public var stunMaxRetransmissions: Int = 3
        /// Gather ICE-TCP (RFC 6544) candidates as well as UDP ones.
        public var iceTCP: Bool = false
        /// Gather UDP candidates.
        public var iceUDP: Bool = true
        /// Limit of remote candidates per component; `addIceCandidate` throws
        /// ``IceError/Code/tooManyCandidates`` beyond it. libnice itself keeps at most 25 per
        /// component (`NICE_AGENT_MAX_REMOTE_CANDIDATES`) and drops the rest silently.
        public var maximumRemoteCandidates: Int = 25
        /// Limit of peer-reflexive remote candidates libnice may learn per component in one ICE
        /// generation. libnice 0.1.21 learns one from every authenticated check that comes from a
        /// new source address, keeps it without a limit, scans the list on every packet and checks
        /// it back; a legitimate peer causes a handful (a few per NAT mapping). Beyond the limit
        /// the peer is treated as hostile: the connection becomes `failed`
        /// (``IceStateChangeReason/peerReflexiveFlood``) and its agent is released.
        public var maximumPeerReflexiveCandidates: Int = 100
        /// Datagrams buffered for each ``IceTransport/receivedDatagrams()`` stream before newer
        /// ones are dropped (UDP semantics: a slow reader loses datagrams, memory stays bounded).
        public var receiveStreamBufferLimit: Int = 8192
        /// Bytes waiting for the ``IceTransport/receiveHandler`` (and buffered per
        /// ``IceTransport/receivedDatagrams()`` stream) before newer datagrams are dropped. Each
        /// datagram is charged its size plus 64 bytes, so empty
        /// datagrams are not free. The default, 8 MiB, holds about 6,000 datagrams of 1,200 bytes.
        public var receiveBufferByteLimit: Int = 8 << 20
        /// The kernel receive buffer (`SO_RCVBUF`, bytes) asked for the socket of each selected
        /// pair, once it is selected; nil leaves the system default (`net.core.rmem_default`,
        /// 208 KiB on Debian). A sender that bursts faster than this connection's context thread
        /// reads (SCTP's congestion window opening over a long round trip: hundreds of KiB at
        /// once) overflows a small buffer, and every lost datagram halves SCTP's window: through
        /// a 100-ms path, 1.6 Mbit/s with the default against 28 Mbit/s with 4 MiB
        /// (`NiceBench dc-rtt`). The kernel caps the value at `net.core.rmem_max` (also 208 KiB
        /// by default): raise that sysctl on a server for this to take effect. The buffer is a
        /// bound, not an allocation: memory is used only while datagrams wait.
        public var receiveSocketBufferSize: Int? = 4 << 20
        /// Which special-purpose addresses (loopback, unspecified, multicast, link-local) remote
        /// candidates may name. By default none, except loopback when this connection itself
        /// gathers on a loopback address: a peer never makes us send checks to this host, to a
        /// multicast group, or to a link-local service such as a cloud metadata endpoint
        /// (169.254.169.254). See ``RemoteAddressPolicy``.
        public var remoteAddressPolicy: RemoteAddressPolicy = .default

        /// A configuration with the most common fields.
        public init(
            role: Role,
            iceServers: [IceServer] = [],
            localAddresses: [String] = [],
            disconnectedGracePeriod: Duration = .seconds(20)
        ) {
            self.role = role
            self.iceServers = iceServers
            self.localAddresses = localAddresses
            self.disconnectedGracePeriod = disconnectedGracePeriod
        }
    }
}

/// A configuration after validation, in the form the agent needs.
struct ValidatedConfiguration: Sendable {
    struct Relay: Sendable {
        /// The URL as the user wrote it (for error events; it holds no credentials).
        var text: String
        var url: IceServerURL
        var username: String
        var credential: String
    }

    var base: IceTransport.Configuration
    var stun: IceServerURL?
    var relays: [Relay]

    init(_ c: IceTransport.Configuration) throws(IceError) {
        base = c
        guard c.componentCount == 1 || c.componentCount == 2 else {
            throw IceError(.invalidConfiguration, field: "componentCount", reason: "must be 1 or 2, not \(c.componentCount)")
        }
        if let r = c.portRange {
            guard r.lowerBound <= r.upperBound else {
                throw IceError(.invalidConfiguration, field: "portRange", reason: "lower bound \(r.lowerBound) is above upper bound \(r.upperBound)")
            }
            guard r.lowerBound > 0 else {
                throw IceError(.invalidConfiguration, field: "portRange", reason: "port 0 is not a port")
            }
        }
        guard c.disconnectedGracePeriod >= .zero, c.disconnectedGracePeriod <= .seconds(3600) else {
            throw IceError(.invalidConfiguration, field: "disconnectedGracePeriod", reason: "must be between 0 s and 1 h")
        }
        if c.iceLite && c.role == .controlling {
            throw IceError(.invalidConfiguration, field: "role", reason: "an ICE-lite agent is always controlled")
        }
        guard (3...9).contains(c.stunMaxRetransmissions) else {
            throw IceError(.invalidConfiguration, field: "stunMaxRetransmissions", reason: "must be 3-9, not \(c.stunMaxRetransmissions)")
        }
        guard c.iceUDP || c.iceTCP else {
            throw IceError(.invalidConfiguration, field: "iceUDP", reason: "at least one of iceUDP and iceTCP must be on")
        }
        guard (1...1000).contains(c.maximumRemoteCandidates) else {
            throw IceError(.invalidConfiguration, field: "maximumRemoteCandidates", reason: "must be 1-1000")
        }
        guard (1...10_000).contains(c.maximumPeerReflexiveCandidates) else {
            throw IceError(.invalidConfiguration, field: "maximumPeerReflexiveCandidates", reason: "must be 1-10000")
        }
        guard c.receiveStreamBufferLimit > 0 else {
            throw IceError(.invalidConfiguration, field: "receiveStreamBufferLimit", reason: "must be positive")
        }
        if let size = c.receiveSocketBufferSize, !(4096...(256 << 20)).contains(size) {
            throw IceError(.invalidConfiguration, field: "receiveSocketBufferSize", reason: "\(size) is not 4096-268435456 bytes")
        }
        guard c.receiveBufferByteLimit > 0 else {
            throw IceError(.invalidConfiguration, field: "receiveBufferByteLimit", reason: "must be positive")
        }
        for address in c.localAddresses where address.isEmpty || address.utf8.count > 64 {
            throw IceError(.invalidConfiguration, field: "localAddresses", reason: "'\(IceServerURL.printable(address))' is not an address or interface name")
        }
        for address in c.natOneToOneAddresses where !LibNice.isIPAddress(address) {
            throw IceError(.invalidConfiguration, field: "natOneToOneAddresses", reason: "'\(IceServerURL.printable(address))' is not an IP address")
        }
        var stun: IceServerURL?
        var relays: [Relay] = []
        for server in c.iceServers {
            guard !server.urls.isEmpty else {
                throw IceError(.invalidIceServer, field: "urls", reason: "an ICE server needs at least one URL")
            }
            for text in server.urls {
                let url = try IceServerURL(parsing: text)
                switch url.scheme {
                case .stun:
                    if stun == nil { stun = url }
                case .turn, .turns:
                    guard let user = server.username, !user.isEmpty else {
                        throw IceError(.invalidIceServer, field: "username", reason: "\(url.scheme.rawValue): needs a username")
                    }
                    guard let credential = server.credential, !credential.isEmpty else {
                        throw IceError(.invalidIceServer, field: "credential", reason: "\(url.scheme.rawValue): needs a credential")
                    }
                    guard user.utf8.count <= 512, credential.utf8.count <= 512,
                        !user.utf8.contains(0), !credential.utf8.contains(0)
                    else {
                        throw IceError(.invalidIceServer, field: "credential", reason: "username or credential too long or contains NUL")
                    }
                    relays.append(Relay(text: text, url: url, username: user, credential: credential))
                }
            }
        }
        if c.iceTransportPolicy == .relay && relays.isEmpty {
            throw IceError(.invalidConfiguration, field: "iceTransportPolicy", reason: "relay policy needs at least one turn: server")
        }
        self.stun = stun
        self.relays = relays
        // Interface names are looked up here (getifaddrs, no I/O) so that `addIceCandidate` can
        // decide on the caller's thread; set-up looks them up again and fails if one has none.
        let boundToLoopback = c.localAddresses.contains { entry in
            let ip = LibNice.isIPAddress(entry) ? entry : LibNice.interfaceAddress(entry)
            return ip.map { IceAddressScopes(address: $0).contains(.loopback) } ?? false
        }
        allowedRemoteScopes = c.remoteAddressPolicy.allowed(boundToLoopback: boundToLoopback)
        serverHosts = Array(Set([stun?.host].compactMap { $0 } + relays.map(\.url.host))).sorted()
    }

    /// The host of every STUN/TURN server, names and IP literals. Names are resolved on the
    /// context's blocking workers before set-up, never on the GLib thread.
    let serverHosts: [String]
    /// The special address scopes remote candidates may name (the policy applied to the local addresses).
    let allowedRemoteScopes: IceAddressScopes
}
