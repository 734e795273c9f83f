// Which browser pages may use the WHIP/WHEP endpoints: the Origin allow-list (adapted from
// EchoServer's), and the key of a remote address for the per-address request rate.
import NIOCore

/// The Origin check of the WHIP/WHEP endpoints and their session resources.
///
/// A browser sends `Origin` with every cross-origin `fetch` (and with same-origin POST/PATCH/DELETE);
/// a page on another site must not be able to open sessions here (it could make the server send
/// STUN checks anywhere, use up the session limits, watch a stream it was not given). Allowed are:
/// - the page's own origin: `http://` or `https://` followed by the request's `Host`;
/// - every `--allow-origin` (exact origins such as `https://echo.example:8443`, or `null`);
/// - a request without `Origin`: not a browser (OBS, GStreamer, FFmpeg, aiortc); such a client can
///   send whatever header it likes anyway, so the check is no access control against it.
///
/// Origins are compared by scheme, host and port, case-insensitively, with the default port
/// (80, 443) left out as browsers do.
///
/// The `Host` comparison does not stop DNS rebinding (a page whose name resolves to this server
/// sends a matching `Host`); give the server an address a browser reaches only on purpose.
struct OriginPolicy: Sendable, Equatable {
    /// The normalised `--allow-origin` origins.
    let allowed: Set<String>

    /// - Throws: ``Invalid`` naming the first origin that is not `scheme://host[:port]` or `null`.
    init(allowing origins: [String]) throws(Invalid) {
        var allowed = Set<String>()
        for origin in origins {
            guard let normalised = Self.normalise(origin) else { throw Invalid(origin: origin) }
            allowed.insert(normalised)
        }
        self.allowed = allowed
    }

    /// An `--allow-origin` value that is no origin.
    struct Invalid: Error, Sendable {
        var origin: String
    }

    /// Why a request is refused, for the log and the 403 body.
    enum Verdict: Sendable, Equatable {
        case allowed
        case refused(String)
    }

    /// Whether a request with these `Origin` values (all of them: a repeated header is
    /// refused) to `host` (the `Host` header) may go on.
    func check(origins: [String], host: String?) -> Verdict {
        guard let origin = origins.first else { return .allowed }
        guard origins.count == 1 else { return .refused("more than one Origin header") }
        let shown = excerpt(origin)
        guard let normalised = Self.normalise(origin) else { return .refused("malformed Origin '\(shown)'") }
        if allowed.contains(normalised) { return .allowed }
        if let host = host.map({ $0.trimmingWhitespace() }), !host.isEmpty, !host.contains("/"), !host.contains("@") {
            let own = ["http://" + host, "https://" + host].compactMap(Self.normalise)
            if own.contains(normalised) { return .allowed }
        }
        return .refused("Origin '\(shown)' is neither this server's own (Host '\(excerpt(host ?? ""))') nor an --allow-origin")
    }

    /// `scheme://host[:port]` in lower case without the scheme's default port, `null` as it is;
    /// nil for anything else (a path, user info, a bad port). A trailing `/` is tolerated.
    static func normalise(_ text: String) -> String? {
        var origin = text.trimmingWhitespace().lowercased()
        if origin == "null" { return origin }
        if origin.hasSuffix("/") { origin.removeLast() }
        guard let separator = origin.firstRange(of: "://") else { return nil }
        let scheme = origin[..<separator.lowerBound]
        let authority = origin[separator.upperBound...]
        guard let first = scheme.first, first.isLetter,
            scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }),
            !authority.isEmpty, !authority.contains(where: { "/?#@ \\".contains($0) })
        else { return nil }
        // host, and port after the last ':' (not inside an IPv6 literal)
        var host = Substring(authority)
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { return nil }
                port = rest.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, host != "[]" else { return nil }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), let number = Int(port), (1...65_535).contains(number) else {
                return nil
            }
            let isDefault = (scheme == "http" || scheme == "ws") && number == 80 || (scheme == "https" || scheme == "wss") && number == 443
            return isDefault ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(number)"
        }
        return "\(scheme)://\(host)"
    }
}

/// At most 80 characters of client-supplied text, printable ASCII only, for logs and bodies.
func excerpt(_ text: String) -> String {
    let printable = text.unicodeScalars.prefix(80).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }
    return String(printable) + (text.unicodeScalars.count > 80 ? "…" : "")
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

/// The per-address rate limit's key of a remote address: an IPv4 address as it is (an IPv4-mapped IPv6
/// address too), an IPv6 address by its /64 (one host usually has a whole /64 to pick from).
enum RemoteAddress {
    static func key(_ address: SocketAddress?) -> String {
        switch address {
        case .v4:
            return address?.ipAddress ?? "-"
        case .v6(let v6):
            // sockaddr_in6: family (2), port (2), flow info (4), the address (16), scope (4).
            let raw = withUnsafeBytes(of: v6.address) { Array($0) }
            guard raw.count >= 24 else { return address?.ipAddress ?? "-" }
            let bytes = Array(raw[8..<24])
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket, .none:
            return "local"
        }
    }
}
