/// Resolves a STUN/TURN host name to a numeric address. Runs on ``BlockingWorkers`` threads.
struct HostResolver: Sendable {
    let resolve: @Sendable (String) -> String?

    /// `getaddrinfo`, IP literals passed through.
    static let system = HostResolver { LibNice.resolve($0) }
}
