import Dispatch
import Logging
import Synchronization

/// The libnice side of one ``IceTransport``: the agent, its stream, its signal handlers.
///
/// `@unchecked Sendable` is safe because every stored `var` is touched only on `context`'s thread,
/// which debug builds assert (`context.assertCurrent()`): the agent is created, driven and torn
/// down there (``IceTransport`` hops with `NiceContext.execute`). libnice emits the signals it
/// queued on whichever thread unlocks the agent, which can be a user thread inside a direct
/// `nice_agent_send`; every signal handler (`on…`) therefore re-posts itself to the context thread
/// before it reads anything but `let`s, atomics and `Locked` values. The direct send path reads
/// the agent only through `sendState`, a `Locked` value that teardown clears before the agent is
/// released; the queued send path runs on the context thread.
final class AgentCore: @unchecked Sendable {
    struct SendState: Sendable {
        var agent: AgentHandle?
        var stream: UInt32 = 0
    }

    /// Datagrams waiting for the context thread (sends on configurations that can select a TCP
    /// path; see ``sendsOnContext``).
    struct SendQueue: Sendable {
        /// Oldest first; `queued` is `DispatchTime` uptime in nanoseconds.
        var items: [(bytes: [UInt8], component: UInt32, queued: UInt64)] = []
        /// What `items` cost: each datagram's bytes plus ``AgentCore/sendQueueItemCost``.
        var bytes = 0
        var drainScheduled = false
        var full: Bool { bytes >= AgentCore.sendQueueByteLimit }
        /// `write` callers waiting for room, resumed by the next drain (or teardown).
        var roomWaiters: [CheckedContinuation<Void, Never>] = []

        /// Appends a datagram and charges it.
        mutating func push(_ bytes: [UInt8], component: UInt32, queued: UInt64) {
            items.append((bytes, component, queued))
            self.bytes += bytes.count + AgentCore.sendQueueItemCost
        }

        /// Puts a datagram libnice refused back at the head.
        mutating func pushFront(_ item: (bytes: [UInt8], component: UInt32, queued: UInt64)) {
            items.insert(item, at: 0)
            bytes += item.bytes.count + AgentCore.sendQueueItemCost
        }

        /// Takes the oldest datagram, if any, and credits it.
        mutating func popFirst() -> (bytes: [UInt8], component: UInt32, queued: UInt64)? {
            guard !items.isEmpty else { return nil }
            let item = items.removeFirst()
            bytes -= item.bytes.count + AgentCore.sendQueueItemCost
            return item
        }
    }

    /// Host names resolved off the GLib thread before set-up (name → numeric address).
    typealias Resolved = [String: String]

