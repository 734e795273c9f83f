// One ICE-JSONL peer around a NiceICE IceTransport.
import Dispatch
import Foundation
import Logging
import NiceICE
import NiceWebRTC
import Synchronization

final class Peer: Sendable {
    let options: Options
    let connection: IceTransport
    /// With --dtls (docs/dtls-jsonl.md): the DTLS transport that carries the datagrams.
    let dtls: DtlsTransport?
    private let output = ProtocolOutput()
    private let started: ContinuousClock.Instant
    private let logger: Logger
    /// Runs every IceTransport handler and every stdin message, in order.
    private let queue = DispatchQueue(label: "ice-peer.events")
    private let closeRequests = AsyncStream.makeStream(of: String.self)
    private let stopSending = Atomic<Bool>(false)

    /// How often `got` is written at most while datagrams keep arriving.
    static let gotInterval: Duration = .milliseconds(50)

    private struct State {
        var lastState: IceConnectionState?
        var lastDtlsState: DtlsTransportState?
        var sending = false
        var received = 0
        var receivedBytes = 0
        var corrupted = 0
        var reported: (n: Int, bytes: Int) = (0, 0)
        var lastGotWrite: ContinuousClock.Instant?
        var gotFlushScheduled = false
    }
    private let state = Mutex(State())

    init(options: Options, started: ContinuousClock.Instant) throws(IceError) {
        self.options = options
        self.started = started
        var logger = Logger(label: "ice-peer")
        logger[metadataKey: "name"] = "\(options.name)"
        self.logger = logger

        var configuration = IceTransport.Configuration(
            role: options.controlling ? .controlling : .controlled,
            localAddresses: [options.bind])
        if let stun = options.stun {
            configuration.iceServers.append(IceServer(url: "stun:" + stun))
        }
        if let turn = options.turn {
            configuration.iceServers.append(
                IceServer(url: "turn:" + turn, username: options.turnUser, credential: options.turnPass))
        }
        if options.relayOnly {
            configuration.iceTransportPolicy = .relay
        }
        configuration.iceLite = options.lite
        connection = try IceTransport(configuration: configuration)
        if let role = options.dtlsRole {
            do throws(DtlsError) {
                let certificate = try Certificate.generate()
                dtls = try DtlsTransport(
                    iceTransport: connection,
                    configuration: .init(certificate: certificate, role: role == "client" ? .client : .server, handshakeTimeout: .seconds(10)),
                    logger: logger)
            } catch {
                throw IceError(.invalidConfiguration, field: "dtls", reason: "\(error)")
            }
        } else {
            dtls = nil
        }
    }

