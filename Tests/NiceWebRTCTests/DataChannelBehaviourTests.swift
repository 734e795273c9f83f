import Foundation
import NiceICE
import NiceWebRTC
import Testing

@Suite("Data channels: sizes, many channels, closing, reliability options")
struct DataChannelBehaviourTests {
    @Test("Messages of 0 B, 1 B, 16 KiB, 64 KiB and 256 KiB, text and binary, arrive whole; 256 KiB + 1 is refused", .timeLimit(.minutes(1)))
    func sizes() async throws {
        let pair = try await SctpPair.make()
        let channelA = try pair.a.sctp.createDataChannel(label: "sizes")
        try await pair.waitConnected()
        try await channelA.waitUntilOpen(timeout: .seconds(10))
        let channelB = try await pair.b.incomingChannel()
        let rec = MessageRecorder(channelB)
        #expect(pair.a.sctp.maxMessageSize == 262_144)
        let sizes = [0, 1, 16_384, 65_536, 262_144]
        var sent: [DataChannelMessage] = []
        for size in sizes {
            sent.append(.binary(numbered(size, size: size)))
            sent.append(.text(String(repeating: "é", count: size / 2)))  // 2 bytes each in UTF-8
        }
        for m in sent { try await channelA.write(m) }
        #expect(await eventually(.seconds(20)) { rec.count == sent.count })
        #expect(rec.messages.current == sent)
        #expect(throws: DataChannelError.self) { try channelA.send(.binary([UInt8](repeating: 1, count: 262_145))) }
        do {
            try channelA.send(.binary([UInt8](repeating: 1, count: 262_145)))
        } catch {
            #expect(error.code == .messageTooLarge)
            #expect(error.field == "size")
        }
        // The channel still works after the refusal.
        try channelA.send(.text("after"))
        #expect(await eventually { rec.messages.current.last == .text("after") })
        await pair.close()
    }

