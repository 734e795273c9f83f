// The in-memory pair of DTLS sessions the DTLS fuzzer drives, and the invariants it checks.
//
// Built by Fuzz/dtls-run.sh into one module with Sources/NiceWebRTC/Binding/*.swift, so the
// internal `DtlsSession` and `CertificateIdentity` are visible. See main.swift for the input format.

#if canImport(Glibc)
import Glibc
#endif
import NiceWebRTCCore

// MARK: - Virtual clock

/// Microseconds added to the real time that OpenSSL's DTLS retransmission timers read. OpenSSL 3.0
/// reads the time with `gettimeofday` (ssl/d1_lib.c, `get_current_time`); this executable defines
/// that symbol, so libssl.so binds to it (an executable's definitions come first in ELF symbol
/// lookup). A TIMER operation advances the offset, and `handleTimeout()` then sees its timer
/// expired: retransmission runs without the fuzzer sleeping. Reset to 0 for every input (every
/// input has fresh sessions); nothing else in the process depends on `gettimeofday`.
nonisolated(unsafe) var virtualClockOffset: Int64 = 0

@_cdecl("gettimeofday")
public func virtualGettimeofday(_ tv: UnsafeMutablePointer<timeval>?, _ tz: UnsafeMutableRawPointer?) -> CInt {
    var now = timespec()
    _ = clock_gettime(CLOCK_REALTIME, &now)
    guard let tv else { return 0 }
    let us = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000 + virtualClockOffset
    tv.pointee = timeval(tv_sec: Int(us / 1_000_000), tv_usec: Int(us % 1_000_000))
    return 0
}

// MARK: - Feedback on OpenSSL's behaviour

// OpenSSL is not instrumented (the system's libssl), so libFuzzer's coverage sees only the Swift
// code. What OpenSSL did is made visible through libFuzzer's extra counters (the
// `__libfuzzer_extra_counters` section): the record types, epochs, handshake message types and
// plaintext alerts each session sends, every outcome and failure reason (OpenSSL's error string),
// and the phases and timer state after each operation. 2,048 one-byte counters, hashed into.
typealias Counters16 = (
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
)
typealias Counters256 = (
    Counters16, Counters16, Counters16, Counters16, Counters16, Counters16, Counters16, Counters16,
    Counters16, Counters16, Counters16, Counters16, Counters16, Counters16, Counters16, Counters16
)
@used @section("__libfuzzer_extra_counters")
nonisolated(unsafe) var extraCounters: Counters256 = (
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
)

enum Feedback {
    static let count = 2048

    static func hit(_ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0) {
        var h = a &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ b) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ c) &* 0x94D0_49BB_1331_11EB
        h = (h ^ d) &* 0x9E37_79B9_7F4A_7C15
        let i = Int((h >> 29) % UInt64(count))
        withUnsafeMutableBytes(of: &extraCounters) { counters in
            if counters[i] != 255 { counters[i] &+= 1 }
        }
    }

    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    /// A failure reason without its variable parts (a presented fingerprint would make every
    /// mutated certificate look new).
    static func reason(_ reason: DtlsTransportStateReason) -> UInt64 {
        switch reason {
        case .fingerprintMismatch: 1
        case .noPeerCertificate: 2
        case .handshakeTimeout: 3
        case .closedByPeer: 4
        case .peerAlert(let alert): hash("alert " + alert)
        case .protocolError(let error): hash(error)
        default: 5
        }
    }

    /// The records of a datagram a session sent: type, epoch, and in epoch 0 the handshake message
    /// type or the alert.
    static func datagram(_ d: [UInt8], from side: Side) {
        var offset = 0
        var index: UInt64 = 0
        while offset + 13 <= d.count, index < 16 {
            let type = UInt64(d[offset])
            let epoch = min(UInt64(d[offset + 3]) << 8 | UInt64(d[offset + 4]), 2)
            let length = Int(d[offset + 11]) << 8 | Int(d[offset + 12])
            var detail: UInt64 = 0
            if epoch == 0, offset + 14 < d.count {
                detail = type == 21 ? UInt64(d[offset + 13]) << 8 | UInt64(d[offset + 14]) : UInt64(d[offset + 13])
            }
            hit(1, UInt64(side.rawValue), type << 16 | epoch << 12 | detail, min(index, 3))
            offset += 13 + length
            index += 1
        }
        hit(1, UInt64(side.rawValue) | 0x100, index, UInt64(min(d.count / 256, 8)))
    }
}

