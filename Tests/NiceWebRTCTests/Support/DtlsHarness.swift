import Dispatch
import Foundation
import NiceICE
import NiceWebRTC
import Synchronization
import Testing

/// A value behind a lock, for test recorders.
final class Box<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched under `lock`.
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
    var current: Value { withLock { $0 } }
}

/// Runs `body`, giving up after `timeout` (nil then).
func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Polls `condition` (synchronous or `async`) every 10 ms until it holds or `timeout` passes.
func eventually(_ timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// All local candidates of the first gathering round (until end-of-candidates).
func gathered(_ pc: IceTransport, timeout: Duration = .seconds(10)) async -> [IceCandidate] {
    let stream = pc.localCandidates()
    return await withDeadline(timeout) {
        var all: [IceCandidate] = []
        for await c in stream {
            guard let c else { break }
            all.append(c)
        }
        return all
    } ?? []
}

/// ICE signalling between two connections in one process: full gathering on both, then each
/// side's parameters and candidates to the other (with `relay`, each side is told only the relay's
/// address facing it), then end-of-candidates when asked. Returns the candidates given to a and b.
@discardableResult
func exchangeIce(
    _ a: IceTransport, _ b: IceTransport, relay: RecordingRelay? = nil, endOfCandidates: Bool = true
) async throws -> (toA: [IceCandidate], toB: [IceCandidate]) {
    async let ca = gathered(a)
    async let cb = gathered(b)
    var (toB, toA) = await (ca, cb)
    if let relay {
        toA = [try relayCandidate(port: relay.portFacingA)]
        toB = [try relayCandidate(port: relay.portFacingB)]
    }
    try a.setRemoteParameters(b.localParameters)
    try b.setRemoteParameters(a.localParameters)
    for c in toA { try a.addIceCandidate(c) }
    for c in toB { try b.addIceCandidate(c) }
    if endOfCandidates {
        try a.addIceCandidate(nil)
        try b.addIceCandidate(nil)
    }
    return (toA, toB)
}

/// One side of a DTLS test: an ICE connection on 127.0.0.1 and a DTLS transport over it, with a
/// recorder of what its handlers delivered.
final class DtlsPeer: Sendable {
    let name: String
    let pc: IceTransport
    let dtls: DtlsTransport
    let certificate: Certificate
    let received = Box<[[UInt8]]>([])
    let dtlsStates = Box<[DtlsTransportStateChange]>([])
    let connectionStates = Box<[PeerConnectionState]>([])
    let queue: DispatchQueue

    init(_ name: String, ice role: IceTransport.Role, dtls dtlsRole: DtlsRole = .auto, certificate: Certificate? = nil,
         handshakeTimeout: Duration = .seconds(10), context: NiceContext = .default) throws {
        self.name = name
        let certificate = try certificate ?? Certificate.generate()
        self.certificate = certificate
        pc = try IceTransport(configuration: .init(role: role, localAddresses: ["127.0.0.1"]), context: context)
        dtls = try DtlsTransport(
            iceTransport: pc,
            configuration: .init(certificate: certificate, role: dtlsRole, handshakeTimeout: handshakeTimeout))
        queue = DispatchQueue(label: "dtls-test.\(name)")
        let received = self.received, dtlsStates = self.dtlsStates, connectionStates = self.connectionStates
        dtls.receiveHandler = { d in received.withLock { $0.append(d.bytes) } }
        dtls.stateUpdateHandler = { c in dtlsStates.withLock { $0.append(c) } }
        dtls.connectionStateHandler = { c in connectionStates.withLock { $0.append(c.state) } }
        pc.start(queue: queue)
        dtls.start(queue: queue)
    }

    var receivedCount: Int { received.withLock { $0.count } }

    /// A barrier for "nothing happened": a round trip through the ICE connection's context thread
    /// (where DTLS records are taken in), then a marker posted onto the handler queue after every
    /// event that produced. When it returns, any handler call caused by what happened before it
    /// has run.
    func settle() async {
        _ = await pc.stats()
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in queue.async { k.resume() } }
    }

    var lastDtls: DtlsTransportStateChange? { dtlsStates.withLock { $0.last } }
}

/// Two peers, ICE-connected over 127.0.0.1 (or through `relay`), DTLS parameters exchanged.
struct DtlsPair {
    let a: DtlsPeer
    let b: DtlsPeer

    /// - Parameters:
    ///   - roles: explicit DTLS roles for (a, b); `(.auto, .auto)` negotiates as JSEP does (a offers
    ///     actpass and is ICE-controlling; b answers as the client).
    ///   - tamperA / tamperB: replace the fingerprint a (b) signals to the peer with a wrong one.
    static func make(
        roles: (DtlsRole, DtlsRole) = (.auto, .auto), tamperA: Bool = false, tamperB: Bool = false,
        relay: RecordingRelay? = nil, handshakeTimeout: Duration = .seconds(10)
    ) async throws -> DtlsPair {
        let a = try DtlsPeer("a", ice: .controlling, dtls: roles.0, handshakeTimeout: handshakeTimeout)
        let b = try DtlsPeer("b", ice: .controlled, dtls: roles.1, handshakeTimeout: handshakeTimeout)
        // DTLS offer/answer: a's parameters first (actpass when auto), b answers.
        var offer = a.dtls.localParameters
        if tamperA { offer.fingerprints = [try wrongFingerprint()] }
        var answer = try b.dtls.setRemoteParameters(offer)
        if tamperB { answer.fingerprints = [try wrongFingerprint()] }
        try a.dtls.setRemoteParameters(answer)
        let given = try await exchangeIce(a.pc, b.pc, relay: relay)
        try #require(!given.toA.isEmpty && !given.toB.isEmpty, "gathering produced no candidate")
        return DtlsPair(a: a, b: b)
    }

    func waitConnected(timeout: Duration = .seconds(15)) async throws {
        try await a.dtls.waitUntilConnected(timeout: timeout)
        try await b.dtls.waitUntilConnected(timeout: timeout)
    }

    func close() async {
        a.dtls.close()
        b.dtls.close()
        await a.pc.closeAndWait()
        await b.pc.closeAndWait()
    }
}

func wrongFingerprint() throws -> DtlsFingerprint {
    try DtlsFingerprint(algorithm: .sha256, digest: (0..<32).map { _ in UInt8.random(in: 0...255) })
}

func relayCandidate(port: UInt16) throws -> IceCandidate {
    try IceCandidate(parsing: "candidate:9 1 udp 2130706431 127.0.0.1 \(port) typ host")
}

/// A payload that says which datagram it is and carries a marker a capture can look for.
func payload(_ i: Int, size: Int = 200, marker: [UInt8] = Array("PLAINTEXT-MARKER".utf8)) -> [UInt8] {
    var bytes = marker
    withUnsafeBytes(of: UInt32(i).bigEndian) { bytes.append(contentsOf: $0) }
    while bytes.count < size { bytes.append(UInt8(truncatingIfNeeded: bytes.count &* 31 &+ i)) }
    return bytes
}

/// Tests that read the process's RSS and tests that allocate a lot (1,000 connections) take this
/// in turn, so one's allocations do not count against the other's bound (suites run in parallel).
actor MemoryHeavy {
    static let shared = MemoryHeavy()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        while busy { await withCheckedContinuation { waiters.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiters.isEmpty { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