    private var ms: Int {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    // MARK: Running

    /// Writes `cred` and the initial state, starts the handlers and the stdin reader, and returns
    /// when the bridge asks to close (`{"t":"close"}` or EOF on stdin).
    func run() async {
        let local = connection.localParameters
        output.send("cred", ["ufrag": .string(local.usernameFragment), "pwd": .string(local.password)])
        queue.sync { writeState(connection.iceConnectionState) }
        if let dtls { startDtls(dtls) }

        connection.stateUpdateHandler = { change in self.stateChanged(change) }
        connection.candidateHandler = { candidate in
            if let candidate {
                self.output.send("cand", ["c": .string(candidate.candidateLine)])
            } else {
                self.output.send("eoc")
            }
        }
        connection.selectedPairHandler = { pair in
            self.logger.info("selected pair \(pair)")
            guard pair.component == 1 else { return }
            self.output.send("pair", ["local": .string(pair.local.type.rawValue), "remote": .string(pair.remote.type.rawValue)])
        }
        connection.receiveHandler = { datagram in self.received(datagram) }
        connection.start(queue: queue)

        startStdinReader()

        var why = "stdin closed"
        for await reason in closeRequests.stream {
            why = reason
            break
        }
        logger.info("closing: \(why)")
        await close()
    }

    private func close() async {
        stopSending.store(true, ordering: .releasing)
        if let dtls {
            let failed = dtls.state == .failed
            dtls.close()  // close_notify when connected; closes the ICE connection too
            if !failed { queue.sync { writeDtlsState(.closed, reason: "closed") } }
        }
        await connection.closeAndWait()  // handlers fall silent: the totals below are final
        queue.sync { writeGot() }  // the last totals, if not written yet
        let totals = state.withLock { ($0.received, $0.receivedBytes, $0.corrupted) }
        if options.checkPattern {
            logger.info("received \(totals.0) datagrams (\(totals.1) bytes) following the payload pattern, \(totals.2) corrupted")
        } else {
            logger.info("received \(totals.0) datagrams (\(totals.1) bytes)")
        }
        output.send("state", ["s": .string(IceConnectionState.closed.rawValue), "ms": .int(ms)])
    }

    // MARK: Events (on `queue`)

    private func writeState(_ s: IceConnectionState) {
        let changed = state.withLock { st -> Bool in
            guard st.lastState != s else { return false }
            st.lastState = s
            return true
        }
        if changed {
            output.send("state", ["s": .string(s.rawValue), "ms": .int(ms)])
        }
    }

    private func stateChanged(_ change: IceStateChange) {
        logger.info("ICE state \(change)")
        writeState(change.state)
        if dtls == nil, change.state == .connected || change.state == .completed {
            let start = state.withLock { st -> Bool in
                defer { st.sending = true }
                return !st.sending
            }
            if start { startSending() }
        }
    }

    /// Counts every datagram, whatever it holds; only with `--check-pattern` is one that breaks
    /// `Payload`'s pattern judged corrupted and left out of `got`.
    private func received(_ datagram: Datagram) {
        let corrupted = options.checkPattern && !Payload.isIntact(datagram.bytes)
        state.withLock { st in
            if corrupted {
                st.corrupted += 1
            } else {
                st.received += 1
                st.receivedBytes += datagram.bytes.count
            }
        }
        if corrupted {
            logger.warning("datagram of \(datagram.bytes.count) bytes does not follow the payload pattern; not counted")
            return
        }
        reportGot()
    }

    /// Writes `got` at once if the last one is at least `gotInterval` old, otherwise schedules one
    /// for when it will be: at most one `got` per interval, and the final totals within one interval.
    private func reportGot() {
        let now = ContinuousClock.now
        let delay = state.withLock { st -> Duration? in
            guard let last = st.lastGotWrite, now - last < Self.gotInterval else { return .zero }
            if st.gotFlushScheduled { return nil }
            st.gotFlushScheduled = true
            return Self.gotInterval - (now - last)
        }
        guard let delay else { return }
        if delay == .zero {
            writeGot()
        } else {
            let (s, atto) = delay.components
            let nanos = Int(s) * 1_000_000_000 + Int(atto / 1_000_000_000)
            queue.asyncAfter(deadline: .now() + .nanoseconds(nanos)) {
                self.state.withLock { $0.gotFlushScheduled = false }
                self.writeGot()
            }
        }
    }

    private func writeGot() {
        let totals = state.withLock { st -> (Int, Int)? in
            guard st.received != st.reported.n || st.receivedBytes != st.reported.bytes else { return nil }
            st.reported = (st.received, st.receivedBytes)
            st.lastGotWrite = .now
            return (st.received, st.receivedBytes)
        }
        if let totals {
            output.send("got", ["n": .int(totals.0), "bytes": .int(totals.1)])
        }
    }

    // MARK: DTLS (--dtls)

    private func startDtls(_ dtls: DtlsTransport) {
        var local = dtls.localParameters
        if options.badFingerprint, let wrong = try? DtlsFingerprint(algorithm: .sha256, digest: (0..<32).map { _ in .random(in: 0...255) }) {
            local.fingerprints = [wrong]
        }
        output.send("dtls", ["setup": .string(local.role.setupValue), "fingerprint": .string(local.fingerprints[0].description)])
        queue.sync { writeDtlsState(.new, reason: "created") }
        dtls.stateUpdateHandler = { change in
            self.logger.info("DTLS state \(change)")
            let reason = change.state == .connected ? (dtls.cipherSuite ?? "connected") : change.reason.map { "\($0)" } ?? ""
            self.writeDtlsState(change.state, reason: reason)
            if change.state == .connected {
                let start = self.state.withLock { st -> Bool in
                    defer { st.sending = true }
                    return !st.sending
                }
                if start { self.startSending() }
            }
        }
        dtls.receiveHandler = { datagram in self.received(datagram) }
        dtls.start(queue: queue)
    }

    private func writeDtlsState(_ s: DtlsTransportState, reason: String) {
        let changed = state.withLock { st -> Bool in
            guard st.lastDtlsState != s else { return false }
            st.lastDtlsState = s
            return true
        }
        if changed {
            output.send("dtls-state", ["s": .string(s.rawValue), "reason": .string(reason), "ms": .int(ms)])
        }
    }

    private func applyRemoteDtls(_ object: [String: Any]) {
        guard let dtls else {
            logger.notice("ignoring remote 'dtls': this peer runs without --dtls")
            return
        }
        do throws(DtlsError) {
            guard let setup = object["setup"] as? String, let text = object["fingerprint"] as? String else {
                throw DtlsError(.invalidParameters, field: "dtls", reason: "needs setup and fingerprint strings")
            }
            let remote = DtlsParameters(role: try DtlsRole(setup: setup), fingerprints: [try DtlsFingerprint(parsing: text)])
            try dtls.setRemoteParameters(remote)
        } catch {
            logger.warning("could not apply remote 'dtls': \(error)")
            writeDtlsState(.failed, reason: "\(error)")
        }
    }

    // MARK: Sending

    /// Sends `--count` datagrams of `--size` bytes on a thread of its own, paced at bursts of 10 every
    /// 10 ms (about 1,000 datagrams/s): ICE-JSONL has no flow control, and a receiver starved of CPU
    /// for a while (a busy CI machine) must not lose datagrams to a full socket buffer. A default
    /// 208 KiB buffer holds about 160 ms of this rate.
    private func startSending() {
        let (count, size) = (options.count, options.size)
        guard count > 0 else { return }
        logger.info("sending \(count) datagrams of \(size) bytes")
        Thread.detachNewThread {
            let began = ContinuousClock.now
            var sent = 0
            var index = 0
            let giveUp = ContinuousClock.now + .seconds(30)
            while index < count, !self.stopSending.load(ordering: .acquiring), ContinuousClock.now < giveUp {
                do throws(IceError) {
                    let bytes = Payload.datagram(index: index, size: size)
                    if let dtls = self.dtls {
                        do throws(DtlsError) { try dtls.send(bytes) } catch {
                            if error.code == .closed { break }
                            throw IceError(.sendFailed, reason: "\(error)")
                        }
                    } else {
                        try self.connection.send(bytes)
                    }
                    sent += 1
                    index += 1
                    if index % 10 == 0 { usleep(10_000) }
                } catch {
                    if error.code == .closed { break }
                    // notConnected / sendFailed may be transient (pair switching): retry shortly.
                    self.logger.debug("send \(index) failed: \(error); retrying")
                    usleep(10_000)
                }
            }
            self.logger.info("sent \(sent) of \(count) datagrams in \(ContinuousClock.now - began)")
        }
    }

    // MARK: Signalling input

    private func startStdinReader() {
        Thread.detachNewThread {
            while let line = readLine(strippingNewline: true) {
                self.queue.async { self.handle(line) }
            }
            self.queue.async { self.closeRequests.continuation.yield("EOF on stdin") }
        }
    }

    private func handle(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
            let type = object["t"] as? String
        else {
            logger.warning("ignoring stdin line that is not a JSON object with a \"t\" string: \(trimmed.prefix(200))")
            return
        }
        do throws(IceError) {
            switch type {
            case "cred":
                guard let ufrag = object["ufrag"] as? String, let pwd = object["pwd"] as? String else {
                    logger.warning("ignoring cred without ufrag/pwd strings")
                    return
                }
                logger.debug("remote credentials, ufrag \(ufrag)")
                try connection.setRemoteParameters(IceParameters(usernameFragment: ufrag, password: pwd))
            case "cand":
                guard var text = object["c"] as? String else {
                    logger.warning("ignoring cand without a \"c\" string")
                    return
                }
                if !text.hasPrefix("candidate:") && !text.hasPrefix("a=") { text = "candidate:" + text }
                logger.debug("remote candidate \(text)")
                try connection.addIceCandidate(IceCandidate(parsing: text))
            case "eoc":
                logger.debug("remote end-of-candidates")
                try connection.addIceCandidate(nil)
            case "dtls":
                applyRemoteDtls(object)
            case "close":
                closeRequests.continuation.yield("close requested")
            default:
                logger.notice("ignoring message of unknown type '\(type)'")
            }
        } catch {
            logger.warning("could not apply remote '\(type)': \(error)")
        }
    }
}