    let context: NiceContext
    let hub: EventHub
    let config: ValidatedConfiguration
    let logger: Logger
    /// Held across `nice_agent_send` so teardown cannot release the agent under a sender. Signal
    /// handlers never take it (libnice may emit signals from inside `nice_agent_send`).
    let sendState = Locked(SendState())
    /// Bit `c` set when component `c` has a selected pair.
    let selectedMask = Atomic<UInt32>(0)
    let sentDatagrams = Atomic<UInt64>(0)
    let sentBytes = Atomic<UInt64>(0)
    /// Every datagram (and its bytes) libnice delivered to the agent, whatever took it then.
    let arrivedDatagrams = Atomic<UInt64>(0)
    let arrivedBytes = Atomic<UInt64>(0)
    /// Datagrams accepted by `send` that libnice then refused (consent lost, socket error, queue full).
    let droppedDatagrams = Atomic<UInt64>(0)
    /// True when a TCP path can be selected (ICE-TCP, or a TURN server over TCP or TLS). libnice
    /// 0.1.21's TCP socket (`socket/tcp-bsd.c`) touches its send queue without a lock while the GLib
    /// thread pops and frees it (fixed upstream in 55ff684d, released in 0.1.23), so every send of
    /// such a connection runs on the context thread. UDP-only connections send on the caller's
    /// thread: libnice's UDP and TURN-over-UDP sockets are safe there under the agent lock.
    let sendsOnContext: Bool
    let sendQueue = Locked(SendQueue())
    /// Set once a peer-reflexive flood was seen (``abandonForFlood(learnt:)`` runs once).
    let floodSeen = Atomic<Bool>(false)
    /// `tornDown`, readable off the context thread.
    let tornDownFlag = Atomic<Bool>(false)
    /// What may wait in the send queue before `send` throws `sendQueueFull`: 128 KiB (about 0.1 s
    /// of a 10 Mbit/s path), every datagram charged its bytes plus ``sendQueueItemCost``, so
    /// however small the datagrams the bound is in bytes (about 2,000 empty ones).
    ///
    /// Nothing in this queue is ahead of a consent check: libnice writes its STUN straight to the
    /// socket (see `LibNice.boundTcpSendQueue`). It only holds what the socket refused.
    static let sendQueueByteLimit = 128 * 1024
    /// What a queued datagram costs beyond its bytes (its array and the entry).
    static let sendQueueItemCost = 64
    /// A queued datagram older than this is dropped, not sent: the path has stalled (consent lost,
    /// a TCP connection in retransmission back-off), and datagrams, as with UDP, are better lost
    /// than this late. Long enough that a lossy but moving TCP path drains the queue in time.
    static let sendQueueMaxWait: UInt64 = 5_000_000_000
    /// One drain job sends at most this many datagrams, then yields the context thread (libnice's
    /// reads, STUN responses and consent timers run between slices) and queues the next slice.
    static let drainSlice = 64
    /// When libnice refuses a queued datagram (its TCP socket would block: the kernel buffer is
    /// full), the drain stops and retries after this long instead of dropping the rest.
    static let blockedRetry = Duration.milliseconds(5)
    /// The kernel send buffer of a selected TCP path (see `LibNice.boundTcpSendQueue`): unsent and
    /// unacknowledged data together, instead of autotuned megabytes.
    static let tcpSendBufferCap: Int32 = 64 * 1024
    /// At most this much data waits unsent in the kernel ahead of a consent check on a selected
    /// TCP path (`TCP_NOTSENT_LOWAT`): beyond it the socket refuses, libnice refuses, and the
    /// datagram waits in ``sendQueue``, behind which no STUN ever waits. Measured (issue 17 §6,
    /// 10 s flood through 10 % loss): with the old 64 KiB send and receive caps consent round
    /// trips reached 5.6 s and consent was lost; with this bound and autotuned receive buffers the
    /// slowest was 1.6 s in 20 floods (10 ICE-TCP, 10 TURN-TCP). A TCP retransmission stall
    /// longer than that (random loss with back-off) still delays a check: see ARCHITECTURE.md.
    static let tcpNotSentLowWater: Int32 = 16 * 1024

    // Context thread only.
    private var agent: AgentHandle?
    private(set) var stream: UInt32 = 0
    private var signalIDs: [UInt] = []
    private var receiveBox: Unmanaged<SignalBox>?
    private var remoteParameters: IceParameters?
    private var queuedCandidates: [(line: String, ufrag: String?)] = []
    /// Remote ufrags of earlier ICE generations: candidates tagged with them are stale.
    private var staleRemoteUfrags: Set<String> = []
    private var remoteEndQueued = false
    private var tornDown = false
    /// TURN servers with their resolved addresses, and whether they still wait for `addRelays`.
    private var relayServers: [(ValidatedConfiguration.Relay, String)] = []
    private var relaysPending = false
    /// libnice finished gathering (every discovery, TURN included, is over).
    private var gatheringDone = false
    /// The role set by ``setRole(_:)`` (a `PeerConnection` learns it from the first offer), which
    /// replaces the configured one; nil: the configuration's.
    private var roleOverride: IceRole?

    init(context: NiceContext, hub: EventHub, config: ValidatedConfiguration, logger: Logger) {
        self.context = context
        self.hub = hub
        self.config = config
        self.logger = logger
        sendsOnContext = config.base.iceTCP || config.relays.contains { $0.url.transport == .tcp || $0.url.scheme == .turns }
    }

    var components: [UInt32] { (1...UInt32(config.base.componentCount)).map { $0 } }

    // MARK: Set-up (context thread)

    /// Creates the agent and starts gathering, or fails the connection with the reason.
    func start(resolved: Resolved) {
        context.assertCurrent()
        // Closed before this job ran (while names were being resolved, or right after init): no
        // agent and no socket is ever created; the queued teardown finds nothing and finishes.
        guard !tornDown, !hub.isClosed else { return }
        switch setUp(resolved: resolved) {
        case .success:
            gather()
            // Remote parameters and candidates that arrived while set-up was pending (host names
            // being resolved) were kept; apply them now.
            if let early = remoteParameters {
                remoteParameters = nil
                setRemoteParameters(early, restartingWith: nil)
            }
        case .failure(let error): hub.failSetup(error)
        }
    }

