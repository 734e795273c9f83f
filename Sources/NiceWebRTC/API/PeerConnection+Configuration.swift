import Dispatch
import NiceICE
import NiceWebRTCCore

/// W3C `RTCBundlePolicy`. A data-only session has one transport whatever the policy: every value
/// is accepted and behaves as `max-bundle`.
public enum BundlePolicy: String, Sendable, Hashable, CaseIterable {
    /// W3C's default.
    case balanced
    /// One transport per media type, or one per section.
    case maxCompat = "max-compat"
    /// One transport for everything.
    case maxBundle = "max-bundle"
}

extension PeerConnection {
    /// What a ``PeerConnection`` is created with (W3C `RTCConfiguration`, plus the ICE options of
    /// ``IceTransport`` and the SCTP options of ``SctpTransport``).
    ///
    /// ```swift
    /// var configuration = PeerConnection.Configuration(iceServers: [IceServer(url: "stun:stun.l.google.com:19302")])
    /// configuration.localAddresses = ["eth0"]
    /// let pc = try PeerConnection(configuration: configuration)
    /// ```
    public struct Configuration: Sendable {
        /// STUN and TURN servers (W3C `iceServers`).
        public var iceServers: [IceServer] = []
        /// Which candidates may be used (W3C `iceTransportPolicy`).
        public var iceTransportPolicy: IceTransportPolicy = .all
        /// W3C `bundlePolicy`: accepted, one transport in every case (see ``BundlePolicy``).
        public var bundlePolicy: BundlePolicy = .balanced
        /// The DTLS certificate (W3C `certificates`): the first is used; empty generates one
        /// (ECDSA P-256, 30 days).
        public var certificates: [Certificate] = []
        /// Local IP addresses or interface names to gather on; empty means every interface
        /// (``IceTransport/Configuration/localAddresses``).
        public var localAddresses: [String] = []
        /// Local ports to gather on; nil lets the system choose.
        public var portRange: IceTransport.PortRange?
        /// Gather ICE-TCP (RFC 6544) candidates too.
        public var iceTCP: Bool = false
        /// Run as an ICE-lite agent (always controlled; `a=ice-lite` in our descriptions).
        public var iceLite: Bool = false
        /// Public addresses advertised instead of host addresses (1:1 NAT).
        public var natOneToOneAddresses: [String] = []
        /// How long ICE stays `disconnected` before `failed`.
        public var disconnectedGracePeriod: Duration = .seconds(20)
        /// Which special-purpose addresses remote candidates may name.
        public var remoteAddressPolicy: IceTransport.RemoteAddressPolicy = .default
        /// The SCTP association's options (port, streams, buffer limits); its `queue` is replaced
        /// by ``queue``.
        public var sctp: SctpTransport.Configuration = SctpTransport.Configuration()
        /// The serial queue every handler of the connection and of its data channels runs on; nil
        /// makes a private one.
        public var queue: DispatchQueue?
        /// The ``NiceContext`` (one GLib thread) the connection's ICE agent runs on: everything it
        /// receives (STUN, DTLS, SRTP unprotect, RTCP, SCTP input) is handled on that thread. The
        /// default puts every connection of the process on one thread; a server with many
        /// connections spreads them over a ``NiceContextGroup`` (`contexts.next()` per
        /// connection) to use every core.
        public var context: NiceContext = .default
        /// What an answer does with a remote offer's audio or video section no transceiver takes:
        /// `.reject` (port 0, the default: a data-only server) or `.accept(direction:)` (a new
        /// transceiver, W3C's behaviour with `.recvonly`, whose `track` event then fires).
        public var remoteMediaPolicy: RemoteMediaPolicy = .reject

        /// A configuration with the most common fields.
        public init(
            iceServers: [IceServer] = [], iceTransportPolicy: IceTransportPolicy = .all, bundlePolicy: BundlePolicy = .balanced,
            certificates: [Certificate] = [], localAddresses: [String] = [], queue: DispatchQueue? = nil
        ) {
            self.iceServers = iceServers
            self.iceTransportPolicy = iceTransportPolicy
            self.bundlePolicy = bundlePolicy
            self.certificates = certificates
            self.localAddresses = localAddresses
            self.queue = queue
        }

        /// The ICE transport's configuration: controlled until the first offer decides.
        var iceConfiguration: IceTransport.Configuration {
            var c = IceTransport.Configuration(
                role: .controlled, iceServers: iceServers, localAddresses: localAddresses,
                disconnectedGracePeriod: disconnectedGracePeriod)
            c.iceTransportPolicy = iceTransportPolicy
            c.portRange = portRange
            c.iceTCP = iceTCP
            c.iceLite = iceLite
            c.natOneToOneAddresses = natOneToOneAddresses
            c.remoteAddressPolicy = remoteAddressPolicy
            return c
        }
    }
}
