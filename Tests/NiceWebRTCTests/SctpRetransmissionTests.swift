import Foundation
import NiceICE
@testable import NiceWebRTC
import Synchronization
import Testing

/// Loses the receiver's acknowledgements of a transfer's last message, as Chromium's full socket
/// did in the stall of issue 17 (its `packetsDiscardedOnSend` 41): every SACK into the sender whose
/// cumulative TSN reaches the TSN of the message with SSN `finalSSN` is dropped — until the sender
/// sends that TSN (or an earlier one) again. Only a retransmission by the sender (usrsctp's T3-rtx,
/// or the watchdog's resend of the last DATA packet, which passes the filter too) can then finish
/// the transfer. Installed with ``SctpCore/setPacketFilter(_:)`` on the sender.
final class LossOfFinalSacks: Sendable {
    struct State {
        var finalTSN: UInt32?
        var droppedSacks = 0
        var retransmissions = 0
        var finalSentAt: ContinuousClock.Instant?
        var firstRetransmissionAt: ContinuousClock.Instant?
    }

    let finalSSN: UInt16
    let state = Mutex(State())

    init(finalSSN: UInt16) { self.finalSSN = finalSSN }

    var current: State { state.withLock { $0 } }

    func filter(inbound: Bool, _ packet: UnsafeRawBufferPointer) -> Bool {
        let chunks = Self.chunks(packet)
        return state.withLock { s in
            if inbound {
                guard let final = s.finalTSN, s.retransmissions == 0 else { return true }
                for c in chunks where c.type == 3 && c.length >= 16 && Int32(bitPattern: Self.u32(packet, c.offset + 4) &- final) >= 0 {
                    s.droppedSacks += 1
                    return false
                }
                return true
            }
            for c in chunks where c.type == 0 && c.length >= 16 {
                let tsn = Self.u32(packet, c.offset + 4)
                let ssn = UInt16(packet[c.offset + 10]) << 8 | UInt16(packet[c.offset + 11])
                if let final = s.finalTSN {
                    if Int32(bitPattern: tsn &- final) <= 0 {
                        s.retransmissions += 1
                        if s.firstRetransmissionAt == nil { s.firstRetransmissionAt = .now }
                    }
                } else if ssn == finalSSN, packet[c.offset + 1] & 1 != 0 {
                    s.finalTSN = tsn
                    s.finalSentAt = .now
                }
            }
            return true
        }
    }

    static func chunks(_ packet: UnsafeRawBufferPointer) -> [(type: UInt8, offset: Int, length: Int)] {
        var out: [(UInt8, Int, Int)] = []
        var o = 12
        while o + 4 <= packet.count, out.count < 64 {
            let length = Int(packet[o + 2]) << 8 | Int(packet[o + 3])
            guard length >= 4, o + length <= packet.count else { break }
            out.append((packet[o], o, length))
            o += (length + 3) & ~3
        }
        return out
    }

    static func u32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
}

extension SctpCore {
    /// The bytes usrsctp holds for the association (queued or unacknowledged), for tests.
    var usrsctpHeldBytes: Int? { locked { a in a.socket?.outputQueueBytes() } }
}

