import Dispatch
import Logging
import Synchronization

/// An ICE agent for one peer: gathers local candidates, checks connectivity with the peer's, keeps
/// consent, and carries datagrams over the selected pair. Its ``iceConnectionState`` has exactly the
/// seven values and meanings of the browser's `RTCPeerConnection.iceConnectionState`.
///
/// ```swift
/// let pc = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
/// pc.stateUpdateHandler = { change in print("ICE:", change.state) }
/// pc.candidateHandler = { candidate in signalling.send(candidate?.candidateLine ?? "") }
/// pc.receiveHandler = { datagram in print("got \(datagram.bytes.count) bytes") }
/// pc.start(queue: .main)
/// try pc.setRemoteParameters(offer.parameters)          // from the browser's offer
/// for line in offer.candidates { try pc.addIceCandidate(IceCandidate(parsing: line)) }
/// try pc.addIceCandidate(nil)                            // remote end-of-candidates
/// ```
///
/// **Threading.** Every method may be called from any thread, including from inside the handlers.
/// libnice runs on the ``NiceContext``'s thread; handlers run on the queue given to
/// ``start(queue:)``, one at a time, in order (all but ``contextReceiveHandler``, which runs on the
/// context's thread). Nothing is delivered before `start(queue:)`; events
/// produced earlier are kept (the latest 1,024) and delivered then. A handler is read when its event is delivered, so a
/// replaced handler takes effect for every event not yet delivered.
///
/// **Lifetime.** ``close()`` sets ``iceConnectionState`` to `closed` at once and, as W3C requires,
/// fires no state event; handlers then fall silent and every stream finishes. Releasing the last
/// reference without `close()` closes too. Handlers that capture the connection strongly keep it
/// alive until `close()`; capture it weakly if you rely on release.
public final class IceTransport: Sendable {
    /// The configuration the connection was created with.
    public let configuration: Configuration
    /// The context whose thread runs this connection's agent.
    public let context: NiceContext

    let hub: EventHub
    let core: AgentCore
    let logger: Logger
    /// The special address scopes remote candidates may name (``Configuration/remoteAddressPolicy``
    /// applied to the local addresses).
    let allowedRemoteScopes: IceAddressScopes

    /// The largest datagram `send` accepts: the UDP payload limit of IPv4 (65,507) less room for
    /// TURN framing.
    public static let maximumDatagramSize = 65_000

    private static let ids = Atomic<UInt64>(0)

    /// Creates the agent, allocates its sockets and starts gathering local candidates.
    ///
    /// Never blocks: validation happens here, the rest on the context's threads.
    ///
    /// - Throws: ``IceError`` with code `invalidConfiguration` or `invalidIceServer` naming the field
    ///   (for example `portRange`, `url`, `credential`) for a configuration that cannot work. What
    ///   can only be found out later — a STUN/TURN host name that does not resolve, an interface
    ///   without an address, no free port in `portRange` — fails the connection instead:
    ///   ``iceConnectionState`` becomes `failed` with reason ``IceStateChangeReason/setupFailed``
    ///   (delivered like any change) and ``setupError`` holds the typed error.
    ///
    /// - Parameter logger: where the connection logs (swift-log), with metadata `pc` (a process-wide
    ///   connection number) added; by default `Logger(label: "NiceICE")`. Passwords and TURN
    ///   credentials are never logged.
    public init(
        configuration: Configuration, context: NiceContext = .default,
        logger: Logger = Logger(label: "NiceICE")
    ) throws(IceError) {
        let validated = try ValidatedConfiguration(configuration)
        var logger = logger
        logger[metadataKey: "pc"] = "\(Self.ids.wrappingAdd(1, ordering: .relaxed).newValue)"
        self.configuration = configuration
        self.context = context
        self.logger = logger
        let machine = IceStateMachine(streams: [1], components: configuration.componentCount)
        hub = EventHub(
            machine: machine, logger: logger, context: context, gracePeriod: configuration.disconnectedGracePeriod,
            receiveLimit: configuration.receiveStreamBufferLimit, receiveByteLimit: configuration.receiveBufferByteLimit,
            remoteCandidateLimit: configuration.maximumRemoteCandidates)
        allowedRemoteScopes = validated.allowedRemoteScopes
        let core = AgentCore(context: context, hub: hub, config: validated, logger: logger)
        self.core = core
        LiveObjects.born(.peerConnection)  // every stored property is set: deinit runs from here on
        guard context.register(core) else {
            _ = hub.close()
            throw IceError(.invalidState, field: "context", reason: "the NiceContext '\(context.name)' is shut down")
        }
        hub.withValues { $0.localParameters = IceParameters.random() }
        // Set-up never blocks the caller or the GLib thread: host names are resolved on the
        // context's blocking workers, then one job on the context thread creates the agent (many
        // connections created at once cost one GLib wake-up). Whatever fails from here on fails
        // the connection: `iceConnectionState` becomes `failed` with reason `setupFailed` and
        // `setupError` says why.
        var resolved: AgentCore.Resolved = [:]
        var names: [String] = []
        for host in validated.serverHosts {
            if LibNice.isIPAddress(host) { resolved[host] = host } else { names.append(host) }
        }
        if names.isEmpty {
            context.execute { [resolved] in core.start(resolved: resolved) }
        } else {
            let resolver = context.resolver
            context.workers.submit { [resolved, names] in
                var all = resolved
                for name in names {
                    if let ip = resolver.resolve(name) { all[name] = ip }
                }
                context.execute { [all] in core.start(resolved: all) }
            }
        }
        logger.debug("created, role \(configuration.role.rawValue)")
    }

