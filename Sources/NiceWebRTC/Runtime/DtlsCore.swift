import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// The owner of one DTLS session: the lock it runs under, its timers, and its place on top of the
/// ICE connection's component 1 (``IceUpperLayer``).
///
/// **Threads.** Everything OpenSSL does for this session happens inside `locked`, so never
/// on two threads at once. The context thread runs the handshake, received records and timers
/// (libnice's receive callback, GLib timeouts); a user thread that calls `send` encrypts its own
/// datagram under the same lock and, once it is released, hands it to ICE (as an ICE send, it never
/// blocks). `setRemote` may replay early records and start a server's handshake on the caller's
/// thread, under the same lock.
/// No user code runs under the lock or on the context thread: events go to ``DtlsHub``, which
/// delivers them on the user's queue.
///
/// Lock order: `engine` → the connection's state locks (reads only) → the hub's and inbox's locks.
/// No call that can re-enter runs under `engine`: the datagrams OpenSSL writes are collected in the
/// ``Outbox`` and given to `IceTransport.send` (→ `nice_agent_send`, which emits libnice's queued
/// signals inline) only after the lock is released, and so is everything handed to the layer above.
final class DtlsCore: IceUpperLayer, Sendable {
    /// The datagrams OpenSSL produced during one locked operation, sent to ICE after the lock is
    /// released: `nice_agent_send` emits libnice's queued signals at its end, inline on the context
    /// thread, and one of them (ICE `closed`) comes back to ``iceStateDidChange()`` → this lock.
    /// Not Sendable: touched only under the engine lock (filled by the session's `output`).
    final class Outbox {
        var datagrams: [[UInt8]] = []
    }

    struct Engine {
        var session: DtlsSession?
        var outbox = Outbox()
        /// The configured role, then the decided one.
        var role: DtlsRole
        var remote: DtlsParameters?
        var change = DtlsTransportStateChange(state: .new, reason: nil)
        var connection = PeerConnectionState.new
        /// DTLS records that arrived before the session existed (the peer's ClientHello can beat
        /// the answer that tells us our role); bounded.
        var early: [[UInt8]] = []
        var timerPending = false
        var deadlineArmed = false
        var handshakeStartedAt: ContinuousClock.Instant?
        var handshakeDuration: Duration?
        var closed = false
        /// With a layer above (SCTP): plaintext and state news collected under the lock, handed up
        /// after it is released (the layer calls back into ``send(_:)``).
        var hasUpper = false
        var upward: [[UInt8]] = []
        var upperNews = false
        /// With a media layer (SRTP): state news for it, handed over after the lock is released.
        var hasMedia = false
        var mediaNews = false
    }

    static let earlyLimit = 16

    let connection: IceTransport
    let identity: CertificateIdentity
    let hub: DtlsHub
    let logger: Logger
    let handshakeTimeout: Duration
    private let engine: Confined<Engine>
    private let upper = Locked(DtlsUpperSlot())
    /// The media layer (``SrtpCore``), if any: RFC 7983's RTP/RTCP datagrams go to it; without one
    /// they are dropped as non-DTLS, as before media existed.
    private let media = Locked(DtlsMediaSlot())
    /// Someone sends the outbox now / the outbox got more since (see ``drainWire()``).
    private let wireBusy = Atomic<Bool>(false)
    private let wirePending = Atomic<Bool>(false)

    let sentDatagrams = Atomic<UInt64>(0)
    let sentBytes = Atomic<UInt64>(0)
    let sendFailures = Atomic<UInt64>(0)
    let nonDtlsDropped = Atomic<UInt64>(0)
    let earlyDropped = Atomic<UInt64>(0)
    /// Records kept for the handshake because they arrived before the session existed (tests read it).
    let earlyBuffered = Atomic<UInt64>(0)

    init(connection: IceTransport, identity: CertificateIdentity, role: DtlsRole, handshakeTimeout: Duration, receiveLimit: Int, logger: Logger) {
        self.connection = connection
        self.identity = identity
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
        hub = DtlsHub(receiveLimit: receiveLimit, context: connection.context)
        engine = Confined(Engine(role: role))
        LiveObjects.born(.dtlsCore)
    }

