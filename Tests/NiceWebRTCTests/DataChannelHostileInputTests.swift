import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

/// Hostile input from an authenticated peer: b is the attacker (it passed DTLS), and uses
/// `SctpCore.sendRaw` to put anything on any stream with any PPID.
@Suite("Data channels: hostile input from an authenticated peer", .serialized)
struct DataChannelHostileInputTests {
    /// a's channel `probe` still carries fresh messages both ways.
    static func stillWorks(_ probeA: DataChannel, _ probeB: DataChannel, tag: String) async throws {
        let recA = MessageRecorder(probeA), recB = MessageRecorder(probeB)
        try probeA.send(.text("a:\(tag)"))
        try probeB.send(.text("b:\(tag)"))
        #expect(await eventually { recB.messages.current.contains(.text("a:\(tag)")) && recA.messages.current.contains(.text("b:\(tag)")) })
    }

    static func connectedWithProbe() async throws -> (SctpPair, DataChannel, DataChannel) {
        let pair = try await SctpPair.make()
        try await pair.waitConnected()
        let probe = try pair.a.sctp.createDataChannel(label: "probe")
        try await probe.waitUntilOpen(timeout: .seconds(10))
        let probeB = try await pair.b.incomingChannel()
        return (pair, probe, probeB)
    }

    @Test("Malformed DCEP: short, unknown type, lengths that lie, bad UTF-8, unknown channel type, OPEN on a used or on our own stream", .timeLimit(.minutes(1)))
    func malformedDcep() async throws {
        let (pair, probe, probeB) = try await Self.connectedWithProbe()
        let core = pair.b.sctp.core
        let probeID = try #require(probe.id)
        let bad: [(UInt16, [UInt8])] = [
            (2, []),  // SCTP refuses empty messages; the peer cannot even send it
            (2, [0x03, 0x00]),  // OPEN shorter than its header
            (2, [0x09]),  // unknown message type
            (2, [0x02, 0x00]),  // ACK with a tail
            (2, [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x40, 0x00, 0x00, 0x41]),  // label length 64, 1 byte there
            (2, [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x02, 0x00, 0x00, 0xC3, 0x28]),  // invalid UTF-8 label
            (2, [0x03, 0x7F, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00]),  // unknown channel type
            (probeID, DcepMessage.open(DcepOpen(label: "hijack")).bytes),  // OPEN on the probe's stream
            (4, DcepMessage.open(DcepOpen(label: "our parity")).bytes),  // well-formed, on b's (the client's) even parity
        ]
        var sent = 0
        for (stream, bytes) in bad where core.sendRaw(stream: stream, ppid: 50, payload: bytes) { sent += 1 }
        #expect(sent >= 7)
        // a is the DTLS server: odd streams are a's own; an OPEN from b on an odd stream is refused.
        #expect(core.sendRaw(stream: 9, ppid: 50, payload: DcepMessage.open(DcepOpen(label: "wrong parity")).bytes))
        #expect(await eventually { pair.a.sctp.counters.malformedDcep >= 8 })
        try await Self.stillWorks(probe, probeB, tag: "after-dcep")
        let labels = pair.a.incoming.current.map(\.label)
        #expect(!labels.contains("hijack") && !labels.contains("wrong parity"))
        #expect(labels == ["our parity"], "only the well-formed OPEN on b's parity made a channel: \(labels)")
        #expect(probe.label == "probe" && probe.readyState == .open)
        await pair.close()
    }

    @Test("Unknown PPIDs and messages on streams without a channel are dropped and counted; the channel goes on", .timeLimit(.minutes(1)))
    func unknownPPID() async throws {
        let (pair, probe, probeB) = try await Self.connectedWithProbe()
        let core = pair.b.sctp.core
        let probeID = try #require(probe.id)
        let rec = MessageRecorder(probe)
        for ppid: UInt32 in [0, 1, 52_000, 99, 55, 58, UInt32.max] {
            #expect(core.sendRaw(stream: probeID, ppid: ppid, payload: [1, 2, 3]))
        }
        for stream: UInt16 in [100, 101, 1023] {
            #expect(core.sendRaw(stream: stream, ppid: 53, payload: [4, 5, 6]))
        }
        #expect(await eventually { pair.a.sctp.counters.unknownPPIDDropped == 7 && pair.a.sctp.counters.unknownStreamDropped == 3 })
        #expect(rec.messages.current.isEmpty, "nothing of it was delivered")
        // The deprecated partial PPIDs are read as their kind (old Chrome).
        #expect(core.sendRaw(stream: probeID, ppid: 54, payload: [7]))
        #expect(await eventually { rec.messages.current == [.binary([7])] })
        try await Self.stillWorks(probe, probeB, tag: "after-ppid")
        await pair.close()
    }

