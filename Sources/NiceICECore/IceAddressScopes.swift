/// Special-purpose IP address ranges a remote candidate can name, which a peer must not make us
/// send connectivity checks to unless the application allows them (see NiceICE's
/// `IceTransport.Configuration.remoteAddressPolicy`).
///
/// ```swift
/// IceAddressScopes(address: "169.254.169.254")   // [.linkLocal]
/// IceAddressScopes(address: "::ffff:127.0.0.1")  // [.loopback] (IPv4-mapped addresses count as IPv4)
/// IceAddressScopes(address: "192.0.2.1")         // [] (an ordinary address)
/// ```
public struct IceAddressScopes: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `127.0.0.0/8` and `::1`: this host.
    public static let loopback = IceAddressScopes(rawValue: 1 << 0)
    /// `0.0.0.0/8` and `::`: on Linux, sending to them reaches this host.
    public static let unspecified = IceAddressScopes(rawValue: 1 << 1)
    /// `224.0.0.0/4`, the limited broadcast `255.255.255.255`, and `ff00::/8`.
    public static let multicast = IceAddressScopes(rawValue: 1 << 2)
    /// `169.254.0.0/16` (which includes cloud metadata services such as 169.254.169.254) and `fe80::/10`.
    public static let linkLocal = IceAddressScopes(rawValue: 1 << 3)
    /// Every special scope.
    public static let all: IceAddressScopes = [.loopback, .unspecified, .multicast, .linkLocal]

    /// The special scope of an IP address literal: exactly one member, or empty for an ordinary
    /// unicast address and for text that is not an IP literal (a host name, which libnice never
    /// resolves). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are classified as their IPv4 address.
    public init(address: String) {
        let bytes = Array(address.utf8)[...]
        if let v4 = IPLiteral.ipv4(bytes) {
            self = Self.scope(ipv4: v4)
        } else if let v6 = IPLiteral.ipv6(bytes) {
            self = Self.scope(ipv6: v6)
        } else {
            self = []
        }
    }

    static func scope(ipv4 a: [UInt8]) -> IceAddressScopes {
        switch a[0] {
        case 0: return .unspecified
        case 127: return .loopback
        case 169 where a[1] == 254: return .linkLocal
        case 224...239: return .multicast
        case 255 where a == [255, 255, 255, 255]: return .multicast
        default: return []
        }
    }

    static func scope(ipv6 a: [UInt8]) -> IceAddressScopes {
        if a.allSatisfy({ $0 == 0 }) { return .unspecified }
        if a[0..<15].allSatisfy({ $0 == 0 }) && a[15] == 1 { return .loopback }
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF { return scope(ipv4: Array(a[12..<16])) }
        if a[0] == 0xFF { return .multicast }
        if a[0] == 0xFE && (a[1] & 0xC0) == 0x80 { return .linkLocal }
        return []
    }

    public var description: String {
        let names: [(IceAddressScopes, String)] = [
            (.loopback, "loopback"), (.unspecified, "unspecified"), (.multicast, "multicast"), (.linkLocal, "link-local"),
        ]
        let present = names.filter { contains($0.0) }.map(\.1)
        return present.isEmpty ? "unicast" : present.joined(separator: ", ")
    }
}

extension IceCandidate {
    /// The special scope of the candidate's connection address (see ``IceAddressScopes``); empty
    /// for an ordinary unicast address or a host name.
    public var addressScope: IceAddressScopes { IceAddressScopes(address: address) }
}

/// IP literals as bytes, in the strict RFC 8839 forms that ``IceCandidate`` accepts (dotted quad
/// without leading zeros; RFC 4291 §2.2 text without zone).
enum IPLiteral {
    static func ipv4(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard CandidateGrammar.isIPv4(bytes) else { return nil }
        var out: [UInt8] = []
        for octet in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard let value = CandidateGrammar.decimal(octet, maxDigits: 3), value <= 255 else { return nil }
            out.append(UInt8(value))
        }
        return out.count == 4 ? out : nil
    }

    static func ipv6(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard CandidateGrammar.isIPv6(bytes) else { return nil }
        let text = Array(bytes)
        let colon = UInt8(ascii: ":")
        // Split at "::" (at most one, checked by isIPv6).
        var head = text[...]
        var tail: ArraySlice<UInt8>?
        if let i = text.indices.dropLast().first(where: { text[$0] == colon && text[$0 + 1] == colon }) {
            head = text[..<i]
            tail = text[(i + 2)...]
        }
        guard let h = groups(head) else { return nil }
        var out = h
        if let tail {
            guard let t = groups(tail), h.count + t.count <= 16 else { return nil }
            out += [UInt8](repeating: 0, count: 16 - h.count - t.count) + t
        }
        return out.count == 16 ? out : nil
    }

    /// Colon-separated hex groups (the last may be a dotted quad) as big-endian bytes.
    private static func groups(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        if bytes.isEmpty { return [] }
        var out: [UInt8] = []
        for group in bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
            if group.contains(UInt8(ascii: ".")) {
                guard let v4 = ipv4(group) else { return nil }
                out += v4
                continue
            }
            var value: UInt16 = 0
            for byte in group {
                guard let digit = hexValue(byte), group.count <= 4 else { return nil }
                value = value << 4 | UInt16(digit)
            }
            out += [UInt8(value >> 8), UInt8(value & 0xFF)]
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