    deinit { LiveObjects.died(.dtlsCore) }

    /// Runs `body` under the engine lock; then, with no lock held, sends the datagrams it produced
    /// to ICE and hands what it collected for the layer above to that layer.
    private func locked<R, E: Error>(_ body: (inout Engine) throws(E) -> R) throws(E) -> R {
        try lockedSending(body).result.get()
    }

    /// ``locked(_:)``, also returning the first error ICE reported for the datagrams this thread sent.
    private func lockedSending<R, E: Error>(_ body: (inout Engine) throws(E) -> R) -> (result: Result<R, E>, sendError: IceError?) {
        var upward: [[UInt8]] = []
        var news = false
        var mediaNews = false
        var produced = false
        let result = engine.withLock { (e: inout Engine) -> Result<R, E> in
            defer {
                produced = !e.outbox.datagrams.isEmpty
                mediaNews = e.mediaNews
                e.mediaNews = false
                if e.hasUpper {
                    upward = e.upward
                    news = e.upperNews
                    e.upward = []
                    e.upperNews = false
                }
            }
            do throws(E) {
                return .success(try body(&e))
            } catch {
                return .failure(error)
            }
        }
        let sendError = produced ? drainWire() : nil
        if news || !upward.isEmpty, let layer = upper.withLock({ $0.layer }) {
            if news { layer.dtlsStateDidChange() }
            for packet in upward { packet.withUnsafeBytes { layer.dtlsDidReceive($0) } }
        }
        if mediaNews { tellMedia() }
        return (result, sendError)
    }

    /// Sends the outbox to ICE in the order OpenSSL wrote it, with no DTLS lock held. One thread
    /// drains at a time (`wireBusy`); a thread that finds it busy leaves its datagrams to the
    /// drainer, which looks again (`wirePending`) after every turn, so a handshake's last flight
    /// always goes out before application data written after it (found by the aiortc interop), and
    /// a call that re-enters from inside `nice_agent_send` never waits for itself.
    private func drainWire() -> IceError? {
        wirePending.store(true, ordering: .sequentiallyConsistent)
        var firstError: IceError?
        for _ in 0..<1_000 {  // each turn sends what was queued; bounded all the same
            guard wirePending.load(ordering: .sequentiallyConsistent) else { break }
            guard wireBusy.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { break }
            wirePending.store(false, ordering: .sequentiallyConsistent)
            while true {
                let batch = engine.withLock { (e: inout Engine) -> [[UInt8]] in
                    defer { e.outbox.datagrams = [] }
                    return e.outbox.datagrams
                }
                if batch.isEmpty { break }
                for datagram in batch {
                    do throws(IceError) {
                        try connection.send(datagram)
                    } catch {
                        if firstError == nil { firstError = error }
                    }
                }
            }
            wireBusy.store(false, ordering: .sequentiallyConsistent)
        }
        return firstError
    }

    /// Attaches the layer above (SCTP). False when one is attached already or the session closed.
    func attachUpperLayer(_ layer: any DtlsUpperLayer) -> Bool {
        let attached = engine.withLock { e -> Bool in
            guard !e.hasUpper, !e.closed else { return false }
            e.hasUpper = true
            return true
        }
        if attached { upper.withLock { $0.layer = layer } }
        return attached
    }

    /// The connection's ICE state changed: tell the layer above as well (its own thread rules).
    private func tellUpper() {
        upper.withLock { $0.layer }?.dtlsStateDidChange()
        tellMedia()
    }

    enum MediaAttach { case attached, taken, closed }

    /// Attaches the media layer (SRTP), once per transport, before the transport closed.
    func attachMediaLayer(_ layer: any DtlsMediaLayer) -> MediaAttach {
        let outcome = engine.withLock { e -> MediaAttach in
            if e.closed { return .closed }
            if e.hasMedia { return .taken }
            e.hasMedia = true
            return .attached
        }
        if outcome == .attached { media.withLock { $0.layer = layer } }
        return outcome
    }

