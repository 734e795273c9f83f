import Dispatch
import Foundation
import NiceICE
import NiceWebRTC
import Synchronization
import Testing

/// Runs `senders` threads calling `send` until `close` (on one more thread) has run and every
/// sender saw an error; false when they did not all finish within `timeout` (a deadlock).
func raceCloseAgainstSenders(senders: Int, timeout: Duration, send: @escaping @Sendable () -> Bool, close: @escaping @Sendable () -> Void) async -> Bool {
    let group = DispatchGroup()
    let closed = Atomic<Bool>(false)
    for _ in 0..<senders {
        group.enter()
        Thread.detachNewThread {
            // Bounded: at most 100,000 sends, and a sender stops at its first failure after close.
            for _ in 0..<100_000 {
                if !send() && closed.load(ordering: .acquiring) { break }
            }
            group.leave()
        }
    }
    group.enter()
    Thread.detachNewThread {
        usleep(UInt32.random(in: 0...2_000))
        close()
        closed.store(true, ordering: .releasing)
        group.leave()
    }
    return await withDeadline(timeout) {
        await withCheckedContinuation { (k: CheckedContinuation<Bool, Never>) in group.notify(queue: .global()) { k.resume(returning: true) } }
    } ?? false
}

/// Rounds per race: 300 in CI; `NICE_CLOSE_RACE_ROUNDS=10000` for the long run (about 15 minutes).
private let raceRounds = ProcessInfo.processInfo.environment["NICE_CLOSE_RACE_ROUNDS"].flatMap(Int.init) ?? 300

@Suite("Closing while other threads send: no deadlock, no lock held across libnice or usrsctp", .serialized)
struct CloseRaceTests {
    @Test("ICE close() from another thread races 4 threads sending DTLS datagrams, 300 rounds (NICE_CLOSE_RACE_ROUNDS)", .timeLimit(.minutes(30)))
    func dtlsSendersAgainstIceClose() async throws {
        for round in 0..<raceRounds {
            let pair = try await DtlsPair.make()
            try await pair.waitConnected()
            let dtls = pair.a.dtls, pc = pair.a.pc
            let payload = [UInt8](repeating: 0x42, count: 1000)
            let finished = await raceCloseAgainstSenders(senders: 4, timeout: .seconds(20)) {
                (try? dtls.send(payload)) != nil
            } close: {
                pc.close()
            }
            try #require(finished, "round \(round): a sender or close() never returned (deadlock)")
            #expect(dtls.state == .closed)
            await pair.close()
        }
    }

    @Test("SctpTransport close() from another thread races 4 threads sending on a channel, 300 rounds (NICE_CLOSE_RACE_ROUNDS)", .timeLimit(.minutes(30)))
    func channelSendersAgainstClose() async throws {
        for round in 0..<raceRounds {
            let pair = try await SctpPair.make()
            let channel = try pair.a.sctp.createDataChannel(label: "race")
            try await pair.waitConnected()
            try await channel.waitUntilOpen(timeout: .seconds(10))
            let sctp = pair.a.sctp, pc = pair.a.pc
            let finished = await raceCloseAgainstSenders(senders: 4, timeout: .seconds(20)) {
                (try? channel.send(.binary([UInt8](repeating: 1, count: 1000)))) != nil
            } close: {
                if round % 2 == 0 { sctp.close() } else { pc.close() }
            }
            try #require(finished, "round \(round): a sender or close() never returned (deadlock)")
            #expect(await eventually { channel.readyState == .closed })
            await pair.close()
        }
    }
}