// MARK: - Memory

/// AddressSanitizer's count of bytes allocated and not yet freed (the whole process: OpenSSL's
/// allocations included), or nil without ASan.
let allocatedBytes: (@convention(c) () -> Int)? = {
    guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__sanitizer_get_current_allocated_bytes") else { return nil }
    return unsafeBitCast(f, to: (@convention(c) () -> Int).self)
}()

// MARK: - Invariant violations

/// Reports a broken invariant on stderr (unbuffered, so it survives the trap) and traps, which
/// libFuzzer records as a crash with its reproducer.
func violation(_ message: String) -> Never {
    invariantViolated("NiceWebRTC DTLS", message)
}

// MARK: - The pair

enum Side: Int, CaseIterable, CustomStringConvertible {
    case server = 0
    case client = 1

    var peer: Side { self == .server ? .client : .server }
    var description: String { self == .server ? "server" : "client" }
}

/// The two certificates, made once per process.
struct Identities: Sendable {
    let server: CertificateIdentity
    let client: CertificateIdentity
    let serverFingerprint: DtlsFingerprint
    let clientFingerprint: DtlsFingerprint
    /// A sha-384 fingerprint no certificate has, listed first in each session's expected list (one
    /// matching fingerprint is enough).
    let decoy: DtlsFingerprint
}

let identities: Identities = {
    do {
        let server = try CertificateIdentity.generate(lifetime: .seconds(30 * 86_400))
        let client = try CertificateIdentity.generate(lifetime: .seconds(30 * 86_400))
        guard let sf = server.fingerprint(.sha256), let cf = client.fingerprint(.sha256) else {
            violation("no fingerprint for a generated certificate")
        }
        let decoy = try DtlsFingerprint(algorithm: .sha384, digest: [UInt8](repeating: 0xA5, count: 48))
        return Identities(server: server, client: client, serverFingerprint: sf, clientFingerprint: cf, decoy: decoy)
    } catch {
        violation("certificate set-up failed: \(error)")
    }
}()

/// Receives what both sessions send: a queue per sender (datagrams waiting to be delivered to the
/// other side, or dropped) and the capture of everything sent, which replays draw on.
final class Tap {
    struct Captured {
        let from: Side
        let bytes: [UInt8]
    }

    var queues: [[[UInt8]]] = [[], []]
    var captured: [Captured] = []

    func sent(_ bytes: UnsafeRawBufferPointer, from side: Side) {
        let datagram = [UInt8](bytes)
        Feedback.datagram(datagram, from: side)
        // Bounded like a socket buffer: beyond it, datagrams are lost.
        if queues[side.rawValue].count < Link.maximumQueued { queues[side.rawValue].append(datagram) }
        if captured.count < Link.maximumCaptured { captured.append(Captured(from: side, bytes: datagram)) }
    }
}

/// A server and a client session whose `output`s feed queues the fuzzer controls, with the
/// bookkeeping for the invariants.
final class Link {
    enum Mode: UInt8 {
        /// Hostile datagrams during a real handshake.
        case handshake = 0
        /// Hostile datagrams into an established session.
        case established = 1
    }

    static let maximumQueued = 64
    static let maximumCaptured = 256
    /// The largest application datagram the fuzzer writes (the tag included).
    static let maximumPlaintext = 2048

    let mode: Mode
    let sessions: [DtlsSession]
    let tap = Tap()
    /// What each side must see: the sha-256 fingerprint of the other side's certificate.
    let expected: [DtlsFingerprint]