    /// Tells the media layer to read the DTLS state again (no DTLS lock held).
    private func tellMedia() {
        media.withLock { $0.layer }?.dtlsStateDidChange()
    }

    // MARK: Reads

    var role: DtlsRole { locked { $0.role } }
    var change: DtlsTransportStateChange { locked { $0.change } }
    var connectionState: PeerConnectionState { locked { $0.connection } }
    var remoteParameters: DtlsParameters? { locked { $0.remote } }
    var presentedFingerprint: DtlsFingerprint? { locked { e in e.session?.verified == true ? e.session?.presented : nil } }
    var cipherName: String? { locked { $0.session?.cipherName } }
    var srtpProfileName: String? { locked { $0.session?.srtpProfileName } }

    /// The DTLS-SRTP keys of the connected session and whether we are its DTLS client (whose write
    /// keys we protect with, RFC 5764 §4.2); nil before `connected`, after close or failure, and
    /// when the peer negotiated no SRTP profile. Exported anew on each call: only the media layer
    /// asks, once; nothing else keeps them.
    var srtpKeys: (keys: DtlsSrtpKeys, localIsClient: Bool)? {
        locked { e in
            guard e.change.state == .connected, !e.closed, let session = e.session, let keys = session.srtpKeys() else { return nil }
            return (keys, session.role == .client)
        }
    }
    var handshakeDuration: Duration? { locked { $0.handshakeDuration } }
    var malformedDropped: Int { locked { $0.session?.malformedDropped ?? 0 } }

    // MARK: Signalling (any thread)

    func setRemote(_ remote: DtlsParameters, localRole: DtlsRole? = nil) throws(DtlsError) {
        guard !remote.fingerprints.isEmpty else {
            throw DtlsError(.invalidParameters, field: "fingerprints", reason: "the remote parameters carry no fingerprint")
        }
        try locked { (e: inout Engine) throws(DtlsError) in
            guard !e.closed else { throw DtlsError(.closed, reason: "the transport is closed") }
            if let current = e.remote {
                // Signalling the same parameters again (a renegotiation, an ICE restart's new
                // offer) keeps the session; new ones would need a new handshake.
                guard current.fingerprints == remote.fingerprints else {
                    throw DtlsError(.invalidState, field: "fingerprints", reason: "the remote certificate cannot change during a session")
                }
                return
            }
            // A role decided by the negotiation (PeerConnection) replaces `.auto`.
            if let localRole, e.role == .auto { e.role = localRole }
            let local = try Self.decide(local: e.role, remote: remote.role)
            let session = try DtlsSession(identity: identity, role: local == .client ? .client : .server, expected: remote.fingerprints)
            let outbox = e.outbox
            session.output = { bytes in outbox.datagrams.append(Array(bytes)) }
            e.role = local
            e.remote = remote
            e.session = session
            logger.debug("DTLS role \(local.rawValue), \(remote.fingerprints.count) remote fingerprint(s)")
            let early = e.early
            e.early = []
            for record in early {
                record.withUnsafeBytes { receive($0, &e) }
            }
            advance(&e)
        }
    }

    /// RFC 8842 §5.3: a decided role is answered by the opposite one, and `actpass` by `active` (the
    /// client): the one rule of ``DtlsRole/answering(_:)``, the same that writes our answer's
    /// `a=setup`, whatever the ICE roles are (with an ICE-lite offer the answerer is ICE-controlling
    /// and must still be the client it wrote; issue 17 §9).
    static func decide(local: DtlsRole, remote: DtlsRole) throws(DtlsError) -> DtlsRole {
        switch (local, remote) {
        case (.auto, let r): return DtlsRole.answering(r)
        case (let l, .auto): return l
        case (let l, let r) where l != r: return l
        default:
            throw DtlsError(.invalidParameters, field: "role", reason: "both sides want to be the DTLS \(local.rawValue)")
        }
    }

    // MARK: From ICE