    /// Creates the agent and its stream with the local parameters already in the hub. Returns them.
    func setUp(resolved: Resolved) -> Result<IceParameters, IceError> {
        context.assertCurrent()
        let c = config.base
        guard let agent = LibNice.newAgent(
            context.loop,
            .init(controlling: (roleOverride ?? c.role) == .controlling, iceUDP: c.iceUDP, iceTCP: c.iceTCP, relayOnly: c.iceTransportPolicy == .relay, lite: c.iceLite,
                stunMaxRetransmissions: c.stunMaxRetransmissions))
        else { return .failure(IceError(.agentFailure, reason: "nice_agent_new_full failed")) }
        self.agent = agent
        if let stun = config.stun {
            guard let ip = resolved[stun.host] else {
                return fail(IceError(.invalidIceServer, field: "host", reason: "cannot resolve STUN host '\(stun.host)'"))
            }
            LibNice.setStunServer(agent, ip: ip, port: stun.port)
        }
        for entry in c.localAddresses {
            let ip = LibNice.isIPAddress(entry) ? entry : LibNice.interfaceAddress(entry)
            guard let ip, LibNice.addLocalAddress(agent, ip) else {
                return fail(IceError(.invalidConfiguration, field: "localAddresses", reason: "'\(entry)' is neither an IP address nor an interface with an address"))
            }
        }
        signalIDs = LibNice.connectSignals(agent, box: SignalBox(self))
        stream = LibNice.addStream(agent, components: c.componentCount)
        guard stream != 0 else { return fail(IceError(.agentFailure, reason: "nice_agent_add_stream failed")) }
        for component in components {
            if let r = c.portRange {
                LibNice.setPortRange(agent, stream: stream, component: component, min: r.lowerBound, max: r.upperBound)
            }
        }
        var servers: [(ValidatedConfiguration.Relay, String)] = []
        for relay in config.relays {
            guard let ip = resolved[relay.url.host] else {
                return fail(IceError(.invalidIceServer, field: "host", reason: "cannot resolve TURN host '\(relay.url.host)'"))
            }
            servers.append((relay, ip))
        }
        relayServers = servers
        // See `addRelays`: with a STUN server too, TURN is added once STUN discovery is under way.
        relaysPending = config.stun != nil && !servers.isEmpty
        if !relaysPending, !addRelays() {
            return fail(IceError(.invalidIceServer, field: "host", reason: "libnice rejected a TURN server"))
        }
        let box = Unmanaged.passRetained(SignalBox(self))
        receiveBox = box
        for component in components {
            LibNice.attachReceive(agent, context.loop, stream: stream, component: component, box: box.toOpaque())
        }
        sendState.withLock {
            $0.agent = agent
            $0.stream = stream
        }
        let parameters = hub.withValues { $0.localParameters }
        guard LibNice.setLocalCredentials(agent, stream: stream, parameters) else {
            return fail(IceError(.agentFailure, reason: "libnice rejected the local credentials"))
        }
        return .success(parameters)
    }

    /// Hands the TURN servers to libnice. Returns false if libnice rejected one.
    ///
    /// libnice 0.1.21 checks a STUN reply only against the *first* discovery on a socket, and a
    /// TURN discovery rejects the (cookie-less RFC 3489) STUN Binding reply as a bad request instead
    /// of passing it on (`conn_check_handle_inbound_stun`). TURN discoveries are created at once
    /// while the STUN server is resolved asynchronously, so TURN always comes first and the STUN
    /// server's srflx candidate is lost — which matters when the TURN server then fails (wrong
    /// password, unreachable): no relay and no srflx. With a STUN server configured, NiceICE
    /// therefore adds the TURN servers once the STUN discovery exists: at the first srflx
    /// candidate or after 50 ms, whichever is first. End-of-candidates waits for them.
    @discardableResult
    func addRelays() -> Bool {
        context.assertCurrent()
        guard let agent, !tornDown else { return true }
        relaysPending = false
        var ok = true
        for component in components {
            for (relay, ip) in relayServers {
                ok = LibNice.setRelay(
                    agent, stream: stream, component: component, ip: ip, port: relay.url.port, username: relay.username,
                    password: relay.credential, transport: relay.url.transport, tls: relay.url.scheme == .turns) && ok
            }
        }
        if !ok { logger.error("libnice rejected a TURN server") }
        return ok
    }

