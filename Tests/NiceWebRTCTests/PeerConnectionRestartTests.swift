import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Synchronization
import Testing

@Suite("PeerConnection: ICE restart mid-transfer")
struct PeerConnectionRestartTests {
    /// Who calls `restartIce()`: the first offerer, the first answerer, or both at once (glare:
    /// the polite side's restart offer is rolled back, and the impolite side's restart renews
    /// both sides' credentials).
    enum Initiator: String, CaseIterable, Sendable { case offerer, answerer, both }

    @Test("restartIce() from either side or both at once, mid-transfer: new credentials on both sides, no message lost or reordered on a reliable channel", .timeLimit(.minutes(2)), arguments: Initiator.allCases)
    func restartMidTransfer(initiator: Initiator) async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        let link = PerfectNegotiation(impolite: a, polite: b)
        let channel = try a.createDataChannel("numbers")   // a offers first (negotiationneeded)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        let received = Mutex<[Int]>([])
        incoming.messageHandler = { m in
            if case .binary(let bytes) = m, bytes.count >= 4 {
                let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
                received.withLock { $0.append(n) }
            }
        }
        let before = (a.iceTransport.localParameters, b.iceTransport.localParameters)
        // The sender runs until the restart is over on both sides, then sends 1,000 more: the
        // restart happens while messages are in flight.
        let restarted = Mutex(false)
        let sender = Task { () throws -> Int in
            var i = 0
            var after = 0
            while after < 1000 {
                try await channel.write(.binary(numbered(i, size: 600)))
                i += 1
                // A write that finds room never suspends: yield, so the signalling tasks get a
                // thread of the cooperative pool (two on a two-core machine).
                await Task.yield()
                if restarted.withLock({ $0 }) { after += 1 }
            }
            return i
        }
        #expect(await eventually(.seconds(20)) { received.withLock { $0.count } >= 500 })
        switch initiator {
        case .offerer: a.restartIce()
        case .answerer: b.restartIce()
        case .both:
            a.restartIce()
            b.restartIce()
        }
        // Both agents take new credentials once the restart's offer and answer are applied.
        #expect(await eventually(.seconds(20)) {
            a.iceTransport.localParameters != before.0 && b.iceTransport.localParameters != before.1
                && a.signalingState == .stable && b.signalingState == .stable
        })
        let duringRestart = received.withLock { $0.count }
        restarted.withLock { $0 = true }
        #expect(a.localDescription?.sdp.contains("a=ice-ufrag:\(a.iceTransport.localParameters.usernameFragment)") == true)
        #expect(b.localDescription?.sdp.contains("a=ice-ufrag:\(b.iceTransport.localParameters.usernameFragment)") == true)
        let total = try await sender.value
        #expect(await eventually(.seconds(30)) { received.withLock { $0.count } == total })
        #expect(received.withLock { $0 } == Array(0..<total))
        #expect(duringRestart < total)
        try await a.waitUntilConnected(timeout: .seconds(20))
        try await b.waitUntilConnected(timeout: .seconds(20))
        #expect(link.errors.isEmpty, "\(link.errors)")
        link.stop()
        await a.closeAndWait()
        await b.closeAndWait()
    }
}
