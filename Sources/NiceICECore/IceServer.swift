/// A STUN or TURN server, as in W3C `RTCIceServer`.
///
/// URLs follow RFC 7064 (`stun:host[:port]`) and RFC 7065
/// (`turn:host[:port][?transport=udp|tcp]`, `turns:` for TURN over TLS). Hosts may be IPv4
/// literals, bracketed IPv6 literals or DNS names (resolved when the ``IceTransport`` is
/// created). The credential never appears in ``description`` or in logs.
public struct IceServer: Sendable, Hashable, CustomStringConvertible {
    /// One or more URLs of the same server.
    public var urls: [String]
    /// The TURN username (required for `turn:`/`turns:`).
    public var username: String?
    /// The TURN password (required for `turn:`/`turns:`).
    public var credential: String?

    /// Creates a server entry.
    public init(urls: [String], username: String? = nil, credential: String? = nil) {
        self.urls = urls
        self.username = username
        self.credential = credential
    }

    /// Creates a server entry with one URL.
    public init(url: String, username: String? = nil, credential: String? = nil) {
        self.init(urls: [url], username: username, credential: credential)
    }

    public var description: String {
        "IceServer(urls: \(urls), username: \(username ?? "nil"), credential: \(credential == nil ? "nil" : "<redacted>"))"
    }
}

/// One parsed `stun:`/`turn:`/`turns:` URL.
package struct IceServerURL: Sendable, Hashable, CustomStringConvertible {
    package enum Scheme: String, Sendable { case stun, turn, turns }
    package enum Transport: String, Sendable { case udp, tcp }

    package var scheme: Scheme
    package var host: String
    package var port: UInt16
    package var transport: Transport

    package var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue):\(h):\(port)?transport=\(transport.rawValue)"
    }

    /// Parses an RFC 7064/7065 URL; throws ``IceError/Code/invalidIceServer`` naming the part.
    package init(parsing url: String) throws(IceError) {
        func fail(_ field: String, _ reason: String) -> IceError {
            IceError(.invalidIceServer, field: field, reason: "\(reason) in '\(Self.printable(url))'")
        }
        guard url.utf8.count <= 1024 else { throw fail("url", "longer than 1024 bytes") }
        guard let colon = url.firstIndex(of: ":") else { throw fail("url", "no scheme") }
        let schemeText = url[..<colon].lowercased()
        switch schemeText {
        case "stun": scheme = .stun
        case "turn": scheme = .turn
        case "turns": scheme = .turns
        case "stuns": throw fail("scheme", "stuns: (STUN over TLS) is not supported by libnice")
        default: throw fail("scheme", "unknown scheme '\(Self.printable(String(schemeText)))'")
        }
        var rest = Substring(url[url.index(after: colon)...])
        if rest.hasPrefix("//") { throw fail("url", "'//' is not allowed after the scheme (RFC 7064)") }
        var query: Substring?
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        // Host: [v6] or name/v4, then optional :port.
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("host", "unterminated '['") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("host", "unexpected text after ']'") }
                portText = after.dropFirst()
            }
            guard Self.isIPv6(host) else { throw fail("host", "not an IPv6 address") }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("host", "IPv6 addresses must be in brackets") }
            host = String(parts[0])
            if parts.count == 2 { portText = parts[1] }
            guard Self.isHostName(host) else { throw fail("host", "not a host name or IPv4 address") }
        }
        if host.isEmpty { throw fail("host", "empty host") }
        if let portText {
            guard let p = UInt16(portText), p > 0 else { throw fail("port", "port must be 1-65535") }
            port = p
        } else {
            port = scheme == .turns ? 5349 : 3478
        }
        transport = scheme == .turns ? .tcp : .udp
        if let query {
            guard scheme != .stun else { throw fail("transport", "stun: URLs take no query") }
            guard query.hasPrefix("transport=") else { throw fail("transport", "only ?transport= is allowed") }
            switch query.dropFirst("transport=".count).lowercased() {
            case "udp":
                guard scheme == .turn else { throw fail("transport", "turns: runs over TCP (TLS) only") }
                transport = .udp
            case "tcp": transport = .tcp
            default: throw fail("transport", "transport must be udp or tcp")
            }
        }
    }

    /// True for RFC 1123 host names and dotted IPv4 literals (the candidate grammar's checks).
    package static func isHostName(_ s: String) -> Bool {
        let bytes = ArraySlice(s.utf8)
        return CandidateGrammar.isHostname(bytes) || CandidateGrammar.isIPv4(bytes)
    }

    /// An IPv6 literal (the candidate grammar's check; libnice validates again).
    package static func isIPv6(_ s: String) -> Bool {
        CandidateGrammar.isIPv6(ArraySlice(s.utf8))
    }

    /// The URL with control characters replaced, for error messages.
    package static func printable(_ s: String) -> String {
        String(s.prefix(200).map { $0.isASCII && ($0.asciiValue ?? 0) < 0x20 ? "?" : $0 })
    }
}