    func iceDidReceive(_ bytes: UnsafeRawBufferPointer) {
        switch DatagramClass(firstByteOf: bytes) {
        case .dtls:
            break
        case .rtp:
            // RFC 7983: SRTP/SRTCP on the same component goes to the media layer, which
            // authenticates it (no DTLS lock held: it may read our keys and state).
            if let layer = media.withLock({ $0.layer }) {
                layer.dtlsDidReceiveMedia(bytes)
                return
            }
            nonDtlsDropped.wrappingAdd(1, ordering: .relaxed)
            return
        default:
            // Only DTLS (and, with a media layer, SRTP) may use this component now: a plain
            // datagram is not authenticated.
            nonDtlsDropped.wrappingAdd(1, ordering: .relaxed)
            return
        }
        locked { e in
            receive(bytes, &e)
            armTimer(&e)
        }
    }

    func iceStateDidChange() {
        if connection.iceConnectionState == .closed {
            closeLocally(sendCloseNotify: false)
            return
        }
        // Later, on the context thread: never inside the libnice signal that changed the state.
        connection.executeOnContext { [weak self] in
            guard let self else { return }
            locked { e in advance(&e) }
            tellUpper()
        }
    }

    // MARK: Sending (any thread)

    func send(_ plaintext: UnsafeRawBufferPointer) throws(DtlsError) {
        guard plaintext.count <= DtlsSession.maximumPlaintext else {
            throw DtlsError(
                .datagramTooLarge, field: "bytes",
                reason: "\(plaintext.count) bytes exceed the \(DtlsSession.maximumPlaintext)-byte DTLS record limit")
        }
        let (result, sendError) = lockedSending { (e: inout Engine) throws(DtlsError) in
            switch e.change.state {
            case .connected: break
            case .closed, .failed: throw DtlsError(.closed, reason: "the DTLS transport is \(e.change.state.rawValue)")
            case .new, .connecting: throw DtlsError(.notConnected, reason: "the DTLS handshake has not completed")
            }
            guard let session = e.session else { throw DtlsError(.notConnected, reason: "no session") }
            guard session.write(plaintext) else {
                throw DtlsError(.cryptoFailure, field: "bytes", reason: "OpenSSL refused to encrypt the datagram")
            }
        }
        try result.get()
        if let error = sendError {
            sendFailures.wrappingAdd(1, ordering: .relaxed)
            throw DtlsError(.sendFailed, field: error.field, reason: "ICE: \(error.code.rawValue): \(error.reason)")
        }
        sentDatagrams.wrappingAdd(1, ordering: .relaxed)
        sentBytes.wrappingAdd(UInt64(plaintext.count), ordering: .relaxed)
    }

    func exportKeyingMaterial(label: String, context: [UInt8]?, length: Int) throws(DtlsError) -> [UInt8] {
        guard (1...1024).contains(length) else {
            throw DtlsError(.invalidParameters, field: "length", reason: "must be 1...1024 bytes")
        }
        guard !label.isEmpty, label.utf8.count <= 255, !label.utf8.contains(0) else {
            throw DtlsError(.invalidParameters, field: "label", reason: "must be 1...255 bytes without NUL")
        }
        return try locked { (e: inout Engine) throws(DtlsError) in
            guard e.change.state == .connected, let session = e.session else {
                throw DtlsError(.notConnected, reason: "keying material exists only on a connected transport")
            }
            guard let out = session.exportKeyingMaterial(label: label, context: context, length: length) else {
                throw DtlsError(.cryptoFailure, field: "label", reason: "OpenSSL could not export keying material")
            }
            return out
        }
    }

    // MARK: Closing

    /// Ends the session (close_notify when asked and possible) and the hub: `closed`, no events.
    func closeLocally(sendCloseNotify: Bool) {
        let first = locked { e -> Bool in
            guard !e.closed else { return false }
            e.closed = true
            if sendCloseNotify { e.session?.close() }
            e.change = DtlsTransportStateChange(state: .closed, reason: nil)
            e.connection = .closed
            e.early = []
            return true
        }
        guard first else { return }
        logger.debug("DTLS closed")
        hub.close(ice: connection.lastIceStateChange)
        tellUpper()
    }

    // MARK: Inside (engine lock held)

