import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

@Suite("PeerConnection: the ICE thread (NiceContext) chosen in the configuration")
struct PeerConnectionContextTests {
    @Test("two connections on two contexts of a group: each agent runs on its own, they connect and a message goes each way", .timeLimit(.minutes(1)))
    func ownContexts() async throws {
        let group = NiceContextGroup(count: 2, name: "test.contexts")
        var configuration = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
        configuration.context = group.next()
        let a = try PeerConnection(configuration: configuration)
        configuration.context = group.next()
        let b = try PeerConnection(configuration: configuration)
        #expect(a.iceTransport.context === group.contexts[0])
        #expect(b.iceTransport.context === group.contexts[1])
        #expect(a.iceTransport.context !== NiceContext.default && b.iceTransport.context !== NiceContext.default)
        let links = trickle(a, b)
        let channel = try a.createDataChannel("threads")
        try await negotiate(a, b)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        try channel.send(text: "ping")
        #expect(try await nextMessage(incoming) == .text("ping"))
        try incoming.send(text: "pong")
        #expect(try await nextMessage(channel) == .text("pong"))
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
    }

    @Test("a connection on a group's context is freed once closed: the PeerConnection and its ICE transport", .timeLimit(.minutes(1)))
    func freedOnItsContext() async throws {
        let group = NiceContextGroup(count: 2, name: "test.freed")
        weak var weakPC: PeerConnection?
        weak var weakIce: IceTransport?
        do {
            var configuration = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
            configuration.context = group.contexts[1]
            let pc = try PeerConnection(configuration: configuration)
            _ = try pc.createDataChannel("c")
            _ = try await pc.setLocalDescription()  // gathering runs on the group's context
            weakPC = pc
            weakIce = pc.iceTransport
            await pc.closeAndWait()
        }
        #expect(await eventually(.seconds(10)) { weakPC == nil && weakIce == nil }, "freed after close")
    }

    @Test("the default is the process's one context", .timeLimit(.minutes(1)))
    func defaultContext() throws {
        let pc = try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"]))
        #expect(pc.iceTransport.context === NiceContext.default)
        pc.close()
    }
}