    var lastPhase: [DtlsSession.Phase] = [.handshaking, .handshaking]
    var reportedConnected = [false, false]
    var closeCalled = [false, false]
    var failure: [DtlsTransportStateReason?] = [nil, nil]
    /// Application data by writer: tag → the whole plaintext (the tag is its first 4 bytes).
    var written: [[UInt32: [UInt8]]] = [[:], [:]]
    /// Tags delivered, by receiver.
    var deliveredTags: [Set<UInt32>] = [[], []]
    /// What the current `receive` delivered.
    var received: [[UInt8]] = []
    var nextTag: UInt32 = 0
    /// An operation ran that is not what a lossy, duplicating network does (raw bytes, mutation,
    /// concatenation, a side's own datagram reflected to it, close).
    var hostile = false
    /// The operations so far, for the violation message.
    var trace: [String] = []
    /// DTLS_FUZZ_TOLERATE_MASKED_OUTCOME=1: for exploring past the open bug of a `.connected`
    /// outcome that hides the session's end; off by default (and in Fuzz/dtls-run.sh).
    static let tolerateMaskedOutcome = getenv("DTLS_FUZZ_TOLERATE_MASKED_OUTCOME") != nil
    var maskedOutcome = false
    /// Allocated bytes before the sessions existed; what one input may add on top.
    let baseline = allocatedBytes?() ?? 0
    static let memoryLimit = 24 << 20

    init(mode: Mode) {
        self.mode = mode
        let id = identities
        let server: DtlsSession
        let client: DtlsSession
        do {
            server = try DtlsSession(identity: id.server, role: .server, expected: [id.decoy, id.clientFingerprint])
            client = try DtlsSession(identity: id.client, role: .client, expected: [id.decoy, id.serverFingerprint])
        } catch {
            violation("DtlsSession.init threw: \(error)")
        }
        sessions = [server, client]
        expected = [id.clientFingerprint, id.serverFingerprint]
        for side in Side.allCases {
            // The closure holds the tap, not the link or the session: no reference cycle.
            sessions[side.rawValue].output = { [tap] bytes in tap.sent(bytes, from: side) }
        }
    }

    func session(_ side: Side) -> DtlsSession { sessions[side.rawValue] }
    func phase(_ side: Side) -> DtlsSession.Phase { sessions[side.rawValue].phase }
    func queue(_ sender: Side) -> [[UInt8]] { tap.queues[sender.rawValue] }
    var bothConnected: Bool { phase(.server) == .connected && phase(.client) == .connected }

    func fail(_ message: String) -> Never {
        violation(
            "\(message)\n  mode \(mode), phases server \(phase(.server)) client \(phase(.client)), "
                + "failures server \(failure[0].map { "\($0)" } ?? "-") client \(failure[1].map { "\($0)" } ?? "-")\n"
                + "  operations: \(trace.suffix(40).joined(separator: " "))")
    }

    // MARK: Driving

    func start() {
        observe(session(.client).start(), at: .client, "start")
    }

    /// One datagram into `side`, as if from the network.
    @discardableResult
    func receive(_ bytes: [UInt8], at side: Side) -> DtlsSession.Outcome {
        received.removeAll(keepingCapacity: true)
        let s = session(side)
        let outcomes = bytes.withUnsafeBytes { buffer in
            s.receive(buffer) { plaintext in self.deliver(plaintext, at: side) }
        }
        // Two outcomes only as .connected then the end that followed in the same datagram.
        if outcomes.count > 2 || (outcomes.count == 2 && outcomes[0] != .connected) {
            fail("receive returned \(outcomes) for the \(side)")
        }
        for (i, outcome) in outcomes.enumerated() {
            observe(outcome, at: side, "receive", phase: i + 1 < outcomes.count ? .connected : nil)
        }
        if outcomes.isEmpty { observe(.none, at: side, "receive") }
        let outcome = outcomes.last ?? .none
        if let allocatedBytes, allocatedBytes() - baseline > Self.memoryLimit {
            fail("memory grew by \((allocatedBytes() - baseline) >> 20) MiB during one input (limit \(Self.memoryLimit >> 20) MiB)")
        }
        return outcome
    }