    /// Starts gathering (context thread). When libnice cannot bind a single socket (no free port
    /// in `portRange`, no usable local address) the connection can never work: set-up fails.
    func gather() {
        context.assertCurrent()
        guard let agent, !tornDown else { return }
        hub.emit(.gathering(.gathering))
        if relaysPending {
            context.schedule(after: .milliseconds(50)) { [self] in
                if relaysPending { addRelays() }
            }
        }
        if !LibNice.gather(agent, stream: stream) {
            let where_ = config.base.portRange.map { "in port range \($0)" } ?? "on the configured addresses"
            let text = "no host candidate could be allocated \(where_)"
            hub.emit(.candidateError(IceCandidateError(url: "", errorCode: 701, errorText: text)))
            hub.failSetup(IceError(.agentFailure, field: config.base.portRange == nil ? "localAddresses" : "portRange", reason: text))
            teardown()
        }
    }

    private func fail(_ error: IceError) -> Result<IceParameters, IceError> {
        teardown()
        return .failure(error)
    }

    // MARK: Remote side (context thread)

    /// Sets the peer's parameters. Different parameters than the current ones are a remote ICE
    /// restart (RFC 8445 §9): ours restarts too, with `fresh`, the new local credentials
    /// ``IceTransport/setRemoteParameters(_:)`` generated and published on the caller's thread
    /// (nil when it found no restart: the hub's view and this one follow the same calls in order).
    func setRemoteParameters(_ p: IceParameters, restartingWith fresh: IceParameters?) {
        context.assertCurrent()
        guard !tornDown else { return }
        if let current = remoteParameters {
            if current == p { return }
            if let fresh {
                restart(with: fresh)
            } else {
                logger.error("remote parameters changed without new local credentials")
                return
            }
        }
        staleRemoteUfrags.remove(p.usernameFragment)
        remoteParameters = p
        // Set-up pending: applied by `start` once the agent exists.
        guard let agent else { return }
        guard LibNice.setRemoteCredentials(agent, stream: stream, p) else {
            logger.error("libnice rejected the remote credentials")
            return
        }
        let queued = queuedCandidates
        queuedCandidates = []
        for q in queued { addRemoteCandidate(q.line, ufrag: q.ufrag) }
        if remoteEndQueued {
            remoteEndQueued = false
            remoteEndOfCandidates()
        }
    }

    /// Adds a validated candidate in libnice's SDP form. Queued until remote parameters are set;
    /// a candidate tagged with a `ufrag` (as browsers tag them) waits for the parameters of that
    /// ufrag, and one from an earlier ICE generation is dropped.
    func addRemoteCandidate(_ line: String, ufrag: String?) {
        context.assertCurrent()
        guard !tornDown else { return }
        if let ufrag, staleRemoteUfrags.contains(ufrag) {
            logger.debug("dropping a remote candidate of an earlier ICE generation", metadata: ["ufrag": "\(ufrag)"])
            return
        }
        guard let agent, let current = remoteParameters, ufrag == nil || ufrag == current.usernameFragment else {
            queuedCandidates.append((line, ufrag))
            return
        }
        // Tell the machine first: libnice emits FAILED→CONNECTING from inside the add call.
        hub.process(.remoteCandidateAdded(stream: stream))
        if !LibNice.addRemoteCandidate(agent, stream: stream, sdp: "a=" + line) {
            logger.warning("libnice did not add remote candidate", metadata: ["candidate": "\(line)"])
        }
    }

    func remoteEndOfCandidates() {
        context.assertCurrent()
        guard !tornDown else { return }
        guard let agent, remoteParameters != nil else {
            remoteEndQueued = true
            return
        }
        LibNice.peerGatheringDone(agent, stream: stream)
        hub.process(.remoteEndOfCandidates(stream: stream))
    }

    /// Restarts ICE with the new local credentials `fresh` (already published in the hub, so the
    /// caller did not wait for this thread): remote side forgotten, old pair kept until a new one is
    /// nominated; local candidates are delivered again (as a browser regathers).
    func restart(with fresh: IceParameters) {
        context.assertCurrent()
        guard !tornDown else { return }
        // The remote generation ends whether or not the agent exists yet (the hub's candidate
        // count was reset by the caller, in the same order).
        if let old = remoteParameters { staleRemoteUfrags.insert(old.usernameFragment) }
        remoteParameters = nil
        queuedCandidates.removeAll { $0.ufrag == nil || staleRemoteUfrags.contains($0.ufrag ?? "") }
        remoteEndQueued = false
        // Set-up pending: `setUp` takes the fresh credentials from the hub.
        guard let agent else { return }
        // Feed the machine first: libnice emits GATHERING from inside the restart call.
        hub.process(.restart)
        guard LibNice.restartStream(agent, stream: stream) else {
            logger.error("nice_agent_restart_stream failed")
            return
        }
        if !LibNice.setLocalCredentials(agent, stream: stream, fresh) {
            logger.error("libnice rejected the new local credentials")
        }
        // libnice keeps its local candidates and does not gather again: replay them.
        hub.emit(.gathering(.gathering))
        for component in components {
            for line in LibNice.localCandidateLines(agent, stream: stream, component: component) {
                if let c = try? IceCandidate(parsing: line, sdpMLineIndex: 0) { hub.emit(.candidate(advertised(c))) }
            }
        }
        hub.emit(.candidate(nil))
        hub.emit(.gathering(.complete))
    }

