/// One ICE candidate: the value of an RFC 8839 §5.1 `candidate:` attribute.
///
/// Parse what a browser or libnice sends with ``init(parsing:sdpMid:sdpMLineIndex:)`` and write it
/// back with ``candidateLine``. Parsing and printing round-trip byte-exactly for everything libnice,
/// Chrome and Firefox emit:
///
/// ```swift
/// let c = try IceCandidate(parsing: "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host")
/// c.candidateLine // "candidate:1 1 UDP 2015363327 127.0.0.1 45678 typ host"
/// ```
///
/// Choices this type makes where the RFCs leave room:
/// - The transport token is matched case-insensitively and printed as it was parsed (`UDP`
///   for libnice and Firefox, `udp` for Chrome). A candidate built with the memberwise initialiser,
///   or whose ``transport`` was changed, prints it in upper case as libnice does. The spelling is
///   presentation only: it takes no part in `==` or hashing.
/// - ``priority`` accepts `1...UInt32.max` (the grammar's `1*10DIGIT` bounded to 32 bits). RFC 8445
///   asks senders to stay below 2³¹; being lenient here costs nothing. `0` is rejected.
/// - ``port`` `0` is accepted only for TCP active candidates, which never listen (browsers send `9`
///   or `0` there). `rport 0` is always accepted (Chrome sends `raddr 0.0.0.0 rport 0`).
/// - TCP candidates must carry a `tcptype` (RFC 6544 §4.5); UDP candidates must not.
/// - `raddr`, `rport` and `tcptype` may appear in any order after `typ`, but each at most once,
///   and `raddr` only together with `rport`. They are printed in the order libnice and browsers use:
///   `raddr`, `rport`, `tcptype`, then ``extensions`` in their original order.
/// - No attribute name may appear twice.
///
/// Equality and hashing compare every property, including the ``sdpMid`` and ``sdpMLineIndex``
/// metadata, but not the transport spelling.
public struct IceCandidate: Sendable, Hashable, CustomStringConvertible {
    /// The transport protocol of a candidate.
    public enum Transport: String, Sendable, Hashable {
        /// UDP, the transport of almost every ICE candidate.
        case udp
        /// TCP per RFC 6544; such candidates carry a ``TcpType``.
        case tcp
    }

    /// The kind of candidate (RFC 8445 §5.1.1).
    public enum CandidateType: String, Sendable, Hashable {
        /// An address of a local interface.
        case host
        /// A server-reflexive address learned from a STUN server.
        case srflx
        /// A peer-reflexive address learned from a connectivity check.
        case prflx
        /// An address allocated on a TURN server.
        case relay
    }

    /// The role of a TCP candidate (RFC 6544 §4.5).
    public enum TcpType: String, Sendable, Hashable {
        /// Opens outgoing connections only; its port is meaningless (`9` or `0`).
        case active
        /// Accepts incoming connections only.
        case passive
        /// Simultaneous-open.
        case so
    }

    /// What kind of text ``IceCandidate/address`` holds.
    public enum AddressFamily: Sendable, Hashable {
        /// A dotted-quad IPv4 address.
        case ipv4
        /// A textual IPv6 address, without brackets.
        case ipv6
        /// A host name: an FQDN or an mDNS `<uuid>.local` name.
        case hostname
    }

    /// An attribute after the fixed fields that NiceICE does not model, such as `generation 0`,
    /// `ufrag EsAw`, `network-id 1` or `network-cost 10`.
    public struct Extension: Sendable, Hashable {
        /// The attribute name, e.g. `"generation"`.
        public var name: String
        /// The attribute value, e.g. `"0"`.
        public var value: String

        /// Creates an extension attribute.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Groups candidates that share type, base and server (1 to 32 ice-chars).
    public var foundation: String
    /// The component ID, `1...256`: `1` for RTP or a data channel, `2` for RTCP.
    public var component: Int
    /// The transport protocol.
    public var transport: Transport
    /// The candidate priority, `1...UInt32.max`.
    public var priority: UInt32
    /// An IPv4 address, an IPv6 address without brackets, an FQDN, or an mDNS `<uuid>.local` name.
    public var address: String
    /// The port; `0` only for TCP active candidates.
    public var port: UInt16
    /// The candidate type (`typ`).
    public var type: CandidateType
    /// The related address (`raddr`), set together with ``relatedPort``.
    public var relatedAddress: String?
    /// The related port (`rport`), set together with ``relatedAddress``.
    public var relatedPort: UInt16?
    /// The TCP role (`tcptype`), present exactly when ``transport`` is ``Transport/tcp``.
    public var tcpType: TcpType?
    /// The remaining attributes in their original order (`generation`, `ufrag`, `network-id`, …).
    public var extensions: [Extension]
    /// The media stream identification this candidate belongs to (signalling metadata, not printed).
    /// With BUNDLE every candidate belongs to the transport's section: ``IceAnswer/trickled(_:)``
    /// sets it for a local candidate, ``IceAnswer/isTransportCandidate(_:)`` checks a remote one.
    public var sdpMid: String?
    /// The index of the m-line this candidate belongs to (signalling metadata, not printed).
    public var sdpMLineIndex: Int?

    /// The transport token as parsed (`"UDP"`, `"udp"`, …), kept only for byte-exact printing.
    var transportSpelling: String?