    @Test("The peer's max-message-size is honoured: 64 KiB + 1 is refused when it advertised 65,536", .timeLimit(.minutes(1)))
    func peerLimit() async throws {
        let pair = try await SctpPair.make(remoteMaxMessageSize: (65_536, 262_144))
        let channelA = try pair.a.sctp.createDataChannel(label: "limit")
        try await pair.waitConnected()
        try await channelA.waitUntilOpen(timeout: .seconds(10))
        #expect(pair.a.sctp.maxMessageSize == 65_536)
        #expect(pair.b.sctp.maxMessageSize == 262_144)
        #expect(throws: DataChannelError(.messageTooLarge, field: "size", reason: "65537 bytes exceed maxMessageSize 65536")) {
            try channelA.send(.binary([UInt8](repeating: 0, count: 65_537)))
        }
        try channelA.send(.binary([UInt8](repeating: 0, count: 65_536)))
        await pair.close()
    }

    @Test("100 channels at once on one connection, 50 opened from each side, each carries messages both ways", .timeLimit(.minutes(1)))
    func hundredChannels() async throws {
        let pair = try await SctpPair.make()
        // Half created before the association is up (ids assigned at COMM_UP), half after.
        var fromA = try (0..<25).map { try pair.a.sctp.createDataChannel(label: "a\($0)") }
        try await pair.waitConnected()
        fromA += try (25..<50).map { try pair.a.sctp.createDataChannel(label: "a\($0)") }
        let fromB = try (0..<50).map { try pair.b.sctp.createDataChannel(label: "b\($0)") }
        for c in fromA + fromB { try await c.waitUntilOpen(timeout: .seconds(10)) }
        #expect(await eventually { pair.a.incoming.current.count == 50 && pair.b.incoming.current.count == 50 })
        let ids = (fromA + fromB).compactMap(\.id)
        #expect(Set(ids).count == 100, "every channel has its own stream id")
        #expect(fromA.allSatisfy { $0.id! % 2 == 1 } && fromB.allSatisfy { $0.id! % 2 == 0 }, "server odd, client even")
        // Every channel: the creator sends its label, the other side answers with it reversed.
        let echoes = Box<[String: String]>([:])
        for c in pair.a.incoming.current + pair.b.incoming.current {
            c.messageHandler = { m in
                if case .text(let t) = m { try? c.send(.text(String(t.reversed()))) }
            }
        }
        for c in fromA + fromB {
            let label = c.label
            c.messageHandler = { m in if case .text(let t) = m { echoes.withLock { $0[label] = t } } }
            try c.send(.text(c.label))
        }
        #expect(await eventually(.seconds(20)) { echoes.current.count == 100 })
        #expect(echoes.current.allSatisfy { $0.value == String($0.key.reversed()) })
        #expect(pair.a.sctp.maxChannels == 1024)
        await pair.close()
    }

    @Test("Closing from either side: stream reset both ways, both ends closed with their events, others go on", .timeLimit(.minutes(1)))
    func closeEitherSide() async throws {
        let pair = try await SctpPair.make()
        try await pair.waitConnected()
        let first = try pair.a.sctp.createDataChannel(label: "first")
        let second = try pair.a.sctp.createDataChannel(label: "second")
        try await first.waitUntilOpen(timeout: .seconds(10))
        try await second.waitUntilOpen(timeout: .seconds(10))
        let firstB = try await pair.b.incomingChannel(0)
        let secondB = try await pair.b.incomingChannel(1)
        let recFirstA = MessageRecorder(first), recFirstB = MessageRecorder(firstB)
        let recSecondA = MessageRecorder(second), recSecondB = MessageRecorder(secondB)
        // a closes `first` (a sends the reset), b closes `second` (b sends the reset).
        try first.send(.text("last words"))
        first.close()
        #expect(first.readyState == .closing)
        #expect(throws: DataChannelError.self) { try first.send(.text("too late")) }
        secondB.close()
        #expect(await eventually { [first, firstB, second, secondB].allSatisfy { $0.readyState == .closed } })
        #expect(await eventually { recFirstA.statesAfterOpen == [.closing, .closed] })
        #expect(await eventually { recSecondB.statesAfterOpen == [.closing, .closed] })
        #expect(await eventually { recFirstB.states.current.last == .closed && recSecondA.states.current.last == .closed })
        #expect(recFirstB.messages.current == [.text("last words")], "what was sent before close arrives")
        // The association lives on: a new channel opens and works.
        let third = try pair.b.sctp.createDataChannel(label: "third")
        try await third.waitUntilOpen(timeout: .seconds(10))
        let thirdA = try await pair.a.incomingChannel(0)
        let recThird = MessageRecorder(thirdA)
        try third.send(.binary([1, 2, 3]))
        #expect(await eventually { recThird.messages.current == [.binary([1, 2, 3])] })
        await pair.close()
    }

    @Test("SctpTransport.close() ends every channel on both sides with the closed event; the peer sees the ABORT", .timeLimit(.minutes(1)))
    func transportClose() async throws {
        let pair = try await SctpPair.make()
        try await pair.waitConnected()
        let channels = try (0..<3).map { try pair.a.sctp.createDataChannel(label: "c\($0)") }
        for c in channels { try await c.waitUntilOpen(timeout: .seconds(10)) }
        #expect(await eventually { pair.b.incoming.current.count == 3 })
        let recsA = channels.map(MessageRecorder.init)
        let recsB = pair.b.incoming.current.map(MessageRecorder.init)
        let bStates = Box<[SctpTransportState]>([])
        pair.b.sctp.stateHandler = { s in bStates.withLock { $0.append(s) } }
        pair.a.sctp.close()
        #expect(pair.a.sctp.state == .closed)
        #expect(channels.allSatisfy { $0.readyState == .closed })
        #expect(await eventually { recsA.allSatisfy { $0.statesAfterOpen == [.closed] } })
        #expect(await eventually(.seconds(10)) { recsB.allSatisfy { $0.states.current.last == .closed } })
        #expect(await eventually { bStates.current.last == .closed })
        #expect(throws: DataChannelError.self) { try pair.a.sctp.createDataChannel(label: "after") }
        await pair.close()
    }

    @Test("Closing the ICE connection under it closes every channel with its event", .timeLimit(.minutes(1)))
    func iceClose() async throws {
        let pair = try await SctpPair.make()
        try await pair.waitConnected()
        let channel = try pair.a.sctp.createDataChannel(label: "c")
        try await channel.waitUntilOpen(timeout: .seconds(10))
        let rec = MessageRecorder(channel)
        pair.a.pc.close()
        #expect(await eventually { rec.statesAfterOpen == [.closed] })
        #expect(pair.a.sctp.state == .closed)
        await pair.close()
    }

    @Test("Pre-negotiated channels (negotiated: true, same id) need no DCEP and talk at once", .timeLimit(.minutes(1)))
    func negotiated() async throws {
        let pair = try await SctpPair.make()
        let a = try pair.a.sctp.createDataChannel(label: "n", options: .init(negotiated: true, id: 7))
        let b = try pair.b.sctp.createDataChannel(label: "n", options: .init(negotiated: true, id: 7))
        #expect(a.id == 7)
        #expect(throws: DataChannelError.self) { try pair.a.sctp.createDataChannel(label: "dup", options: .init(negotiated: true, id: 7)) }
        #expect(throws: DataChannelError.self) { try pair.a.sctp.createDataChannel(label: "x", options: .init(negotiated: true)) }
        #expect(throws: DataChannelError.self) { try pair.a.sctp.createDataChannel(label: "x", options: .init(maxPacketLifeTime: 5, maxRetransmits: 1)) }
        try await pair.waitConnected()
        try await a.waitUntilOpen(timeout: .seconds(10))
        try await b.waitUntilOpen(timeout: .seconds(10))
        let rec = MessageRecorder(b)
        try a.send(.text("hi"))
        #expect(await eventually { rec.messages.current == [.text("hi")] })
        #expect(pair.b.incoming.current.isEmpty, "no channel announced for a negotiated one")
        await pair.close()
    }

    @Test("Unordered and maxRetransmits: 0 / maxPacketLifeTime channels carry their options to the peer and deliver on loopback", .timeLimit(.minutes(1)))
    func reliabilityOptions() async throws {
        let pair = try await SctpPair.make()
        try await pair.waitConnected()
        let u = try pair.a.sctp.createDataChannel(label: "u", options: .init(ordered: false))
        let r0 = try pair.a.sctp.createDataChannel(label: "r0", options: .init(ordered: false, maxRetransmits: 0))
        let lt = try pair.a.sctp.createDataChannel(label: "lt", options: .init(maxPacketLifeTime: 150))
        for c in [u, r0, lt] { try await c.waitUntilOpen(timeout: .seconds(10)) }
        #expect(await eventually { pair.b.incoming.current.count == 3 })
        let byLabel = Dictionary(uniqueKeysWithValues: pair.b.incoming.current.map { ($0.label, $0) })
        #expect(byLabel["u"]?.ordered == false && byLabel["u"]?.reliability == .reliable)
        #expect(byLabel["r0"]?.ordered == false && byLabel["r0"]?.maxRetransmits == 0)
        #expect(byLabel["lt"]?.ordered == true && byLabel["lt"]?.maxPacketLifeTime == 150)
        let rec = MessageRecorder(try #require(byLabel["u"]))
        for i in 0..<100 { try u.send(.binary(numbered(i, size: 100))) }
        #expect(await eventually { rec.count == 100 })
        #expect(Set(rec.messages.current) == Set((0..<100).map { .binary(numbered($0, size: 100)) }))
        await pair.close()
    }
}
