import Foundation
import Synchronization
import Testing

@testable import NiceICE

@Suite("Data over ICE", .timeLimit(.minutes(1)))
struct DataPathTests {
    /// Datagram `i` of a run: its index in the first 4 bytes, then a pattern derived from it.
    static func payload(_ i: Int, size: Int = 300) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        withUnsafeBytes(of: UInt32(i).bigEndian) { for k in 0..<4 { bytes[k] = $0[k] } }
        for k in 4..<size { bytes[k] = UInt8(truncatingIfNeeded: i &* 31 &+ k) }
        return bytes
    }

    /// Reads `stream` until it finishes, `limit` elements arrived or `timeout` passed, whichever is
    /// first; `finished` tells whether the stream itself ended. A lost element therefore fails
    /// the caller's count check after `timeout` instead of waiting for ever.
    static func collect<Element: Sendable>(
        _ stream: AsyncStream<Element>, upTo limit: Int = .max, timeout: Duration = .seconds(10)
    ) async -> (elements: [Element], finished: Bool) {
        await withTaskGroup(of: ([Element], Bool)?.self) { group in
            group.addTask {
                var elements: [Element] = []
                for await e in stream {
                    elements.append(e)
                    if elements.count == limit { return (elements, false) }
                }
                // The iterator also ends when this task is cancelled (the timeout won).
                return (elements, !Task.isCancelled)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)  // cancelled when the reader is done first
                return nil
            }
            var result: ([Element], Bool) = ([], false)
            for await r in group {
                if let r { result = r }
                group.cancelAll()
            }
            return result
        }
    }

    @Test("1,000 datagrams each way, every byte checked, none lost or reordered on loopback")
    func thousandEachWay() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let n = 1000
        // Send from two threads at once: `send` is callable from any thread. A window of 100
        // datagrams in flight keeps the sender under the receiver's socket buffer even when the
        // receiver is slowed down (ThreadSanitizer), so any loss is a real loss. A window that does
        // not drain within 5 s means a datagram was lost: that direction fails and stops at once
        // (instead of waiting 5 s for every later window, past the time limit).
        await withTaskGroup(of: Void.self) { group in
            for (from, to, tag) in [(pair.left, pair.right, 0), (pair.right, pair.left, 1)] {
                group.addTask {
                    for i in 0..<n {
                        do {
                            try from.pc.send(Self.payload(i * 2 + tag))
                        } catch {
                            Issue.record("\(from.name) send \(i): \(error)")
                            return
                        }
                        let due = i + 1 - 100
                        if i % 50 == 49, !(await to.waitForDatagrams(due, timeout: .seconds(5))) {
                            Issue.record("\(to.name) got \(to.datagrams.withLock { $0.count }) of the first \(due) datagrams within 5 s: lost")
                            return
                        }
                    }
                }
            }
        }
        #expect(await pair.right.waitForDatagrams(n))
        #expect(await pair.left.waitForDatagrams(n))
        for (side, tag) in [(pair.right, 0), (pair.left, 1)] {
            let got = side.datagrams.withLock { $0 }
            #expect(got.count == n)
            for (i, d) in got.enumerated() where d.bytes != Self.payload(i * 2 + tag) {
                Issue.record("\(side.name): datagram \(i) differs")
                break
            }
        }
        await pair.closeBoth()
    }

    @Test("The receive stream sees the same datagrams as the handler and finishes on close")
    func receiveStream() async throws {
        let pair = try Loopback()
        let stream = pair.right.pc.receivedDatagrams()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        for i in 0..<100 { try pair.left.pc.send(Self.payload(i, size: 64)) }
        // Bounded: a lost datagram shows as a short count after 10 s, not as a hang.
        let first = await Self.collect(stream, upTo: 100)
        #expect(first.elements.count == 100)
        #expect(first.elements.map(\.bytes) == (0..<100).map { Self.payload($0, size: 64) })
        // The handler is fed after the streams: wait for it, then it saw the same datagrams.
        #expect(await pair.right.waitForDatagrams(100))
        #expect(pair.right.datagrams.withLock { $0.map(\.bytes) } == first.elements.map(\.bytes))

        // A second stream sees only what arrives after it was made (not the 100 before), keeps
        // what arrived before close, and then finishes because of close.
        let again = pair.right.pc.receivedDatagrams()
        for i in 100..<105 { try pair.left.pc.send(Self.payload(i, size: 64)) }
        // Streams are fed before the handler, so once the handler has all 105, `again` has its 5.
        #expect(await pair.right.waitForDatagrams(105))
        pair.right.closeNow()
        let rest = await Self.collect(again)
        #expect(rest.finished, "the stream did not finish within 10 s of close()")
        #expect(rest.elements.map(\.bytes) == (100..<105).map { Self.payload($0, size: 64) })
        // The first stream, left unread after its 100th element, finishes on close as well.
        let tail = await Self.collect(stream)
        #expect(tail.finished)
        #expect(tail.elements.map(\.bytes) == (100..<105).map { Self.payload($0, size: 64) })
        await pair.left.pc.closeAndWait()
    }

    @Test("send before a pair is selected throws notConnected; after close throws closed")
    func sendErrors() async throws {
        let pair = try Loopback(leftToRight: Signalling(candidates: false), rightToLeft: Signalling(candidates: false))
        do {
            try pair.left.pc.send([1, 2, 3])
            Issue.record("send before connecting succeeded")
        } catch {
            #expect(error.code == .notConnected)
            #expect(error.field == "component")
        }
        pair.left.closeNow()
        do {
            try pair.left.pc.send([1])
            Issue.record("send after close succeeded")
        } catch {
            #expect(error.code == .closed)
        }
        await pair.closeBoth()
    }

    @Test("An oversize datagram is refused with a typed error and the connection keeps working")
    func oversizeDatagram() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        do {
            try pair.left.pc.send([UInt8](repeating: 0, count: IceTransport.maximumDatagramSize + 1))
            Issue.record("oversize send succeeded")
        } catch {
            #expect(error.code == .datagramTooLarge)
            #expect(error.field == "bytes")
        }
        // The largest allowed datagram still goes through.
        try pair.left.pc.send([UInt8](repeating: 9, count: IceTransport.maximumDatagramSize))
        #expect(await pair.right.waitForDatagrams(1))
        #expect(pair.right.datagrams.withLock { $0.first?.bytes.count } == IceTransport.maximumDatagramSize)
        #expect(pair.left.pc.iceConnectionState == .completed)
        await pair.closeBoth()
    }
}