    @Test("A message over our 256 KiB limit closes its channel with a protocolViolation error; memory stays bounded; other channels go on", .timeLimit(.minutes(1)))
    func oversize() async throws {
        let (pair, probe, probeB) = try await Self.connectedWithProbe()
        let victim = try pair.a.sctp.createDataChannel(label: "victim")
        try await victim.waitUntilOpen(timeout: .seconds(10))
        let rec = MessageRecorder(victim)
        let victimID = try #require(victim.id)
        #expect(pair.b.sctp.core.sendRaw(stream: victimID, ppid: 53, payload: [UInt8](repeating: 0xAB, count: 262_145)))
        #expect(await eventually { victim.readyState == .closed })
        #expect(await eventually { rec.errors.current.first?.code == .protocolViolation && rec.errors.current.first?.field == "size" })
        #expect(rec.messages.current.isEmpty)
        #expect(pair.a.sctp.counters.oversizeMessages == 1)
        // 900 KiB in one message (the attacker's send buffer allows it): discarded piece by piece.
        let second = try pair.a.sctp.createDataChannel(label: "victim2")
        try await second.waitUntilOpen(timeout: .seconds(10))
        // It fits the attacker's 4 MiB send buffer once the first message left it (acknowledged):
        // a non-blocking send takes it whole or not at all.
        let secondID = try #require(second.id)
        let huge = [UInt8](repeating: 0x41, count: 900 * 1024)
        #expect(await eventually { pair.b.sctp.core.sendRaw(stream: secondID, ppid: 51, payload: huge) })
        #expect(await eventually { second.readyState == .closed })
        try await Self.stillWorks(probe, probeB, tag: "after-oversize")
        await pair.close()
    }

    @Test("An OPEN on every stream the peer may use: bounded by the negotiated streams, repeats ignored, the probe goes on", .timeLimit(.minutes(2)))
    func openFlood() async throws {
        try await MemoryHeavy.shared.run {
            let (pair, probe, probeB) = try await Self.connectedWithProbe()
            let core = pair.b.sctp.core
            var accepted = 0
            var refused = 0
            // All 32,768 even ids up to 65,534, twice: beyond the 1,024 negotiated streams
            // usrsctp refuses to send (an attacker's own usrsctp would too; the receiver drops
            // such chunks), below them each OPEN makes one channel, a repeat is ignored.
            for round in 0..<2 {
                for stream in stride(from: 0, through: 65_534, by: 2) {
                    let open = DcepMessage.open(DcepOpen(label: "flood-\(round)-\(stream)"))
                    // Unpaced: at most 1,024 small OPENs are really sent (~30 kB), far below the
                    // send buffer; the rest usrsctp refuses at once.
                    if core.sendRaw(stream: UInt16(stream), ppid: 50, payload: open.bytes) { accepted += 1 } else { refused += 1 }
                }
            }
            #expect(accepted >= 512 && accepted <= 1024)
            #expect(await eventually(.seconds(20)) { pair.a.incoming.current.count == 512 })
            // Sent after the flood: once the probe's message is through, a took in the repeats too;
            // then a barrier through a's context thread and handler queue.
            try await Self.stillWorks(probe, probeB, tag: "after-flood")
            await pair.a.dtlsPeer.settle()
            #expect(pair.a.incoming.current.count == 512, "one channel per stream, repeats ignored")
            #expect(pair.a.sctp.counters.malformedDcep >= 400)
            // Our own next channel still finds a free odd id.
            let mine = try pair.a.sctp.createDataChannel(label: "mine")
            try await mine.waitUntilOpen(timeout: .seconds(10))
            await pair.close()
        }
    }

