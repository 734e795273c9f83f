#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LibNice {
    /// Resolves a STUN/TURN host to a numeric address (libnice takes IP literals only). IP literals
    /// are returned as they are; names go through `getaddrinfo` (blocking, at set-up only).
    static func resolve(_ host: String) -> String? {
        if isIPAddress(host) { return host }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
        else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
