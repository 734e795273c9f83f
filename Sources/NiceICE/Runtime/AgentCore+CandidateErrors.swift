import Logging

extension AgentCore {
    /// After gathering (context thread): if a configured TURN server gave no relay candidate, ask
    /// the server what went wrong (libnice does not say) and report a candidate error with its code.
    /// The probe runs on the context's bounded pool of blocking workers (in its network namespace),
    /// never on the GLib thread and never on a thread of its own.
    func reportMissingRelays(relayCandidates: Int) {
        let relays = config.relays
        guard !relays.isEmpty, relayCandidates < relays.count else { return }
        let hub = self.hub
        let logger = self.logger
        let resolver = context.resolver
        context.workers.submit {
            for relay in relays {
                guard let ip = resolver.resolve(relay.url.host) else {
                    hub.emit(.candidateError(IceCandidateError(url: relay.text, errorCode: 701, errorText: "cannot resolve \(relay.url.host)")))
                    continue
                }
                let result = TurnProbe.run(
                    ip: ip, port: relay.url.port, transport: relay.url.transport, tls: relay.url.scheme == .turns,
                    username: relay.username, credential: relay.credential, timeout: .seconds(4))
                switch result {
                case .allocated:
                    logger.debug("TURN server \(relay.url) grants allocations; no relay candidate for other reasons")
                case .error(let code, let reason):
                    logger.warning("TURN server \(relay.url) refused: \(code) \(reason)")
                    hub.emit(.candidateError(IceCandidateError(url: relay.text, errorCode: code, errorText: reason)))
                case .noResponse:
                    logger.warning("TURN server \(relay.url) did not answer")
                    hub.emit(.candidateError(IceCandidateError(url: relay.text, errorCode: 701, errorText: "TURN server did not answer")))
                }
            }
        }
    }
}