    @Test("A peer that never reads: the sender's queue is bounded (bufferFull), write() waits, nothing is lost once it reads", .timeLimit(.minutes(2)))
    func neverReadingPeer() async throws {
        try await MemoryHeavy.shared.run {
            let config = SctpTransport.Configuration(sendBufferLimit: 2 << 20, receiveBufferLimit: 1 << 20)
            let pair = try await SctpPair.make(configuration: config)
            try await pair.waitConnected()
            let channel = try pair.a.sctp.createDataChannel(label: "flood")
            try await channel.waitUntilOpen(timeout: .seconds(10))
            let channelB = try await pair.b.incomingChannel()  // no handler, nobody iterates: b stops reading
            let lows = Box(0)
            channel.bufferedAmountLowThreshold = 256 * 1024
            channel.bufferedAmountLowHandler = { lows.withLock { $0 += 1 } }
            let message = [UInt8](repeating: 7, count: 64 * 1024)
            var accepted = 0
            var full: DataChannelError?
            // Paced by events, not a clock: on bufferFull, a barrier through both sides' context
            // threads and handler queues lets usrsctp drain what b's window still takes. The chain
            // is saturated once nothing moves any more: the queue is full, and neither a's
            // bufferedAmount nor what b took from the association changed across three barriers
            // in a row (b's budget is spent, its window is closed). However slow the machine (TSan),
            // only then can write() be expected to wait.
            var stillInARow = 0
            var last: (buffered: Int, received: UInt64)?
            for _ in 0..<5000 {
                do throws(DataChannelError) {
                    try channel.send(.binary(message))
                    accepted += 1
                    stillInARow = 0
                    last = nil
                } catch {
                    full = error
                    guard error.code == .bufferFull else { break }
                    await pair.a.dtlsPeer.settle()
                    await pair.b.dtlsPeer.settle()
                    await pair.a.dtlsPeer.settle()
                    let now = (buffered: channel.bufferedAmount, received: pair.b.sctp.counters.bytesReceived)
                    if let last, last == now { stillInARow += 1 } else { stillInARow = 0 }
                    last = now
                    if stillInARow == 3 { break }
                }
            }
            #expect(stillInARow == 3, "the chain never stood still")
            #expect(full?.code == .bufferFull, "the queue filled: \(String(describing: full)) after \(accepted)")
            // b's 1 MiB budget + b's 4 MiB SCTP window + a's 4 MiB usrsctp buffer + a's 2 MiB queue.
            #expect(accepted * message.count < 14 << 20, "accepted \(accepted) × 64 KiB before bufferFull")
            #expect(channel.bufferedAmount > 1 << 20)
            // write() waits instead of throwing …
            let writing = Box(false), written = Box(false)
            let writer = Task {
                writing.withLock { $0 = true }
                try await channel.write(.binary(message))
                written.withLock { $0 = true }
            }
            // Not done while b does not read: the writer started and is still waiting after a
            // barrier through a's context thread and handler queue.
            #expect(await eventually { writing.current })
            await pair.a.dtlsPeer.settle()
            await pair.b.dtlsPeer.settle()
            #expect(!written.current, "write() waits while b does not read")
            // … until b reads: everything arrives, in order, the low-threshold event fires.
            let total = accepted + 1
            let reader = Task {
                var got = 0
                for await m in channelB.messages() {
                    guard m == .binary(message) else { break }
                    got += 1
                    if got == total { break }
                }
                return got
            }
            try await writer.value
            let received = await withDeadline(.seconds(30)) { await reader.value }
            #expect(received == total)
            #expect(await eventually { lows.current >= 1 && channel.bufferedAmount == 0 })
            await pair.close()
        }
    }
}

@Suite("Data channels: a waiting write and the end of the association")
struct DataChannelWriteCancelTests {
    @Test("Cancelling a write that waits for room while the association ends neither deadlocks nor loses the error (10 rounds)", .timeLimit(.minutes(2)))
    func cancelWhileEnding() async throws {
        for round in 0..<10 {
            let pair = try await SctpPair.make(configuration: .init(sendBufferLimit: 256 * 1024, receiveBufferLimit: 256 * 1024))
            try await pair.waitConnected()
            let channel = try pair.a.sctp.createDataChannel(label: "w")
            try await channel.waitUntilOpen(timeout: .seconds(10))
            _ = try await pair.b.incomingChannel()  // nobody reads it: the window closes
            let message = DataChannelMessage.binary([UInt8](repeating: 1, count: 32 * 1024))
            let writer = Task {
                var written = 0
                while true {
                    do {
                        try await channel.write(message)
                        written += 1
                    } catch {
                        return (written, (error as? DataChannelError)?.code ?? .sctpFailure)
                    }
                }
            }
            #expect(await eventually { channel.bufferedAmount > 128 * 1024 }, "round \(round): the writer waits")
            // Both at once, from two threads: the association ends and the waiting task is cancelled.
            async let cancel: Void = { writer.cancel() }()
            async let end: Void = { pair.a.sctp.close() }()
            _ = await (cancel, end)
            let outcome = await withDeadline(.seconds(10)) { await writer.value }
            #expect(outcome != nil, "round \(round): write() returned")
            if let (_, code) = outcome { #expect(code == .cancelled || code == .notOpen || code == .closed, "round \(round): \(code)") }
            await pair.close()
        }
    }
}