    /// Creates a candidate from its parts without validating them.
    ///
    /// Use ``validate()`` to check a candidate built this way before sending it.
    public init(
        foundation: String,
        component: Int = 1,
        transport: Transport = .udp,
        priority: UInt32,
        address: String,
        port: UInt16,
        type: CandidateType,
        relatedAddress: String? = nil,
        relatedPort: UInt16? = nil,
        tcpType: TcpType? = nil,
        extensions: [Extension] = [],
        sdpMid: String? = nil,
        sdpMLineIndex: Int? = nil
    ) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.tcpType = tcpType
        self.extensions = extensions
        self.sdpMid = sdpMid
        self.sdpMLineIndex = sdpMLineIndex
        self.transportSpelling = nil
    }

    /// The attribute value, `candidate:…` without the leading `a=` and without a line ending.
    public var candidateLine: String {
        var parts: [String] = [
            "candidate:" + foundation,
            String(component),
            transportToken,
            String(priority),
            address,
            String(port),
            "typ",
            type.rawValue,
        ]
        if let relatedAddress {
            parts.append("raddr")
            parts.append(relatedAddress)
        }
        if let relatedPort {
            parts.append("rport")
            parts.append(String(relatedPort))
        }
        if let tcpType {
            parts.append("tcptype")
            parts.append(tcpType.rawValue)
        }
        for item in extensions {
            parts.append(item.name)
            parts.append(item.value)
        }
        return parts.joined(separator: " ")
    }

    /// The same as ``candidateLine``.
    public var description: String { candidateLine }

    /// True when ``address`` is an mDNS name (ends in `.local`), which libnice cannot resolve.
    public var isMulticastDNS: Bool {
        address.lowercased().hasSuffix(".local")
    }

    /// What kind of text ``address`` holds, judged by its characters: a `:` means IPv6,
    /// only digits and dots mean IPv4, anything else is a host name.
    public var addressFamily: AddressFamily {
        if address.utf8.contains(UInt8(ascii: ":")) {
            return .ipv6
        }
        if address.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || CandidateGrammar.isDigit($0) }) {
            return .ipv4
        }
        return .hostname
    }

    /// Checks that this candidate is one ``init(parsing:sdpMid:sdpMLineIndex:)`` would accept.
    ///
    /// - Throws: ``IceError`` with code ``IceError/Code/invalidCandidate`` naming the bad field.
    public func validate() throws(IceError) {
        // Check the free-text fields first, so that a space inside one is blamed on that field
        // rather than on whatever the extra token would shift into.
        let foundationBytes = ArraySlice(foundation.utf8)
        guard (1...32).contains(foundationBytes.count), foundationBytes.allSatisfy(CandidateGrammar.isIceChar) else {
            throw IceError(.invalidCandidate, field: "foundation", reason: "must be 1 to 32 characters of ALPHA, DIGIT, \"+\" or \"/\"")
        }
        guard CandidateGrammar.addressFamily(ArraySlice(address.utf8)) != nil else {
            throw IceError(.invalidCandidate, field: "address", reason: "not an IPv4 address, IPv6 address or host name")
        }
        if let relatedAddress, CandidateGrammar.addressFamily(ArraySlice(relatedAddress.utf8)) == nil {
            throw IceError(.invalidCandidate, field: "raddr", reason: "not an IPv4 address, IPv6 address or host name")
        }
        for item in extensions where item.name.isEmpty || item.value.isEmpty
            || (item.name + item.value).utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw IceError(.invalidCandidate, field: "extension", reason: "names and values must be non-empty and contain no spaces or control characters")
        }
        let parsed = try IceCandidate(parsing: candidateLine)
        if parsed != self.withoutMetadata {
            throw IceError(.invalidCandidate, field: "candidate", reason: "does not survive printing and parsing again")
        }
    }

    private var withoutMetadata: IceCandidate {
        var copy = self
        copy.sdpMid = nil
        copy.sdpMLineIndex = nil
        return copy
    }

    private var transportToken: String {
        if let transportSpelling, transportSpelling.lowercased() == transport.rawValue {
            return transportSpelling
        }
        return transport.rawValue.uppercased()
    }

    public static func == (lhs: IceCandidate, rhs: IceCandidate) -> Bool {
        lhs.foundation == rhs.foundation
            && lhs.component == rhs.component
            && lhs.transport == rhs.transport
            && lhs.priority == rhs.priority
            && lhs.address == rhs.address
            && lhs.port == rhs.port
            && lhs.type == rhs.type
            && lhs.relatedAddress == rhs.relatedAddress
            && lhs.relatedPort == rhs.relatedPort
            && lhs.tcpType == rhs.tcpType
            && lhs.extensions == rhs.extensions
            && lhs.sdpMid == rhs.sdpMid
            && lhs.sdpMLineIndex == rhs.sdpMLineIndex
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(foundation)
        hasher.combine(component)
        hasher.combine(transport)
        hasher.combine(priority)
        hasher.combine(address)
        hasher.combine(port)
        hasher.combine(type)
        hasher.combine(relatedAddress)
        hasher.combine(relatedPort)
        hasher.combine(tcpType)
        hasher.combine(extensions)
        hasher.combine(sdpMid)
        hasher.combine(sdpMLineIndex)
    }
}
