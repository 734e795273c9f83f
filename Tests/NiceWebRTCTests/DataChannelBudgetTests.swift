import Foundation
import NiceICE
@testable import NiceWebRTC
import Synchronization
import Testing

/// The process's resident set size in bytes (Linux `/proc/self/statm`).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite("Data channels: the receive and send budgets", .serialized)
struct DataChannelBudgetTests {
    @Test("a channel closed with 4.5 MiB unread gives its budget back: a second channel opens and carries messages",
          .timeLimit(.minutes(1)))
    func closedChannelReturnsBudget() async throws {
        let pair = try await SctpPair.make()
        let quiet = try pair.a.sctp.createDataChannel(label: "nobody reads")
        try await pair.waitConnected()
        try await quiet.waitUntilOpen(timeout: .seconds(10))
        let quietB = try await pair.b.incomingChannel(0)  // b never reads it
        // 72 × 64 KiB: more than b's 4 MiB receive budget, so b stops reading from the association.
        for i in 0..<72 { try quiet.send(.binary(numbered(i, size: 65_536))) }
        #expect(await eventually(.seconds(20)) { pair.b.sctp.counters.bytesReceived >= 4 << 20 }, "b's budget filled")
        // Closed from both sides.
        quietB.close()
        quiet.close()
        // The association reads again: a second channel opens and its messages arrive.
        let second = try pair.a.sctp.createDataChannel(label: "second")
        try await second.waitUntilOpen(timeout: .seconds(10))
        let secondB = try await pair.b.incomingChannel(1)
        let rec = MessageRecorder(secondB)
        for i in 0..<10 { try await second.write(.text("after \(i)")) }
        #expect(await eventually(.seconds(10)) { rec.count == 10 }, "the association stalled: \(rec.count) of 10 arrived")
        #expect(await eventually(.seconds(10)) { quiet.readyState == .closed && quietB.readyState == .closed })
        await pair.close()
    }

    @Test("1,000,000 empty and 1,000,000 1-byte messages to a channel nobody reads: both budgets hold, memory stays flat",
          .timeLimit(.minutes(2)), arguments: [0, 1])
    func tinyMessagesAreNotFree(size: Int) async throws {
        try await MemoryHeavy.shared.run {
            let pair = try await SctpPair.make()
            let channel = try pair.a.sctp.createDataChannel(label: "tiny")
            try await pair.waitConnected()
            try await channel.waitUntilOpen(timeout: .seconds(10))
            _ = try await pair.b.incomingChannel(0)  // b never reads it
            let before = residentBytes()
            let message = DataChannelMessage.binary([UInt8](repeating: 1, count: size))
            var accepted = 0
            var full = false
            for _ in 0..<1_000_000 {
                do throws(DataChannelError) {
                    try channel.send(message)
                    accepted += 1
                } catch {
                    #expect(error.code == .bufferFull)
                    full = true
                    break
                }
            }
            #expect(full, "the send budget must fill before 1,000,000 messages of \(size) B (accepted \(accepted))")
            // b takes what its 4 MiB budget allows, then stops reading.
            let received = { pair.b.sctp.counters.messagesReceived }
            #expect(await eventually(.seconds(60)) { received() >= 50_000 }, "b received \(received())")
            // usrsctp's send buffer counts payload bytes only: what holds the messages back in a's
            // queue is the count of what usrsctp holds (8,192), measured, not its buffer.
            #expect(pair.a.sctp.core.counters.usrsctpCapStops.load(ordering: .relaxed) > 0, "the message cap never bound")
            let bound = (4 << 20) / 64 + 1
            #expect(Int(received()) <= bound, "b holds \(received()) messages, its budget allows \(bound)")
            let grown = residentBytes() - before
            // Budgets: 16 MiB (a's queue) + 4 MiB (b's inbox) + usrsctp's 2 × 4 MiB, plus a constant.
            #expect(grown < 64 << 20, "RSS grew by \(grown >> 20) MiB")
            // Nothing was lost and nothing stays stuck: once b reads, every accepted message arrives.
            let channelB = try await pair.b.incomingChannel(0)
            let taken = Box<Int>(0)
            channelB.messageHandler = { _ in taken.withLock { $0 += 1 } }
            #expect(await eventually(.seconds(60)) { taken.current == accepted }, "b took \(taken.current) of \(accepted)")
            await pair.close()
        }
    }
}

@Suite("Data channels: channels nobody can reach are refused")
struct UnclaimedChannelTests {
    @Test("beyond 1,024 unclaimed channels (nobody listening) the peer's OPEN is refused: its channel closes, no ACK",
          .timeLimit(.minutes(2)))
    func refusedBeyondUnclaimedLimit() async throws {
        try await MemoryHeavy.shared.run {
            let dtls = try await DtlsPair.make()
            let config = SctpTransport.Configuration(streams: 3000)
            let sctpA = try SctpTransport(dtlsTransport: dtls.a.dtls, configuration: config)
            let sctpB = try SctpTransport(dtlsTransport: dtls.b.dtls, configuration: config)  // nobody listens
            try sctpA.setRemoteParameters(SctpParameters(port: sctpB.localParameters.port))
            try sctpB.setRemoteParameters(SctpParameters(port: sctpA.localParameters.port))
            try await sctpA.waitUntilConnected(timeout: .seconds(15))
            let channels = try (0..<1_100).map { try sctpA.createDataChannel(label: "c\($0)") }
            #expect(await eventually(.seconds(30)) { sctpB.counters.refusedChannels == 76 }, "refused \(sctpB.counters.refusedChannels)")
            #expect(await eventually(.seconds(30)) { channels.filter { $0.readyState == .closed }.count == 76 },
                    "a's refused channels close (the peer reset their streams)")
            // The first listener gets the 1,024 that waited.
            var claimed = 0
            for await _ in sctpB.incomingDataChannels() {
                claimed += 1
                if claimed == 1_024 { break }
            }
            #expect(claimed == 1_024)
            sctpA.close()
            sctpB.close()
            await dtls.close()
        }
    }
}
