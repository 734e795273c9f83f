import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Synchronization
import Testing

@Suite("PeerConnection: ICE restart mid-transfer")
struct PeerConnectionRestartTests {
    enum Initiator: String, CaseIterable, Sendable { case offerer, answerer }

    @Test("restartIce() from either side mid-transfer: new credentials on both sides, no message lost or reordered on a reliable channel", .timeLimit(.minutes(2)), arguments: Initiator.allCases)
    func restartMidTransfer(initiator: Initiator) async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        let link = PerfectNegotiation(impolite: a, polite: b)
        let channel = try a.createDataChannel("numbers")   // a offers first (negotiationneeded)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        let received = Mutex<[Int]>([])
        let total = 3000
        incoming.messageHandler = { m in
            if case .binary(let bytes) = m, bytes.count >= 4 {
                let n = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
                received.withLock { $0.append(n) }
            }
        }
        let before = (a.iceTransport.localParameters, b.iceTransport.localParameters)
        let sender = Task {
            for i in 0..<total { try await channel.write(.binary(numbered(i, size: 600))) }
        }
        #expect(await eventually(.seconds(20)) { received.withLock { $0.count } >= total / 5 })
        let restarting = initiator == .offerer ? a : b
        restarting.restartIce()
        // Both agents take new credentials once the restart's offer and answer are applied.
        #expect(await eventually(.seconds(20)) {
            a.iceTransport.localParameters != before.0 && b.iceTransport.localParameters != before.1
                && a.signalingState == .stable && b.signalingState == .stable
        })
        #expect(a.localDescription?.sdp.contains("a=ice-ufrag:\(a.iceTransport.localParameters.usernameFragment)") == true)
        #expect(b.localDescription?.sdp.contains("a=ice-ufrag:\(b.iceTransport.localParameters.usernameFragment)") == true)
        try await sender.value
        #expect(await eventually(.seconds(30)) { received.withLock { $0.count } == total })
        #expect(received.withLock { $0 } == Array(0..<total))
        try await a.waitUntilConnected(timeout: .seconds(20))
        try await b.waitUntilConnected(timeout: .seconds(20))
        #expect(link.errors.isEmpty, "\(link.errors)")
        link.stop()
        await a.closeAndWait()
        await b.closeAndWait()
    }
}