    /// Delivers up to `count` queued datagrams of `sender` to the other side.
    func step(from sender: Side, count: Int) {
        for _ in 0..<count {
            guard !tap.queues[sender.rawValue].isEmpty else { return }
            let datagram = tap.queues[sender.rawValue].removeFirst()
            receive(datagram, at: sender.peer)
        }
    }

    /// Delivers queued datagrams both ways, alternately, until none is left (at most `limit`).
    func drain(limit: Int = 128) {
        var delivered = 0
        while delivered < limit, !(queue(.client).isEmpty && queue(.server).isEmpty) {
            for sender in [Side.client, .server] where !tap.queues[sender.rawValue].isEmpty {
                step(from: sender, count: 1)
                delivered += 1
            }
        }
    }

    func drop(from sender: Side) {
        if !tap.queues[sender.rawValue].isEmpty { tap.queues[sender.rawValue].removeFirst() }
    }

    /// `side` writes a datagram: a fresh 4-byte tag, then `body`. Returns the plaintext when the
    /// session accepted it.
    @discardableResult
    func write(_ body: ArraySlice<UInt8>, from side: Side) -> [UInt8]? {
        let tag = nextTag
        nextTag &+= 1
        var plaintext = [UInt8(tag >> 24), UInt8(tag >> 16 & 0xFF), UInt8(tag >> 8 & 0xFF), UInt8(tag & 0xFF)]
        plaintext.append(contentsOf: body.prefix(Self.maximumPlaintext - 4))
        // Recorded before the write: the record is queued, not delivered, during it.
        written[side.rawValue][tag] = plaintext
        let s = session(side)
        let ok = plaintext.withUnsafeBytes { s.write($0) }
        if s.phase == .connected, !ok { fail("write of \(plaintext.count) bytes failed on the connected \(side)") }
        if s.phase != .connected, ok { fail("write succeeded on the \(side) in phase \(s.phase)") }
        if !ok { written[side.rawValue][tag] = nil }
        return ok ? plaintext : nil
    }

    /// Advances the virtual clock, then the retransmission timer of `sides` fires.
    func timer(advance microseconds: Int64, sides: [Side]) {
        virtualClockOffset += microseconds
        for side in sides {
            if let t = session(side).timeoutMicroseconds {
                Feedback.hit(4, UInt64(side.rawValue), UInt64(64 - t.leadingZeroBitCount))
            }
            observe(session(side).handleTimeout(), at: side, "handleTimeout")
        }
    }

    func close(_ side: Side) {
        closeCalled[side.rawValue] = true
        let s = session(side)
        let before = s.phase
        s.close()
        let expectedPhase: DtlsSession.Phase = before == .handshaking || before == .connected ? .closed : before
        if s.phase != expectedPhase { fail("close() left the \(side) in phase \(s.phase) (was \(before))") }
        lastPhase[side.rawValue] = s.phase
    }

    // MARK: Checks

    private func deliver(_ plaintext: UnsafeRawBufferPointer, at side: Side) {
        let bytes = [UInt8](plaintext)
        let writer = side.peer
        guard bytes.count >= 4 else {
            fail("the \(side) delivered \(bytes.count) bytes of application data that nobody wrote")
        }
        let tag = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        guard let original = written[writer.rawValue][tag] else {
            fail("the \(side) delivered \(bytes.count) bytes of application data the \(writer) never wrote (tag \(tag))")
        }
        guard original == bytes else {
            fail("the \(side) delivered application data \(tag) altered (\(bytes.count) bytes, \(original.count) written)")
        }
        guard deliveredTags[side.rawValue].insert(tag).inserted else {
            fail("the \(side) delivered application datagram \(tag) twice: a replay got through")
        }
        received.append(bytes)
        Feedback.hit(5, UInt64(side.rawValue), UInt64(min(bytes.count / 64, 16)))
    }

