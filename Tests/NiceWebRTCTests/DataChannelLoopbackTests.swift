import Foundation
import NiceICE
import NiceWebRTC
import Testing

@Suite("Data channels between two peers in one process")
struct DataChannelLoopbackTests {
    @Test("1,000 messages each way on an ordered reliable channel, byte-checked and in order", .timeLimit(.minutes(1)))
    func thousandEachWay() async throws {
        let pair = try await SctpPair.make()
        let channelA = try pair.a.sctp.createDataChannel(label: "numbers", options: .init(protocol: "test/1"))
        let recA = MessageRecorder(channelA)
        try await pair.waitConnected()
        try await channelA.waitUntilOpen(timeout: .seconds(10))
        let channelB = try await pair.b.incomingChannel()
        let recB = MessageRecorder(channelB)
        #expect(channelB.label == "numbers")
        #expect(channelB.protocol == "test/1")
        #expect(channelB.ordered)
        #expect(channelB.id == channelA.id)
        #expect(channelB.readyState == .open)
        // a offered actpass and b answered: b is the DTLS client, a the server → odd ids.
        #expect(channelA.id.map { $0 % 2 == 1 } == true)
        for i in 0..<1000 {
            try await channelA.write(.binary(numbered(i, size: 1000)))
            try await channelB.write(.binary(numbered(i, size: 700)))
        }
        #expect(await eventually(.seconds(20)) { recA.count == 1000 && recB.count == 1000 })
        let gotB = recB.messages.current
        let gotA = recA.messages.current
        #expect(gotB == (0..<1000).map { .binary(numbered($0, size: 1000)) })
        #expect(gotA == (0..<1000).map { .binary(numbered($0, size: 700)) })
        // The path as usrsctp sees it: a window open, the MTU NiceWebRTC set (1,200-B DTLS
        // datagrams less DTLS, UDP-in-IPv6 and SCTP common-header overhead), nothing left unacknowledged
        // once both sides have everything.
        let path = try #require(pair.a.sctp.pathStatus)
        #expect(path.congestionWindow > 0)
        #expect(path.receiverWindow > 0)
        #expect(path.mtu == 1200 - 12 - 48 - 8 - 40)
        #expect(await eventually(.seconds(5)) { pair.a.sctp.pathStatus?.unacknowledgedChunks == 0 })
        await pair.close()
        #expect(channelA.readyState == .closed)
        #expect(pair.a.sctp.pathStatus == nil, "a closed association has no path")
    }
}