    /// Sets the ICE role after creation (context thread): the agent's controlling mode now, or at
    /// set-up when the agent does not exist yet.
    func setRole(_ role: IceRole) {
        context.assertCurrent()
        guard !tornDown else { return }
        roleOverride = role
        guard let agent else { return }
        LibNice.setControlling(agent, role == .controlling)
        logger.debug("ICE role \(role.rawValue)")
    }

    func revokeConsent() {
        context.assertCurrent()
        guard let agent, !tornDown else { return }
        for component in components { _ = LibNice.consentLost(agent, stream: stream, component: component) }
    }

    // MARK: Teardown (context thread)

    /// Disconnects everything, closes libnice's sockets, releases the agent.
    ///
    /// While gathering still runs, the stream is removed before the agent is closed: in libnice
    /// 0.1.21 `nice_agent_close_async` does not stop discovery, so a TURN allocation answered during
    /// the close joins the refresh list after it was pruned, keeps refreshing itself, and
    /// `on_agent_refreshes_pruned` polls for an empty list for ever (the close never completes).
    /// `nice_agent_remove_stream` prunes the stream's discoveries first, so nothing can add a
    /// refresh any more. Once gathering is done no discovery is pending and the stream is left to
    /// `close_async`, which deallocates TURN allocations while replies are still read (removing
    /// the stream first would drop the replies and make each deallocation wait for its timeout).
    func teardown() {
        context.assertCurrent()
        guard !tornDown else { return }
        tornDown = true
        tornDownFlag.store(true, ordering: .releasing)
        let hub = self.hub
        guard let agent else {
            context.unregister(self)
            hub.teardownFinished()
            return
        }
        self.agent = nil
        sendState.withLock { $0.agent = nil }
        for component in components where stream != 0 {
            LibNice.detachReceive(agent, context.loop, stream: stream, component: component)
        }
        LibNice.disconnectSignals(agent, signalIDs)
        signalIDs = []
        if stream != 0 && !gatheringDone { LibNice.removeStream(agent, stream: stream) }
        let waiters = sendQueue.withLock { q in
            q.items = []
            q.bytes = 0
            defer { q.roomWaiters = [] }
            return q.roomWaiters
        }
        waiters.forEach { $0.resume() }
        let box = receiveBox
        receiveBox = nil
        let context = self.context
        LibNice.closeAndRelease(agent, context.loop) { [self] in
            box?.release()
            context.unregister(self)
            hub.teardownFinished()
        }
    }

    // MARK: Signals (context thread)

    func onComponentState(_ a: AgentHandle, stream: UInt32, component: UInt32, state: UInt32) {
        guard context.isCurrent else {
            context.execute { [self] in onComponentState(a, stream: stream, component: component, state: state) }
            return
        }
        guard let s = NiceState(rawValue: state) else { return }
        logger.debug("component \(stream)/\(component) -> \(LibNice.stateName(s))")
        if s == .failed {
            selectedMask.bitwiseAnd(~(1 << component), ordering: .relaxed)
        }
        hub.process(.componentState(ComponentKey(stream: stream, component: component), s))
    }

    func onLocalCandidate(_ a: AgentHandle, stream: UInt32, line: String) {
        guard context.isCurrent else {
            context.execute { [self] in onLocalCandidate(a, stream: stream, line: line) }
            return
        }
        guard !tornDown else { return }
        if relaysPending && line.contains(" typ srflx") { addRelays() }
        do {
            let candidate = try IceCandidate(parsing: line, sdpMLineIndex: 0)
            logger.debug("local candidate \(candidate)")
            hub.emit(.candidate(advertised(candidate)))
        } catch {
            logger.error("libnice produced a candidate NiceICE cannot parse: \(error)")
        }
    }