    private func receive(_ bytes: UnsafeRawBufferPointer, _ e: inout Engine) {
        guard !e.closed else { return }
        guard let session = e.session else {
            if e.early.count < Self.earlyLimit && bytes.count <= 4096 {
                e.early.append(Array(bytes))
                earlyBuffered.wrappingAdd(1, ordering: .relaxed)
            } else {
                earlyDropped.wrappingAdd(1, ordering: .relaxed)
            }
            return
        }
        if e.change.state == .new { beginHandshake(&e) }  // a server's first ClientHello
        let inbox = hub.inbox
        let outcomes: [DtlsSession.Outcome]
        if e.hasUpper {
            var upward = e.upward
            outcomes = session.receive(bytes) { plaintext in upward.append(Array(plaintext)) }
            e.upward = upward
        } else {
            outcomes = session.receive(bytes) { plaintext in inbox.deliver(plaintext, component: 1) }
        }
        for outcome in outcomes { apply(outcome, &e) }
    }

    /// Starts the handshake once both ICE is connected and the remote parameters are known, and
    /// keeps the connection state current.
    private func advance(_ e: inout Engine) {
        guard !e.closed else { return }
        let ice = connection.iceConnectionState
        if e.change.state == .new, e.session != nil, ice == .connected || ice == .completed {
            beginHandshake(&e)
        }
        updateConnectionState(&e)
        armTimer(&e)
    }

    private func beginHandshake(_ e: inout Engine) {
        guard let session = e.session, e.handshakeStartedAt == nil else { return }
        e.handshakeStartedAt = .now
        transition(.connecting, .handshakeStarted, &e)
        armDeadline(&e)
        apply(session.start(), &e)
    }

    private func apply(_ outcome: DtlsSession.Outcome, _ e: inout Engine) {
        switch outcome {
        case .none:
            return
        case .connected:
            if let start = e.handshakeStartedAt { e.handshakeDuration = .now - start }
            logger.debug("DTLS connected: \(e.session?.cipherName ?? "?")")
            transition(.connected, .handshakeCompleted, &e)
        case .failed(let reason):
            logger.info("DTLS failed: \(reason)")
            transition(.failed, reason, &e)
        case .closedByPeer:
            transition(.closed, .closedByPeer, &e)
        }
    }

    private func transition(_ state: DtlsTransportState, _ reason: DtlsTransportStateReason?, _ e: inout Engine) {
        guard e.change.state != state else { return }
        e.change = DtlsTransportStateChange(state: state, reason: reason)
        e.upperNews = true
        e.mediaNews = e.hasMedia
        hub.emit(.dtls(e.change))
        updateConnectionState(&e)
    }

    private func updateConnectionState(_ e: inout Engine) {
        let ice = connection.lastIceStateChange
        let state = PeerConnectionState.aggregate(ice: ice.state, dtls: e.change.state)
        guard state != e.connection, state != .closed else { return }
        e.connection = state
        hub.emit(.connection(PeerConnectionStateChange(state: state, ice: ice, dtls: e.change)))
    }

    /// One GLib timeout at a time for OpenSSL's retransmission timer.
    private func armTimer(_ e: inout Engine) {
        guard !e.timerPending, !e.closed, e.change.state == .connecting || e.change.state == .connected,
            let us = e.session?.timeoutMicroseconds
        else { return }
        e.timerPending = true
        connection.scheduleOnContext(after: .microseconds(max(us, 1000))) { [weak self] in
            guard let self else { return }
            locked { e in
                e.timerPending = false
                guard !e.closed, let session = e.session else { return }
                apply(session.handleTimeout(), &e)
                armTimer(&e)
            }
        }
    }

    private func armDeadline(_ e: inout Engine) {
        guard !e.deadlineArmed else { return }
        e.deadlineArmed = true
        connection.scheduleOnContext(after: handshakeTimeout) { [weak self] in
            guard let self else { return }
            locked { e in
                guard !e.closed, e.change.state == .connecting || e.change.state == .new else { return }
                logger.info("DTLS handshake timed out after \(handshakeTimeout)")
                e.session?.close()
                transition(.failed, .handshakeTimeout, &e)
            }
        }
    }
}