@Suite("SCTP: lost acknowledgements and retransmission", .serialized)
struct SctpRetransmissionTests {
    @Test(
        "the receiver's SACKs of the last message are lost until the sender sends again: usrsctp retransmits (T3-rtx) or the watchdog resends the last DATA packet, and the transfer completes",
        .timeLimit(.minutes(2)))
    func lostFinalSacks() async throws {
        let pair = try await SctpPair.make()
        let channel = try pair.a.sctp.createDataChannel(label: "lossy end")
        try await pair.waitConnected()
        try await channel.waitUntilOpen(timeout: .seconds(10))
        let channelB = try await pair.b.incomingChannel(0)
        let received = MessageRecorder(channelB)
        // The DCEP OPEN took SSN 0 on the channel's stream: message i goes with SSN i.
        let count = 2_000
        let loss = LossOfFinalSacks(finalSSN: UInt16(count))
        pair.a.sctp.core.setPacketFilter { inbound, packet in loss.filter(inbound: inbound, packet) }
        for i in 1...count { try await channel.write(.binary(numbered(i, size: 1024))) }
        // b has every message: only its acknowledgements are lost.
        #expect(await eventually(.seconds(30)) { received.count == count }, "b received \(received.count) of \(count)")
        #expect(await eventually(.seconds(10)) { loss.current.droppedSacks > 0 }, "no SACK of the last message was dropped")
        // a learns it only from a SACK that answers a retransmission: usrsctp's T3-rtx fires after
        // one RTO (≥ rto_min 200 ms, ≤ rto_max 10 s) — when usrsctp schedules it (usrsctp#750: it
        // sometimes does not) — and the watchdog resends after 1–3 s without progress; 30 s is
        // three times the longest wait for either.
        let drained = await eventually(.seconds(30)) { pair.a.sctp.core.usrsctpHeldBytes == 0 }
        let s = loss.current
        var wait: Duration?
        if let sent = s.finalSentAt, let again = s.firstRetransmissionAt { wait = again - sent }
        let usrsctpRetransmitted = pair.a.sctp.core.wire.retransmittedChunks
        let watchdogResends = pair.a.sctp.core.counters.watchdogResends.load(ordering: .relaxed)
        print("lost final SACKs: dropped \(s.droppedSacks), retransmitted chunks \(s.retransmissions) (first after \(wait.map { "\($0)" } ?? "never")), a's usrsctp holds \(pair.a.sctp.core.usrsctpHeldBytes ?? -1) bytes, wire count: \(usrsctpRetransmitted) retransmitted by usrsctp, watchdog resends \(watchdogResends)")
        #expect(s.retransmissions > 0, "neither usrsctp nor the watchdog sent the unacknowledged end of the transfer again")
        #expect(drained, "a's usrsctp still holds \(pair.a.sctp.core.usrsctpHeldBytes ?? -1) bytes")
        if usrsctpRetransmitted == 0 {
            #expect(watchdogResends > 0, "usrsctp did not retransmit, and the watchdog did not resend")
        }
        #expect(watchdogResends <= UInt64(SctpWatchdog.maximumAttempts), "more watchdog resends than attempts allowed")
        // And the association still works: more messages go through.
        for i in 1...10 { try await channel.write(.binary(numbered(count + i, size: 100))) }
        #expect(await eventually(.seconds(10)) { received.count == count + 10 })
        pair.a.sctp.core.setPacketFilter(nil)
        await pair.close()
    }
    @Test(
        "usrsctp's T3-rtx held back (RTO pinned at 60 s, as usrsctp#750 leaves it unscheduled) and the final SACKs lost: the watchdog resends the last DATA packet within seconds and the transfer completes",
        .timeLimit(.minutes(2)))
    func watchdogEndsTheStall() async throws {
        let pair = try await SctpPair.make()
        let channel = try pair.a.sctp.createDataChannel(label: "stalled end")
        try await pair.waitConnected()
        try await channel.waitUntilOpen(timeout: .seconds(10))
        let channelB = try await pair.b.incomingChannel(0)
        let received = MessageRecorder(channelB)
        let pinned = pair.a.sctp.core.locked { a in a.socket?.pinRetransmissionTimeout(milliseconds: 60_000) ?? false }
        #expect(pinned, "usrsctp refused SCTP_RTOINFO")
        // usrsctp applies the pinned RTO at its next RTT measurements: small messages first (no
        // loss expected), then the lossy end. Few messages in it: with T3 pinned at 60 s, a chunk
        // lost mid-transfer (loopback drops under load) would wait for that RTO too — a stall of
        // the test's own making, not the one here.
        let warmup = 300
        for i in 1...warmup { try await channel.write(.binary(numbered(i, size: 100))) }
        #expect(await eventually(.seconds(30)) { received.count == warmup && pair.a.sctp.core.usrsctpHeldBytes == 0 })
        let count = warmup + 20
        let loss = LossOfFinalSacks(finalSSN: UInt16(count))
        pair.a.sctp.core.setPacketFilter { inbound, packet in loss.filter(inbound: inbound, packet) }
        let start = ContinuousClock.now
        for i in (warmup + 1)...count { try await channel.write(.binary(numbered(i, size: 1024))) }
        #expect(await eventually(.seconds(30)) { received.count == count }, "b received \(received.count) of \(count)")
        #expect(await eventually(.seconds(10)) { loss.current.droppedSacks > 0 }, "no SACK of the last message was dropped")
        let drained = await eventually(.seconds(30)) { pair.a.sctp.core.usrsctpHeldBytes == 0 }
        let took = ContinuousClock.now - start
        let resends = pair.a.sctp.core.counters.watchdogResends.load(ordering: .relaxed)
        print("watchdog: \(resends) resends, usrsctp retransmitted \(pair.a.sctp.core.wire.retransmittedChunks) chunks, drained \(drained) after \(took)")
        #expect(drained, "a's usrsctp still holds \(pair.a.sctp.core.usrsctpHeldBytes ?? -1) bytes")
        #expect(resends >= 1 && resends <= UInt64(SctpWatchdog.maximumAttempts), "watchdog resends: \(resends)")
        #expect(took < .seconds(40), "the stall lasted \(took): as long as usrsctp's own RTO")
        for i in 1...10 { try await channel.write(.binary(numbered(count + i, size: 100))) }
        #expect(await eventually(.seconds(10)) { received.count == count + 10 })
        pair.a.sctp.core.setPacketFilter(nil)
        await pair.close()
    }