    deinit {
        LiveObjects.died(.peerConnection)
        if hub.close() {
            logger.debug("released without close(); closing")
            let core = self.core
            context.execute { core.teardown() }
        }
    }

    // MARK: Handlers

    /// Called on the start queue with every change of ``iceConnectionState`` (never on `close()`).
    public var stateUpdateHandler: (@Sendable (IceStateChange) -> Void)? {
        get { hub.handler(\.state) }
        set { hub.setHandlers { $0.state = newValue } }
    }

    /// Called on the start queue with every change of ``iceGatheringState``.
    public var gatheringStateHandler: (@Sendable (IceGatheringState) -> Void)? {
        get { hub.handler(\.gathering) }
        set { hub.setHandlers { $0.gathering = newValue } }
    }

    /// Called on the start queue with each local candidate (trickle ICE), then `nil` for
    /// end-of-candidates, as W3C `onicecandidate` does. Send them to the peer.
    public var candidateHandler: (@Sendable (IceCandidate?) -> Void)? {
        get { hub.handler(\.candidate) }
        set { hub.setHandlers { $0.candidate = newValue } }
    }

    /// Called on the start queue when a candidate pair is selected for a component, before the
    /// state change it causes (W3C order).
    public var selectedPairHandler: (@Sendable (CandidatePair) -> Void)? {
        get { hub.handler(\.selectedPair) }
        set { hub.setHandlers { $0.selectedPair = newValue } }
    }

    /// Called on the start queue when a STUN or TURN server yields no candidate (W3C
    /// `onicecandidateerror`), with the server's error code (for example 401 for a wrong TURN
    /// password). Gathering and connectivity through other candidates go on.
    public var candidateErrorHandler: (@Sendable (IceCandidateError) -> Void)? {
        get { hub.handler(\.candidateError) }
        set { hub.setHandlers { $0.candidateError = newValue } }
    }

    /// Called on the start queue with each datagram received over ICE. Datagrams are handed over in
    /// batches; if the queue falls more than `receiveStreamBufferLimit` datagrams or
    /// `receiveBufferByteLimit` bytes behind, newer ones are dropped, as a socket buffer would.
    /// Datagrams are kept for the handler only while one is set (before ``start(queue:)`` too, then
    /// delivered once it is called): a connection read through ``receivedDatagrams()`` alone keeps
    /// nothing for it.
    public var receiveHandler: (@Sendable (Datagram) -> Void)? {
        get { hub.inbox.handler }
        set { hub.inbox.handler = newValue }
    }

    /// Starts delivering events to the handlers on `queue`. Later calls are ignored.
    public func start(queue: DispatchQueue) {
        hub.start(queue: queue)
    }

    // MARK: State

    /// The W3C ICE connection state. `closed` at once after ``close()``.
    public var iceConnectionState: IceConnectionState { hub.withValues { $0.machine.state } }

    /// The W3C ICE gathering state.
    public var iceGatheringState: IceGatheringState { hub.withValues { $0.gathering } }

    /// Our ufrag and password, to send to the peer. Changes when ``restartIce()`` or a remote
    /// restart (``setRemoteParameters(_:)`` with new parameters) returns.
    public var localParameters: IceParameters { hub.withValues { $0.localParameters } }

    /// Why set-up failed, once it has (then ``iceConnectionState`` is `failed` with reason
    /// ``IceStateChangeReason/setupFailed``); `nil` while set-up is pending or succeeded.
    public var setupError: IceError? { hub.withValues { $0.setupError } }

