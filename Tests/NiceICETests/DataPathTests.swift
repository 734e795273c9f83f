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

    @Test("1,000 datagrams each way, every byte checked, none lost or reordered on loopback")
    func thousandEachWay() async throws {
        let pair = try Loopback()
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let n = 1000
        // Send from two threads at once: `send` is callable from any thread. A window of 100
        // datagrams in flight keeps the sender under the receiver's socket buffer even when the
        // receiver is slowed down (ThreadSanitizer), so any loss is a real loss.
        await withTaskGroup(of: Void.self) { group in
            for (from, to, tag) in [(pair.left, pair.right, 0), (pair.right, pair.left, 1)] {
                group.addTask {
                    for i in 0..<n {
                        do { try from.pc.send(Self.payload(i * 2 + tag)) } catch { Issue.record("send \(i): \(error)") }
                        if i % 50 == 49 { _ = await to.waitForDatagrams(i + 1 - 100, timeout: .seconds(5)) }
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
        var count = 0
        for await d in stream {
            #expect(d.bytes == Self.payload(count, size: 64))
            count += 1
            if count == 100 { break }
        }
        #expect(count == 100)
        let again = pair.right.pc.receivedDatagrams()
        pair.right.closeNow()
        var after = 0
        for await _ in again { after += 1 }  // finishes because of close
        #expect(after == 0)
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
            try pair.left.pc.send([UInt8](repeating: 0, count: PeerConnection.maximumDatagramSize + 1))
            Issue.record("oversize send succeeded")
        } catch {
            #expect(error.code == .datagramTooLarge)
            #expect(error.field == "bytes")
        }
        // The largest allowed datagram still goes through.
        try pair.left.pc.send([UInt8](repeating: 9, count: PeerConnection.maximumDatagramSize))
        #expect(await pair.right.waitForDatagrams(1))
        #expect(pair.right.datagrams.withLock { $0.first?.bytes.count } == PeerConnection.maximumDatagramSize)
        #expect(pair.left.pc.iceConnectionState == .completed)
        await pair.closeBoth()
    }
}
