import Logging

/// The outcome of a TURN Allocate probe.
enum TurnProbeResult: Sendable, Equatable {
    /// The server granted an allocation (the probe releases it with Refresh lifetime 0).
    case allocated
    /// Final error response after the long-term-credential challenge (e.g. 401 "Unauthorized",
    /// 441, 486 …).
    case error(code: Int, reason: String)
    /// Timeout / connection refused.
    case noResponse
}

/// Asks a TURN server for an allocation the way libnice does, to learn why libnice got no relay
/// candidate from it (libnice drops TURN error responses silently).
///
/// The exchange (RFC 5766 §6, RFC 5389 §10.2):
/// 1. Allocate without credentials. A server using long-term credentials answers 401 with REALM
///    and NONCE (the normal challenge).
/// 2. Allocate with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed with
///    MD5(username:realm:password). Success → ``TurnProbeResult/allocated``; 401 is final (wrong
///    credentials); 438 Stale Nonce is retried once with the new NONCE (3rd request).
/// 3. After a success, Refresh with LIFETIME 0 releases the allocation (last request).
///
/// At most 4 requests, each waiting at most `timeout / 4`, all within `timeout`. Over UDP a
/// request is retransmitted (same transaction) at 500 ms, 1.5 s, 3.5 s … inside its window, as
/// RFC 5389 §7.2.1 asks; over TCP messages are framed back to back and never retransmitted.
/// Messages are built and checked by libnice's own STUN library (`LibNice+Stun.swift`), with the
/// agent settings libnice uses for RFC 5766 TURN (RFC 5389, long-term credentials, SOFTWARE, no
/// FINGERPRINT), so the probe sends what libnice sent. One difference: the unauthenticated first
/// Allocate carries no key, so a server without authentication reads as ``TurnProbeResult/allocated``.
/// Error responses other than the 401/438 challenge end the probe, including 300 Try Alternate
/// (libnice would follow it; the probe reports it).
enum TurnProbe {
    static let logger = Logger(label: "NiceICE.TurnProbe")

    /// Blocking; call it off the GLib thread. `ip` is a numeric IPv4/IPv6 address. Transport
    /// `.udp` or `.tcp` (plain TCP). TLS (`tls: true`, a `turns:` server) is not supported: the
    /// probe returns ``TurnProbeResult/noResponse`` at once without contacting the server.
    static func run(
        ip: String, port: UInt16, transport: IceServerURL.Transport, tls: Bool, username: String,
        credential: String, timeout: Duration
    ) -> TurnProbeResult {
        let target = "\(transport.rawValue)://\(ip.contains(":") ? "[\(ip)]" : ip):\(port)"
        if tls {
            logger.warning("TURN probe \(target): TLS is not supported by the probe; no result")
            return .noResponse
        }
        guard timeout > .zero else { return .noResponse }
        let start = ContinuousClock.now
        let end = start + timeout
        let step = timeout / 4

        let socket: TurnProbeSocket
        switch LibNice.probeConnect(ip: ip, port: port, stream: transport == .tcp, deadline: min(start + step, end)) {
        case .success(let s): socket = s
        case .failure(let failure):
            logger.debug("TURN probe \(target): cannot connect (\(describe(failure)))")
            return .noResponse
        }
        defer { LibNice.probeClose(socket) }

        let client = LibNice.stunTurnClient(username: username, password: credential)
        var authenticated = false
        var staleNonceRetried = false
        var lastError: TurnProbeResult = .noResponse
        // Requests 1–3: Allocate (plain, authenticated, stale-nonce retry).
        for attempt in 1...3 {
            guard let request = LibNice.stunAllocateRequest(client, authenticated: authenticated) else {
                logger.warning("TURN probe \(target): cannot build an Allocate request (username too long?)")
                return .noResponse
            }
            let outcome = exchange(request, on: socket, client: client, until: min(ContinuousClock.now + step, end))
            switch outcome {
            case .timedOut:
                logger.debug("TURN probe \(target): Allocate #\(attempt) got no response")
                return .noResponse
            case .failed(let failure):
                logger.debug("TURN probe \(target): Allocate #\(attempt) failed (\(describe(failure)))")
                return .noResponse
            case .reply(.allocated(let relay, let lifetime)):
                logger.debug("TURN probe \(target): allocated \(relay) for \(lifetime) s; releasing it")
                release(on: socket, client: client, until: min(ContinuousClock.now + step, end), target: target)
                return .allocated
            case .reply(.refreshed):
                return .noResponse  // not produced for an Allocate transaction (method checked)
            case .reply(.error(let code, let reason, let challenge)):
                logger.debug("TURN probe \(target): Allocate #\(attempt) → \(code) \(reason)")
                lastError = .error(code: code, reason: reason)
                if challenge && code == 401 && !authenticated {
                    authenticated = true  // the normal long-term-credential challenge
                    continue
                }
                if challenge && code == 438 && !staleNonceRetried {
                    staleNonceRetried = true  // retry once with the fresh NONCE
                    authenticated = true
                    continue
                }
                return lastError
            }
        }
        return lastError
    }

    private enum Exchange {
        case reply(TurnReply)
        case timedOut
        case failed(TurnProbeSocketFailure)
    }

    /// Sends `request` and waits until `end` for the reply to it (stray or unverifiable messages
    /// are skipped). UDP retransmits the same bytes with a doubling RTO.
    private static func exchange(
        _ request: [UInt8], on socket: TurnProbeSocket, client: TurnStunClient, until end: ContinuousClock.Instant
    ) -> Exchange {
        if let failure = LibNice.probeSend(socket, request, deadline: end) {
            return failure == .timedOut ? .timedOut : .failed(failure)
        }
        var rto = Duration.milliseconds(500)
        var nextSend = ContinuousClock.now + rto
        while true {
            switch LibNice.probeReceive(socket, deadline: socket.isStream ? end : min(nextSend, end)) {
            case .message(let bytes):
                if let reply = LibNice.stunDecodeTurnReply(client, bytes) { return .reply(reply) }
            case .timedOut:
                guard ContinuousClock.now < end, !socket.isStream else { return .timedOut }
                if let failure = LibNice.probeSend(socket, request, deadline: end) {
                    return failure == .timedOut ? .timedOut : .failed(failure)
                }
                rto *= 2
                nextSend = ContinuousClock.now + rto
            case .failed(let failure):
                return .failed(failure)
            }
        }
    }

    /// Request 4: Refresh with LIFETIME 0 so the probe's allocation does not linger on the server
    /// for its lifetime. Best effort: the outcome is only logged.
    private static func release(
        on socket: TurnProbeSocket, client: TurnStunClient, until end: ContinuousClock.Instant, target: String
    ) {
        guard let request = LibNice.stunDeleteAllocationRequest(client) else {
            logger.debug("TURN probe \(target): cannot build the Refresh request")
            return
        }
        switch exchange(request, on: socket, client: client, until: end) {
        case .reply(.refreshed): logger.debug("TURN probe \(target): allocation released")
        case .reply(.error(let code, let reason, _)):
            logger.debug("TURN probe \(target): Refresh(0) → \(code) \(reason)")
        case .reply(.allocated), .timedOut, .failed:
            logger.debug("TURN probe \(target): no answer to Refresh(0); the allocation will expire")
        }
    }

    private static func describe(_ failure: TurnProbeSocketFailure) -> String {
        switch failure {
        case .badAddress: "not a numeric IP address"
        case .refused: "connection refused"
        case .timedOut: "timed out"
        case .system(let code): LibNice.probeErrorText(code)
        }
    }
}