    @Test(
        "a healthy transfer of 5,000 messages: no watchdog resend, and the watchdog stops once everything is acknowledged",
        .timeLimit(.minutes(2)))
    func healthyTransferNoWatchdog() async throws {
        let pair = try await SctpPair.make()
        let channel = try pair.a.sctp.createDataChannel(label: "healthy")
        try await pair.waitConnected()
        try await channel.waitUntilOpen(timeout: .seconds(10))
        let channelB = try await pair.b.incomingChannel(0)
        let received = MessageRecorder(channelB)
        let count = 5_000
        for i in 1...count { try await channel.write(.binary(numbered(i, size: 1024))) }
        #expect(await eventually(.seconds(30)) { received.count == count }, "b received \(received.count) of \(count)")
        #expect(await eventually(.seconds(10)) { pair.a.sctp.core.usrsctpHeldBytes == 0 })
        // Idle: the timer stops at its next tick and drops its copy.
        #expect(await eventually(.seconds(5)) { pair.a.sctp.core.watchdog.state.withLock { !$0.armed && $0.lastData == nil } }, "the watchdog still runs on an idle association")
        for side in [pair.a, pair.b] {
            #expect(side.sctp.core.counters.watchdogResends.load(ordering: .relaxed) == 0)
            #expect(side.sctp.counters.watchdogResends == 0)
        }
        await pair.close()
        #expect(pair.a.sctp.core.watchdog.state.withLock { $0.ended && $0.lastData == nil })
    }

    @Test(
        "30,000 messages each way on one channel (more than usrsctpMessageLimit): every message arrives, in order, and the send queue never waited on the message cap",
        .timeLimit(.minutes(2)))
    func moreThanTheMessageCapEachWay() async throws {
        let pair = try await SctpPair.make()
        let channelA = try pair.a.sctp.createDataChannel(label: "long transfer")
        try await pair.waitConnected()
        try await channelA.waitUntilOpen(timeout: .seconds(10))
        let channelB = try await pair.b.incomingChannel(0)
        let atB = MessageRecorder(channelB)
        let atA = MessageRecorder(channelA)
        let count = 30_000
        #expect(count > SctpCore.usrsctpMessageLimit)
        // 1 KiB messages: usrsctp's 4 MiB send buffer holds about 4,000 of them, under the cap.
        async let aSent: Void = { for i in 0..<count { try await channelA.write(.binary(numbered(i, size: 1024))) } }()
        async let bSent: Void = { for i in 0..<count { try await channelB.write(.binary(numbered(i, size: 1024))) } }()
        try await aSent
        try await bSent
        let all = await eventually(.seconds(60)) { atA.count == count && atB.count == count }
        #expect(all, "a received \(atA.count), b received \(atB.count) of \(count)")
        let expected: [DataChannelMessage] = (0..<count).map { .binary(numbered($0, size: 1024)) }
        #expect(atB.messages.current == expected, "b's messages are not 0..<\(count) in order")
        #expect(atA.messages.current == expected, "a's messages are not 0..<\(count) in order")
        // usrsctp holds at most its 4 MiB send buffer of 1 KiB messages (about 4,000): measured,
        // the cap never binds. The cumulative count it replaces stopped the queue at every 8,192nd
        // message until usrsctp had drained completely (what a lost SACK turned into a stall).
        for side in [pair.a, pair.b] {
            #expect(side.sctp.core.counters.usrsctpCapStops.load(ordering: .relaxed) == 0)
            #expect(await eventually(.seconds(10)) { side.sctp.core.usrsctpHeldBytes == 0 })
        }
        await pair.close()
    }
}