    /// Checks what an operation on `side` reported against the session's state.
    /// - Parameter phase: the phase the outcome left the session in, when it is not the current
    ///   one (the `.connected` of a datagram whose later record ended the session).
    func observe(_ outcome: DtlsSession.Outcome, at side: Side, _ operation: String, phase: DtlsSession.Phase? = nil) {
        let s = session(side)
        let before = lastPhase[side.rawValue]
        let now = phase ?? s.phase
        var code: UInt64 = 0
        switch outcome {
        case .none:
            if now != before {
                fail("\(operation) moved the \(side) from \(before) to \(now) but returned .none")
            }
        case .connected:
            code = 1
            if reportedConnected[side.rawValue] { fail("\(operation): the \(side) reported .connected twice") }
            reportedConnected[side.rawValue] = true
            if before != .handshaking { fail("\(operation): the \(side) reported .connected in phase \(before)") }
            if now != .connected {
                // Fixed (Fuzz/dtls-reproducers/): receive() once returned the handshake's
                // .connected and dropped the close_notify or fatal alert read right after it.
                if !Self.tolerateMaskedOutcome {
                    fail("\(operation) returned .connected for the \(side) but its phase is \(now): the owner never learns")
                }
                maskedOutcome = true
            }
        case .failed(let reason):
            code = 2 &+ Feedback.reason(reason)
            failure[side.rawValue] = reason
            if now != .failed { fail("\(operation) returned .failed(\(reason)) for the \(side) in phase \(now)") }
            if mode == .established {
                fail("hostile input ended an established session: \(operation) on the \(side): .failed(\(reason))")
            }
        case .closedByPeer:
            code = 3
            if now != .closed { fail("\(operation) returned .closedByPeer for the \(side) in phase \(now)") }
            if !closeCalled[side.peer.rawValue] {
                fail("\(operation): the \(side) reported close_notify, but the \(side.peer) never closed (forged)")
            }
        }
        switch (before, now) {
        case (.handshaking, _), (.connected, .connected), (.connected, .closed), (.connected, .failed),
            (.closed, .closed), (.failed, .failed):
            break
        default:
            fail("\(operation): the \(side) went from \(before) back to \(now)")
        }
        if now == .connected {
            guard s.verified else { fail("the \(side) is connected without a verified peer fingerprint") }
            guard s.presented == expected[side.rawValue] else {
                fail("the \(side) is connected to a certificate (\(s.presented.map { "\($0)" } ?? "none")) it did not expect")
            }
        }
        lastPhase[side.rawValue] = now
        Feedback.hit(2, UInt64(mode.rawValue) << 8 | UInt64(side.rawValue), code)
    }

    /// `writer` writes a fresh datagram; its queue must carry it to the other side, which must
    /// deliver it exactly once, byte-exact. Only when both are connected and the queues are empty.
    func roundTrip(from writer: Side, size: Int) {
        precondition(queue(writer).isEmpty)
        let body = (0..<max(size, 1)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        guard let plaintext = write(body[...], from: writer) else { fail("round trip: the \(writer) could not write") }
        var got: [[UInt8]] = []
        var datagrams = 0
        while !tap.queues[writer.rawValue].isEmpty {
            let datagram = tap.queues[writer.rawValue].removeFirst()
            datagrams += 1
            receive(datagram, at: writer.peer)
            got += received
        }
        guard datagrams == 1 else { fail("round trip: one write of the \(writer) made \(datagrams) datagrams") }
        guard got == [plaintext] else {
            fail("round trip: a fresh \(plaintext.count)-byte datagram of the \(writer) was delivered \(got.count) times, "
                + "\(got.first == plaintext ? "intact" : "not byte-exact")")
        }
        drain()
    }

    /// Both connected sides agree on what the handshake negotiated.
    func checkAgreement() {
        let server = session(.server)
        let client = session(.client)
        let label = "EXTRACTOR-dtls_srtp"
        guard let a = server.exportKeyingMaterial(label: label, context: nil, length: 60),
            let b = client.exportKeyingMaterial(label: label, context: nil, length: 60)
        else { fail("a connected session exported no keying material") }
        guard a == b else { fail("the two sides exported different keying material") }
        guard let c = server.cipherName, c == client.cipherName else { fail("the two sides disagree on the cipher") }
        guard let p = server.srtpProfileName, p == client.srtpProfileName else {
            fail("the two sides disagree on the DTLS-SRTP profile")
        }
        Feedback.hit(6, Feedback.hash(c), Feedback.hash(p))
    }
}