    /// The candidate as the peer should see it: with 1:1 NAT advertisement, host candidates carry
    /// the configured public address of their family instead of the host address.
    func advertised(_ c: IceCandidate) -> IceCandidate {
        guard c.type == .host, !config.base.natOneToOneAddresses.isEmpty else { return c }
        let v6 = c.address.contains(":")
        guard let publicAddress = config.base.natOneToOneAddresses.first(where: { $0.contains(":") == v6 }) else { return c }
        var copy = c
        copy.address = publicAddress
        return copy
    }

    /// libnice learnt a peer-reflexive remote candidate from an authenticated check (any thread:
    /// reads only `let`s and the hub). It is counted against `maximumRemoteCandidates` — libnice
    /// 0.1.21 keeps and uses it regardless (`discovery_learn_remote_peer_reflexive_candidate`
    /// appends without a limit and there is no call to remove one), so the count only makes
    /// `addIceCandidate` refuse what would come on top. Its address is the check's source address,
    /// so the remote address policy cannot be applied before libnice answers and checks it; one in
    /// a refused scope is logged.
    func onPeerReflexiveCandidate(line: String) {
        guard let c = try? IceCandidate(parsing: line) else {
            logger.warning("libnice learnt a peer-reflexive candidate NiceICE cannot parse: \(line)")
            return
        }
        let scope = c.addressScope
        if !config.allowedRemoteScopes.isSuperset(of: scope) {
            logger.warning("peer-reflexive remote candidate in a refused scope (\(scope)); libnice 0.1.21 cannot be stopped from using it", metadata: ["address": "\(c.address)"])
        } else {
            logger.debug("peer-reflexive remote candidate \(line)")
        }
        let key = RemoteCandidateBudget.key(c)
        let learnt = hub.withValues { $0.remoteCandidates.learn(component: c.component, key: key) }
        if learnt > config.base.maximumPeerReflexiveCandidates, !floodSeen.exchange(true, ordering: .relaxed) {
            context.execute { [self] in abandonForFlood(learnt: learnt) }
        }
    }

    /// The peer made libnice learn more peer-reflexive candidates than
    /// ``IceTransport/Configuration/maximumPeerReflexiveCandidates`` (security review F6): libnice
    /// 0.1.21 cannot be told to forget them or to stop learning, so the connection is abandoned:
    /// `failed` for good (``IceStateChangeReason/peerReflexiveFlood``) and the agent released,
    /// which closes its sockets and frees its lists.
    private func abandonForFlood(learnt: Int) {
        context.assertCurrent()
        guard !tornDown else { return }
        logger.warning("the peer made libnice learn \(learnt) peer-reflexive candidates (limit \(config.base.maximumPeerReflexiveCandidates)): the connection is abandoned")
        hub.process(.peerReflexiveFlood)
        teardown()
    }

    func onGatheringDone(stream: UInt32) {
        guard context.isCurrent else {
            context.execute { [self] in onGatheringDone(stream: stream) }
            return
        }
        guard !tornDown else { return }
        // TURN servers still to come (see `addRelays`): libnice will finish gathering again.
        if relaysPending {
            addRelays()
            return
        }
        gatheringDone = true
        hub.emit(.candidate(nil))
        hub.emit(.gathering(.complete))
        hub.process(.localGatheringDone(stream: stream))
        if let agent, !config.relays.isEmpty {
            let relays = LibNice.localCandidateLines(agent, stream: stream, component: 1).filter { $0.contains(" typ relay") }
            reportMissingRelays(relayCandidates: relays.count)
        }
    }

    func onSelectedPair(stream: UInt32, component: UInt32, local: String, remote: String) {
        guard context.isCurrent else {
            context.execute { [self] in onSelectedPair(stream: stream, component: component, local: local, remote: remote) }
            return
        }
        selectedMask.bitwiseOr(1 << component, ordering: .relaxed)
        guard let l = try? IceCandidate(parsing: local), let r = try? IceCandidate(parsing: remote) else {
            logger.error("cannot parse selected pair \(local) / \(remote)")
            return
        }
        let pair = CandidatePair(component: Int(component), local: l, remote: r)
        logger.debug("selected pair \(pair)")
        boundTcpSendQueue(local: l, remote: r)
        if let size = config.base.receiveSocketBufferSize, l.transport == .udp {
            // A later job: this runs inside libnice's signal, and the call takes the agent lock.
            context.execute { [self] in raiseReceiveBuffer(stream: stream, component: component, bytes: size) }
        }
        hub.emit(.selectedPair(pair))
    }

