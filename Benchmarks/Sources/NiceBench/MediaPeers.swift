// PeerConnection pairs with media in one process, for the forwarding and media RSS figures: both
// on 127.0.0.1, candidates trickled in-process, one offer/answer, both `connected` (DTLS up, SRTP
// keyed). The answerer takes the offer's media sections (`remoteMediaPolicy` accept recvonly).
import Dispatch
import Foundation
import NiceWebRTC
import Synchronization

/// A PeerConnection on 127.0.0.1 (no STUN/TURN) with a shared certificate (one per role: a fresh
/// one per connection would measure key generation, not media), accepting the peer's media
/// sections recvonly when `accepting`.
func mediaConnection(certificate: Certificate, accepting: Bool) -> PeerConnection {
    var configuration = PeerConnection.Configuration(certificates: [certificate], localAddresses: ["127.0.0.1"])
    if accepting { configuration.remoteMediaPolicy = .accept(direction: .recvonly) }
    do {
        return try PeerConnection(configuration: configuration)
    } catch {
        die(4, "PeerConnection: \(error)")
    }
}

/// Trickles candidates both ways, negotiates once (`offerer` first) and waits until both are
/// `connected`. Throws when a step fails or `timeout` passes.
func connectMedia(_ offerer: PeerConnection, _ answerer: PeerConnection, timeout: Duration) async throws {
    let trickle = [
        Task { [weak answerer] in for await c in offerer.iceCandidates() { try? await answerer?.addIceCandidate(c) } },
        Task { [weak offerer] in for await c in answerer.iceCandidates() { try? await offerer?.addIceCandidate(c) } },
    ]
    defer { trickle.forEach { $0.cancel() } }
    let offer = try await offerer.setLocalDescription()
    try await answerer.setRemoteDescription(offer)
    let answer = try await answerer.setLocalDescription()
    try await offerer.setRemoteDescription(answer)
    try await offerer.waitUntilConnected(timeout: timeout)
    try await answerer.waitUntilConnected(timeout: timeout)
}

/// Connects `pairs` (offerer, answerer) with at most `parallel` negotiations in flight; exits 2
/// when one fails. Returns the wall time in ns.
func connectMediaPairs(_ pairs: [(PeerConnection, PeerConnection)], parallel: Int, timeout: Duration) async -> UInt64 {
    let t0 = nowNs()
    await withTaskGroup(of: String?.self) { group in
        var next = 0
        func add() {
            guard next < pairs.count else { return }
            let (a, b) = pairs[next]
            let i = next
            next += 1
            group.addTask {
                do {
                    try await connectMedia(a, b, timeout: timeout)
                    return nil
                } catch {
                    return "pair \(i): \(error)"
                }
            }
        }
        for _ in 0..<parallel { add() }
        while let failure = await group.next() {
            if let failure { die(2, "media connection failed: \(failure)") }
            add()
        }
    }
    return nowNs() - t0
}

/// Closes every connection (all at once) and waits for their ICE agents to go.
func closeConnections(_ connections: [PeerConnection], timeout: Double) async {
    Watchdog.shared.arm(timeout, "close of \(connections.count) PeerConnections")
    await withTaskGroup(of: Void.self) { group in
        for pc in connections { group.addTask { await pc.closeAndWait() } }
    }
    Watchdog.shared.disarm()
}