    /// The peer's parameters, once set.
    public var remoteParameters: IceParameters? { hub.withValues { $0.remoteParameters } }

    /// The selected pair of component 1, once one is selected.
    public var selectedPair: CandidatePair? { selectedPair(component: 1) }

    /// The selected pair of a component, once one is selected.
    public func selectedPair(component: Int) -> CandidatePair? {
        hub.withValues { $0.selectedPairs[component] }
    }

    // MARK: Signalling input

    /// Sets the peer's ufrag and password (from its offer or answer). Setting different parameters
    /// later is a remote ICE restart: the local side restarts too, and ``localParameters`` holds
    /// the new local credentials when this returns (put them in the answer), as after
    /// ``restartIce()``.
    ///
    /// Never blocks: the new credentials are generated here and applied on the context thread
    /// before any later call of this connection.
    ///
    /// - Throws: ``IceError`` `invalidParameters` (field `ufrag` or `password`) for values RFC 8839
    ///   forbids, `closed` after close. Nothing is applied then.
    public func setRemoteParameters(_ parameters: IceParameters) throws(IceError) {
        try parameters.validate()
        guard !hub.isClosed else { throw IceError(.closed, reason: "the connection is closed") }
        let fresh = IceParameters.random()
        let restart = hub.withValues { s -> IceParameters? in
            guard let current = s.remoteParameters else {
                s.remoteParameters = parameters
                s.remoteCandidates.adopt(parameters.usernameFragment)
                return nil
            }
            guard current != parameters else { return nil }
            // A new ufrag/password from the peer is an ICE restart (RFC 8445 §9): ours restarts too.
            s.remoteCandidates.restart(oldUfrag: current.usernameFragment)
            s.remoteCandidates.adopt(parameters.usernameFragment)
            s.remoteParameters = parameters
            guard s.setupError == nil else { return nil }  // no agent to restart
            s.localParameters = fresh
            return fresh
        }
        if restart != nil { logger.info("remote ICE restart; restarting local ICE") }
        let core = self.core
        context.execute { core.setRemoteParameters(parameters, restartingWith: restart) }
    }

    /// Adds a remote candidate (trickle ICE); `nil` means the peer's end-of-candidates.
    ///
    /// Candidates may arrive before ``setRemoteParameters(_:)``; they are kept until then.
    /// mDNS (`.local`) host candidates are skipped with a log message and no error, since libnice
    /// cannot resolve them; the connection still forms through peer-reflexive candidates.
    ///
    /// A candidate tagged with the `ufrag` of an earlier ICE generation is dropped without an error.
    ///
    /// - Throws: ``IceError`` `invalidCandidate` for a component this connection does not have,
    ///   `addressNotAllowed` (field `address`) for an address in a scope
    ///   ``Configuration/remoteAddressPolicy`` refuses (loopback, unspecified, multicast,
    ///   link-local), `tooManyCandidates` past ``Configuration/maximumRemoteCandidates`` for one
    ///   component (signalled and peer-reflexive candidates of the current ICE generation, and
    ///   candidates waiting for the parameters of a later one), `closed` after close. The
    ///   connection is unchanged then.
    public func addIceCandidate(_ candidate: IceCandidate?) throws(IceError) {
        guard !hub.isClosed else { throw IceError(.closed, reason: "the connection is closed") }
        let core = self.core
        guard let candidate else {
            context.execute { core.remoteEndOfCandidates() }
            return
        }
        guard (1...configuration.componentCount).contains(candidate.component) else {
            throw IceError(.invalidCandidate, field: "component", reason: "component \(candidate.component) does not exist (this connection has \(configuration.componentCount))")
        }
        if candidate.isMulticastDNS {
            logger.info("skipping mDNS candidate \(candidate.address): libnice cannot resolve .local names; peer-reflexive discovery still connects")
            return
        }
        let scope = candidate.addressScope
        guard allowedRemoteScopes.isSuperset(of: scope) else {
            throw IceError(
                .addressNotAllowed, field: "address",
                reason: "\(scope) address \(candidate.address) refused by the remote address policy")
        }
        let limit = configuration.maximumRemoteCandidates
        let ufrag = candidate.extensions.first { $0.name == "ufrag" }?.value
        let key = RemoteCandidateBudget.key(candidate)
        let admission = hub.withValues { s in
            s.remoteCandidates.admit(
                component: candidate.component, key: key, ufrag: ufrag, remoteUfrag: s.remoteParameters?.usernameFragment)
        }
        switch admission {
        case .accepted:
            break
        case .stale:
            logger.debug("dropping a remote candidate of an earlier ICE generation", metadata: ["ufrag": "\(ufrag ?? "")"])
            return
        case .full:
            throw IceError(.tooManyCandidates, field: "component", reason: "component \(candidate.component) already has \(limit) remote candidates")
        }
        let line = candidate.libniceLine
        context.execute { core.addRemoteCandidate(line, ufrag: ufrag) }
    }