    /// The kernel receive buffer of the selected pair's socket of `component` (tests), read on the
    /// context thread; nil before a pair is selected.
    func selectedReceiveBuffer(component: UInt32) async -> Int? {
        await withCheckedContinuation { (k: CheckedContinuation<Int?, Never>) in
            context.execute { [self] in
                guard let agent, !tornDown else { return k.resume(returning: nil) }
                k.resume(returning: LibNice.selectedSocketReceiveBuffer(agent, stream: stream, component: component))
            }
        }
    }

    /// Applies ``IceTransport/Configuration/receiveSocketBufferSize`` to the selected pair's socket
    /// (context thread).
    private func raiseReceiveBuffer(stream: UInt32, component: UInt32, bytes: Int) {
        guard let agent, !tornDown else { return }
        let granted = LibNice.setSelectedSocketReceiveBuffer(agent, stream: stream, component: component, bytes: bytes)
        logger.debug("component \(component): socket receive buffer \(granted.map { "\($0) bytes granted" } ?? "unchanged (no socket)") for \(bytes) asked")
    }

    /// Bounds the kernel send queue of the selected pair's TCP connection (ICE-TCP: to the remote
    /// candidate; a relay: to the TCP or TLS TURN servers), so consent checks and their responses,
    /// which libnice sends on that connection behind the data, wait behind at most
    /// ``tcpNotSentLowWater`` unsent bytes plus what is in flight (issue 17 §6).
    private func boundTcpSendQueue(local: IceCandidate, remote: IceCandidate) {
        guard sendsOnContext else { return }
        var peers: [(String, UInt16)] = []
        if local.transport == .tcp {
            peers = [(remote.address, remote.port)]
        } else if local.type == .relay {
            peers = relayServers.filter { $0.0.url.transport == .tcp || $0.0.url.scheme == .turns }.map { ($0.1, $0.0.url.port) }
        }
        for (ip, port) in peers {
            let n = LibNice.boundTcpSendQueue(peerIP: ip, port: port, sendBytes: Self.tcpSendBufferCap, notSentLowWater: Self.tcpNotSentLowWater)
            logger.debug("bounded the send queue of \(n) TCP socket(s) to \(ip) port \(port)")
        }
    }

    func onReceive(component: UInt32, _ bytes: UnsafeRawBufferPointer) {
        // Counted where libnice hands the datagram over, before it is routed (to the receive
        // handler and streams, or to a layer above ICE): the wire's count, W3C's packetsReceived.
        arrivedDatagrams.wrappingAdd(1, ordering: .relaxed)
        arrivedBytes.wrappingAdd(UInt64(bytes.count), ordering: .relaxed)
        hub.received(bytes, component: Int(component))
    }

    // MARK: Stats (context thread)

    struct AgentSnapshot: Sendable {
        var local: [IceCandidate] = []
        var remote: [IceCandidate] = []
        var componentStates: [Int: String] = [:]
    }

    func snapshot() -> AgentSnapshot {
        context.assertCurrent()
        var s = AgentSnapshot()
        guard let agent, !tornDown else { return s }
        for component in components {
            s.local += LibNice.localCandidateLines(agent, stream: stream, component: component).compactMap { try? IceCandidate(parsing: $0) }
            s.remote += LibNice.remoteCandidateLines(agent, stream: stream, component: component).compactMap { try? IceCandidate(parsing: $0) }
            if let state = LibNice.componentState(agent, stream: stream, component: component) {
                s.componentStates[Int(component)] = LibNice.stateName(state)
            }
        }
        return s
    }

    // MARK: Send (any thread)

    func send(_ bytes: UnsafeRawBufferPointer, component: UInt32) -> Result<Void, IceError> {
        if sendsOnContext { return enqueue(bytes, component: component) }
        return sendState.withLock { s in
            // No agent: not set up yet (set-up is asynchronous) or torn down (the caller checked close).
            guard let agent = s.agent else {
                return .failure(IceError(.notConnected, field: "component", reason: "no candidate pair is selected yet"))
            }
            guard selectedMask.load(ordering: .relaxed) & (1 << component) != 0 else {
                return .failure(Self.noPair(component))
            }
            let n = LibNice.send(agent, stream: s.stream, component: component, bytes)
            guard n == Int32(bytes.count) else {
                droppedDatagrams.wrappingAdd(1, ordering: .relaxed)
                return .failure(IceError(.sendFailed, reason: n < 0 ? "libnice refused the datagram (consent revoked or socket error)" : "short send (\(n) of \(bytes.count) bytes)"))
            }
            sentDatagrams.wrappingAdd(1, ordering: .relaxed)
            sentBytes.wrappingAdd(UInt64(bytes.count), ordering: .relaxed)
            return .success(())
        }
    }

