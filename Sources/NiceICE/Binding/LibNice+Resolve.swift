#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LibNice {
    /// Resolves a STUN/TURN host to a numeric address (libnice takes IP literals only). IP literals
    /// are returned as they are; names go through `getaddrinfo` (blocking: only on ``BlockingWorkers`` threads).
    static func resolve(_ host: String) -> String? {
        if isIPAddress(host) { return host }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        guard let address = first.pointee.ai_addr else { return nil }
        return numericAddress(address, first.pointee.ai_addrlen, withPort: false)
    }
}