    /// Parses and adds a remote `candidate:` line; an empty string means end-of-candidates.
    public func addIceCandidate(_ line: String) throws(IceError) {
        if line.isEmpty { return try addIceCandidate(nil) }
        try addIceCandidate(IceCandidate(parsing: line))
    }

    /// Restarts ICE (W3C `restartIce()`): new local credentials, which it returns and
    /// ``localParameters`` shows at once; the remote side must send new parameters and candidates.
    /// The old pair keeps carrying data until a new one is selected. States go
    /// `completed`/`connected` → `connected` and `disconnected`/`failed` → `checking`. Local
    /// candidates are delivered again to the candidate handler, then end-of-candidates.
    ///
    /// Never blocks: the credentials are generated here and applied on the context thread before
    /// any later call of this connection.
    ///
    /// - Throws: ``IceError`` `closed` after close, `invalidState` when set-up failed (there is no
    ///   agent to restart).
    @discardableResult
    public func restartIce() throws(IceError) -> IceParameters {
        try restartIce(with: IceParameters.random())
    }

    /// Restarts ICE as ``restartIce()`` does, with the given new local credentials (a
    /// `PeerConnection` writes them into its offer before it applies it). libnice 0.1.21 restarts
    /// the stream (`nice_agent_restart_stream`) and then takes them (`nice_agent_set_local_credentials`),
    /// both through `LibNice`.
    @discardableResult
    package func restartIce(with fresh: IceParameters) throws(IceError) -> IceParameters {
        try fresh.validate()
        guard !hub.isClosed else { throw IceError(.closed, reason: "the connection is closed") }
        let failed = hub.withValues { s -> Bool in
            guard s.setupError == nil else { return true }
            s.localParameters = fresh
            s.remoteCandidates.restart(oldUfrag: s.remoteParameters?.usernameFragment)
            s.remoteParameters = nil
            return false
        }
        guard !failed else { throw IceError(.invalidState, reason: "set-up failed; there is no agent to restart") }
        let core = self.core
        context.execute { core.restart(with: fresh) }
        return fresh
    }

    /// Sets the ICE role after creation (package-level: a `PeerConnection` creates its transport
    /// before the first offer decides the role). Applied on the context thread before any later
    /// call of this connection, so before the remote parameters; an ICE-lite agent stays
    /// controlled (RFC 8445 §6.1.1).
    package func setRole(_ role: IceRole) {
        guard !(configuration.iceLite && role == .controlling) else { return }
        let core = self.core
        context.execute { core.setRole(role) }
    }

    /// Revokes the peer's consent to send (RFC 7675 §5.2): checks are answered with 403, so the peer
    /// sees its connection fail within one consent interval. Use it to shut a peer out without
    /// closing; ``restartIce()`` restores consent.
    public func revokeConsent() {
        let core = self.core
        context.execute { core.revokeConsent() }
    }

    // MARK: Close

    /// Closes the connection (W3C `close()`): ``iceConnectionState`` is `closed` on return, no state
    /// event fires, handlers fall silent, every stream finishes. libnice's sockets close shortly after
    /// on the context thread. Idempotent; safe from any thread and from inside a handler.
    public func close() {
        closeNow()
    }

    private func closeNow() {
        guard hub.close() else { return }
        logger.debug("closed")
        let core = self.core
        context.execute { core.teardown() }
    }

    /// Closes as ``close()`` does, then waits until libnice has closed the agent's sockets — at most
    /// 5 s; past that a warning is logged and the sockets close when libnice lets go. (A distinct
    /// name, so that `close()` stays the plain W3C close in async code too.)
    public func closeAndWait() async {
        closeNow()
        if await !hub.waitForTeardown(timeout: Self.closeTimeout) {
            logger.warning("libnice did not release the agent within \(Self.closeTimeout)")
        }
    }

    /// The longest ``close()`` `async` waits for libnice.
    static let closeTimeout: Duration = .seconds(5)
}
