import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

/// The connection's own events for what lives in its transports (W3C
/// `RTCIceTransport.onselectedcandidatepairchange`, `RTCDtlsTransport.onstatechange`), and what
/// `stats()` counts as received (issue 18 findings 1 and 4).
@Suite("PeerConnection: selected pair and DTLS events, received counters")
struct PeerConnectionEventsTests {
    @Test("stats(): the pair's and the transport's packets and bytes received are what arrived over ICE, though DTLS took every datagram", .timeLimit(.minutes(1)))
    func receivedCounters() async throws {
        let a = try loopbackPeer(), b = try loopbackPeer()
        let links = trickle(a, b)
        let channel = try a.createDataChannel("count")
        try await negotiate(a, b)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        let payload = [UInt8](repeating: 7, count: 1000)
        for _ in 0..<20 { try incoming.send(bytes: payload) }
        var got = 0
        for await _ in channel.messages() {
            got += 1
            if got == 20 { break }
        }
        // a's received first, then b's sent: a cannot have received more than b sent.
        let report = await a.stats()
        let sent = await b.stats()
        let ice = a.iceTransport.counters
        let pair = try #require(report.selectedCandidatePair)
        #expect(report.transport.packetsReceived > 20 && report.transport.bytesReceived > 20 * 1000)
        #expect(pair.packetsReceived == report.transport.packetsReceived && pair.bytesReceived == report.transport.bytesReceived)
        #expect(report.transport.packetsReceived <= sent.transport.packetsSent)
        #expect(report.transport.bytesReceived <= sent.transport.bytesSent)
        // The ICE transport's own receive counters keep their meaning: DTLS took component 1, so
        // nothing reached its receive handler; what arrived is counted apart.
        #expect(ice.datagramsReceived == 0 && ice.bytesReceived == 0)
        #expect(ice.datagramsArrived >= report.transport.packetsReceived)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
    }

    @Test("selected pair and DTLS state: events on the connection's queue (pair before ICE connected, cipher known at DTLS connected), properties, streams that replay, closed on close()", .timeLimit(.minutes(1)))
    func selectedPairAndDtlsEvents() async throws {
        let queue = DispatchQueue(label: "test.pair-dtls")
        let a = try loopbackPeer(queue: queue), b = try loopbackPeer()
        let log = Box<[String]>([]), pairs = Box<[CandidatePair]>([]), dtls = Box<[DtlsTransportStateChange]>([])
        let cipherAtConnected = Box<String?>(nil), offQueue = Box(0)
        let onQueue: @Sendable () -> Void = {
            if DispatchQueue.getSpecific(key: Self.key) != "a" { offQueue.withLock { $0 += 1 } }
        }
        queue.setSpecific(key: Self.key, value: "a")
        #expect(a.selectedCandidatePair == nil && a.dtlsState == .new)
        a.selectedCandidatePairHandler = { pair in
            onQueue()
            pairs.withLock { $0.append(pair) }
            log.withLock { $0.append("pair") }
        }
        a.iceConnectionStateHandler = { s in
            onQueue()
            log.withLock { $0.append("ice \(s.rawValue)") }
        }
        a.dtlsStateHandler = { change in
            onQueue()
            dtls.withLock { $0.append(change) }
            if change.state == .connected { cipherAtConnected.withLock { $0 = a.dtlsTransport.cipherSuite } }
        }
        let links = trickle(a, b)
        let channel = try a.createDataChannel("x")
        try await negotiate(a, b)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        try await a.waitUntilConnected(timeout: .seconds(10))
        queue.sync {}
        #expect(offQueue.current == 0)
        let seen = pairs.current
        #expect(!seen.isEmpty)
        #expect(seen.allSatisfy { $0.component == 1 && $0.local.address == "127.0.0.1" })
        #expect(a.selectedCandidatePair == seen.last)
        #expect(a.selectedCandidatePair == a.iceTransport.selectedPair)
        // W3C order: selectedcandidatepairchange, then the iceconnectionstatechange it causes.
        let order = log.current
        let firstPair = order.firstIndex(of: "pair"), firstConnected = order.firstIndex(of: "ice connected")
        #expect((firstPair ?? .max) < (firstConnected ?? -1), "\(order)")
        #expect(dtls.current.map(\.state) == [.connecting, .connected])
        #expect(a.dtlsState == .connected)
        #expect(cipherAtConnected.current != nil && cipherAtConnected.current == a.dtlsTransport.cipherSuite)
        // New streams replay the current values first.
        var pairIterator = a.selectedCandidatePairChanges().makeAsyncIterator()
        #expect(await pairIterator.next() == seen.last)
        var dtlsIterator = a.dtlsStateChanges().makeAsyncIterator()
        #expect(await dtlsIterator.next()?.state == .connected)
        // The report names the same pair.
        let report = await a.stats()
        #expect(report.transport.dtlsCipher == a.dtlsTransport.cipherSuite)
        // close(): DTLS state closed at once, no event; the streams finish.
        let before = dtls.current.count
        a.close()
        #expect(a.dtlsState == .closed)
        #expect(await dtlsIterator.next()?.state == .closed)
        #expect(await dtlsIterator.next() == nil)
        #expect(await pairIterator.next() == nil)
        queue.sync {}
        #expect(dtls.current.count == before)
        #expect(a.selectedCandidatePairHandler == nil && a.dtlsStateHandler == nil)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
    }

    static let key = DispatchSpecificKey<String>()
}
