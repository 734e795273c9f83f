import Foundation
import NiceICE
import NiceWebRTC
import Testing

/// The link loses packets through iptables `statistic` rules in its namespaces (``LossyLink``; no
/// `tc netem`). Skips, saying why, without root or namespaces; `LossyLinkNetworkPrerequisites`
/// fails the run for that under NICE_REQUIRE_NETNS=1.
@Suite("Network: data channels over a lossy link in namespaces", .serialized,
       .enabled(if: LossyLink.available, "needs root, network namespaces and iptables (the reason is printed above)"))
struct DataChannelNetworkTests {
    @Test("10 % loss each way: reliable channels lose nothing (ordered: in order); unordered maxRetransmits 0 drops some and goes on", .timeLimit(.minutes(3)))
    func reliabilityUnderLoss() async throws {
        let link = try LossyLink(number: 2)
        var configA = IceTransport.Configuration(role: .controlling, localAddresses: [link.addressA], disconnectedGracePeriod: .seconds(30))
        configA.stunMaxRetransmissions = 7
        var configB = configA
        configB.role = .controlled
        configB.localAddresses = [link.addressB]
        let a = try IceTransport(configuration: configA, context: link.contextA)
        let b = try IceTransport(configuration: configB, context: link.contextB)
        let da = try DtlsTransport(iceTransport: a, configuration: .init(certificate: try Certificate.generate()))
        let db = try DtlsTransport(iceTransport: b, configuration: .init(certificate: try Certificate.generate()))
        let sa = try SctpTransport(dtlsTransport: da)
        let sb = try SctpTransport(dtlsTransport: db)
        let incoming = Box<[DataChannel]>([])
        sb.dataChannelHandler = { c in incoming.withLock { $0.append(c) } }
        try await exchangeIce(a, b)
        try da.setRemoteParameters(try db.setRemoteParameters(da.localParameters))
        try sa.setRemoteParameters(sb.localParameters)
        try sb.setRemoteParameters(sa.localParameters)
        try await sa.waitUntilConnected(timeout: .seconds(30))
        let reliable = try sa.createDataChannel(label: "reliable")
        let partial = try sa.createDataChannel(label: "partial", options: .init(ordered: false, maxRetransmits: 0))
        let unordered = try sa.createDataChannel(label: "unordered", options: .init(ordered: false))
        for c in [reliable, partial, unordered] { try await c.waitUntilOpen(timeout: .seconds(10)) }
        #expect(await eventually(.seconds(15)) { incoming.current.count == 3 })
        let byLabel = Dictionary(uniqueKeysWithValues: incoming.current.map { ($0.label, $0) })
        let recReliable = MessageRecorder(try #require(byLabel["reliable"]))
        let recPartial = MessageRecorder(try #require(byLabel["partial"]))
        let recUnordered = MessageRecorder(try #require(byLabel["unordered"]))

        try link.setLoss(10)
        let count = 500
        let started = ContinuousClock.now
        for i in 0..<count {
            try await reliable.write(.binary(numbered(i, size: 1000)))
            try await partial.write(.binary(numbered(i, size: 1000)))
            try await unordered.write(.binary(numbered(i, size: 1000)))
            // Not one burst: every 50 messages, wait until the reliable channel's receiver is
            // within 50 messages of the sender (paced by delivery, not by a clock).
            if i % 50 == 49 {
                #expect(await eventually(.seconds(60)) { recReliable.count >= i + 1 - 50 }, "reliable: \(recReliable.count) of \(i + 1)")
            }
        }
        #expect(await eventually(.seconds(90)) { recReliable.count == count && recUnordered.count == count },
                "reliable: \(recReliable.count), unordered reliable: \(recUnordered.count) of \(count)")
        let elapsed = ContinuousClock.now - started
        #expect(recReliable.messages.current == (0..<count).map { .binary(numbered($0, size: 1000)) }, "all, in order, intact")
        #expect(Set(recUnordered.messages.current) == Set((0..<count).map { .binary(numbered($0, size: 1000)) }), "unordered reliable: all, intact")
        // Loss off, then a marker on the partial channel: once it arrives, nothing sent before it on
        // that channel is still in flight (each was sent once, never retransmitted; a veth does not
        // reorder), so the count below is final without waiting out a window.
        try link.setLoss(0)
        try partial.send(.text("after"))
        // It goes on after its losses.
        #expect(await eventually(.seconds(10)) { recPartial.messages.current.last == .text("after") })
        let partialGot = recPartial.messages.current.filter { $0 != .text("after") }
        let expected = Set((0..<count).map { DataChannelMessage.binary(numbered($0, size: 1000)) })
        #expect(Set(partialGot).isSubset(of: expected), "partial: only real messages, intact")
        #expect(Set(partialGot).count == partialGot.count, "partial: no duplicates")
        #expect(partialGot.count < count, "partial: with 10 % loss and no retransmission some are lost (\(partialGot.count))")
        #expect(partialGot.count > count / 2, "partial: most arrive (\(partialGot.count))")
        print("data channels under 10 % loss: reliable \(recReliable.count)/\(count) in \(elapsed), partial \(partialGot.count)/\(count)")
        #expect(sa.state == .connected && da.connectionState == .connected)
        sa.close()
        sb.close()
        await a.closeAndWait()
        await b.closeAndWait()
        await link.remove()
    }
}