    private static func noPair(_ component: UInt32) -> IceError {
        IceError(.notConnected, field: "component", reason: "no candidate pair is selected for component \(component)")
    }

    /// Copies the datagram into the send queue; one context job drains it (see ``drainSends()``).
    private func enqueue(_ bytes: UnsafeRawBufferPointer, component: UInt32) -> Result<Void, IceError> {
        guard selectedMask.load(ordering: .relaxed) & (1 << component) != 0 else { return .failure(Self.noPair(component)) }
        let copy = [UInt8](bytes)
        let now = DispatchTime.now().uptimeNanoseconds
        let outcome = sendQueue.withLock { q -> Result<Bool, IceError> in
            guard !q.full else {
                return .failure(IceError(.sendQueueFull, reason: "\(q.bytes) bytes in \(q.items.count) datagrams are waiting for the socket"))
            }
            q.push(copy, component: component, queued: now)
            defer { q.drainScheduled = true }
            return .success(!q.drainScheduled)
        }
        switch outcome {
        case .failure(let error):
            return .failure(error)
        case .success(let schedule):
            if schedule { context.execute { [self] in drainSends() } }
            return .success(())
        }
    }

    /// Returns once the send queue has room (at once if it has), or the connection is torn down.
    func waitForSendRoom() async {
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let wait = sendQueue.withLock { q -> Bool in
                guard q.full, !tornDownFlag.load(ordering: .acquiring) else { return false }
                q.roomWaiters.append(k)
                return true
            }
            if !wait { k.resume() }
        }
    }

    /// Whether a datagram queued at `queued` has waited longer than ``sendQueueMaxWait`` at `now`
    /// (uptime nanoseconds). A datagram queued after `now` was read (a sender appended it while a
    /// drain ran) is not stale: the unsigned difference must not wrap around, which dropped such a
    /// datagram at once (seen as a lost datagram over ICE-TCP in a clean-clone CI run).
    static func isStale(queued: UInt64, now: UInt64) -> Bool {
        now > queued && now - queued > sendQueueMaxWait
    }

    /// Sends one slice of the queue (context thread): at most ``drainSlice`` datagrams, oldest
    /// first, dropping those older than ``sendQueueMaxWait``. When libnice refuses one (its TCP
    /// socket would block, or consent is lost) the datagram stays at the head and the drain retries
    /// after ``blockedRetry``; what is still queued then is sent by a later job, so the context
    /// thread is never held for the whole queue and the datagrams wait here, bounded, not in
    /// libnice or the kernel ahead of STUN.
    private func drainSends() {
        context.assertCurrent()
        guard let agent, !tornDown else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        var sent: UInt64 = 0
        var bytes: UInt64 = 0
        var stale: UInt64 = 0
        var blocked = false
        var slice = 0
        while slice < Self.drainSlice {
            let head = sendQueue.withLock { $0.popFirst() }
            guard let item = head else { break }
            if Self.isStale(queued: item.queued, now: now) {
                stale += 1
                continue
            }
            slice += 1
            let n = item.bytes.withUnsafeBytes { LibNice.send(agent, stream: stream, component: item.component, $0) }
            guard n == Int32(item.bytes.count) else {
                sendQueue.withLock { $0.pushFront(item) }
                blocked = true
                break
            }
            sent += 1
            bytes += UInt64(n)
        }
        let (more, waiters) = sendQueue.withLock { q in
            let more = !q.items.isEmpty
            q.drainScheduled = more
            let waiters = q.full ? [] : q.roomWaiters
            if !q.full { q.roomWaiters = [] }
            return (more, waiters)
        }
        waiters.forEach { $0.resume() }
        sentDatagrams.wrappingAdd(sent, ordering: .relaxed)
        sentBytes.wrappingAdd(bytes, ordering: .relaxed)
        if stale > 0 {
            droppedDatagrams.wrappingAdd(stale, ordering: .relaxed)
            logger.debug("dropped \(stale) datagrams that waited over \(Self.sendQueueMaxWait / 1_000_000) ms for the socket")
        }
        guard more else { return }
        if blocked {
            context.schedule(after: Self.blockedRetry) { [self] in drainSends() }
        } else {
            context.execute { [self] in drainSends() }
        }
    }
}
