import Foundation
import Logging
import NiceICE
import NiceWebRTCCore
import Testing

@testable import NiceWebRTC

/// A media layer on a test peer, recording what it delivered.
final class MediaPeer: Sendable {
    let srtp: SrtpCore
    let rtp = Box<[[UInt8]]>([])
    let rtcp = Box<[[UInt8]]>([])

    init(_ dtls: DtlsTransport) throws {
        srtp = try SrtpCore(dtls: dtls)
        let rtp = self.rtp, rtcp = self.rtcp
        srtp.setPacketHandler { packet in
            switch packet.kind {
            case .rtp: rtp.withLock { $0.append(packet.bytes) }
            case .rtcp: rtcp.withLock { $0.append(packet.bytes) }
            }
        }
    }
}

@Suite("DTLS-SRTP over ICE on 127.0.0.1", .serialized)
struct SrtpLoopbackTests {
    @Test("both sides negotiate the same profile and derive mirror keys, in both DTLS roles", .timeLimit(.minutes(1)),
          arguments: [(DtlsRole.auto, DtlsRole.auto), (.client, .server), (.server, .client)])
    func mirrorKeys(roles: (DtlsRole, DtlsRole)) async throws {
        let pair = try await DtlsPair.make(roles: roles)
        try await pair.waitConnected()
        #expect(pair.a.dtls.srtpProfile == "SRTP_AEAD_AES_128_GCM", "GCM first, both support it")
        #expect(pair.b.dtls.srtpProfile == pair.a.dtls.srtpProfile)
        let ka = try #require(pair.a.dtls.core.srtpKeys)
        let kb = try #require(pair.b.dtls.core.srtpKeys)
        #expect(ka.localIsClient != kb.localIsClient)
        #expect(ka.keys == kb.keys, "one exporter output on both ends")
        #expect(ka.keys.outbound(localIsClient: ka.localIsClient) == kb.keys.inbound(localIsClient: kb.localIsClient))
        #expect(ka.keys.inbound(localIsClient: ka.localIsClient) == kb.keys.outbound(localIsClient: kb.localIsClient))
        #expect(ka.keys.outbound(localIsClient: ka.localIsClient) != ka.keys.inbound(localIsClient: ka.localIsClient))
        // The same bytes as the public exporter (RFC 5764 §4.2 layout).
        let raw = try pair.a.dtls.exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", length: 56)
        #expect(ka.keys == DtlsSrtpKeys(profile: .aeadAes128Gcm, material: raw))
        await pair.close()
    }

    @Test("1,000 RTP packets protected on a arrive unprotected on b intact, RTCP both ways", .timeLimit(.minutes(1)))
    func mediaFlows() async throws {
        let pair = try await DtlsPair.make()
        let ma = try MediaPeer(pair.a.dtls)
        let mb = try MediaPeer(pair.b.dtls)
        try await pair.waitConnected()
        #expect(await eventually { ma.srtp.isKeyed && mb.srtp.isKeyed })
        #expect(ma.srtp.profile == .aeadAes128Gcm && mb.srtp.profile == .aeadAes128Gcm)
        let count = 1000
        for i in 0..<count {
            try ma.srtp.sendRtp(rtpPacket(seq: UInt16(i), payloadSize: 100 + i % 1000))
            if i % 50 == 49 {
                // Paced, in windows of 50 packets (up to 55 KB): UDP on loopback loses only what
                // overflows a socket buffer, which a loaded machine (suites run in parallel) would
                // otherwise do while the receiver's context thread is busy.
                _ = await eventually(.seconds(5)) { mb.rtp.withLock { $0.count } > i }
            }
            if i % 100 == 99 {
                try mb.srtp.sendRtcp(rtcpReceiverReport(tag: UInt8(i / 100)))
                try ma.srtp.sendRtcp(rtcpReceiverReport(ssrc: 0xAAAA_AAAA, tag: UInt8(i / 100)))
            }
        }
        let arrived = await eventually(.seconds(10)) {
            mb.rtp.withLock { $0.count } >= count && ma.rtcp.withLock { $0.count } >= 10 && mb.rtcp.withLock { $0.count } >= 10
        }
        #expect(arrived, "b: \(mb.srtp.counters), a: \(ma.srtp.counters)")
        let got = mb.rtp.current
        let expected = (0..<count).map { rtpPacket(seq: UInt16($0), payloadSize: 100 + $0 % 1000) }
        let missing = (0..<count).filter { i in !got.contains(expected[i]) }
        #expect(missing.isEmpty, "lost: \(missing.count) (first \(missing.prefix(10))); b: \(mb.srtp.counters)")
        let exact = got == expected  // (compared outside #expect, which would print 1,000 packets)
        #expect(exact, "none lost, in order, byte-exact (\(got.count) packets)")
        #expect(ma.rtcp.current == (0..<10).map { rtcpReceiverReport(tag: UInt8($0)) })
        #expect(mb.rtcp.current == (0..<10).map { rtcpReceiverReport(ssrc: 0xAAAA_AAAA, tag: UInt8($0)) })
        let ca = ma.srtp.counters, cb = mb.srtp.counters
        #expect(ca.rtpPacketsSent == 1000 && ca.rtcpPacketsSent == 10 && cb.rtcpPacketsSent == 10)
        #expect(cb.rtpPacketsReceived == 1000 && cb.rtcpPacketsReceived == 10 && ca.rtcpPacketsReceived == 10)
        #expect(cb.authFailures == 0 && cb.replays == 0 && cb.droppedBeforeKeys == 0)
        // Media never reached the DTLS plaintext path, and nothing was dropped as non-DTLS.
        #expect(pair.b.receivedCount == 0 && pair.b.dtls.counters.nonDtlsDropped == 0)
        await pair.close()
        // Closing DTLS released the sessions: sending is refused.
        do {
            try ma.srtp.sendRtp(rtpPacket(seq: 1))
            Issue.record("sent after close")
        } catch {
            #expect(error.code == .closed)
        }
        #expect(!ma.srtp.isKeyed)
    }

    @Test("the payload is never in clear on the wire; every media datagram is SRTP (first byte 128-191)",
          .timeLimit(.minutes(1)))
    func wireIsProtected() async throws {
        let relay = try RecordingRelay()
        defer { relay.stop() }
        let pair = try await DtlsPair.make(relay: relay)
        let ma = try MediaPeer(pair.a.dtls)
        let mb = try MediaPeer(pair.b.dtls)
        try await pair.waitConnected()
        #expect(await eventually { ma.srtp.isKeyed && mb.srtp.isKeyed })
        let marker = Array("PLAINTEXT-MARKER".utf8)
        for i in 0..<50 { try ma.srtp.sendRtp(rtpPacket(seq: UInt16(i), payloadSize: 0) + marker + payload(i, size: 40)) }
        #expect(await eventually { mb.rtp.withLock { $0.count } == 50 })
        #expect(mb.rtp.current.allSatisfy { $0.contains(subsequence: marker) }, "delivered in clear")
        let wire = relay.datagrams
        #expect(!wire.contains { $0.contains(subsequence: marker) })
        #expect(wire.filter { (128...191).contains($0.first ?? 0) }.count >= 50)
        await pair.close()
    }

    @Test("RTP before DTLS completes is dropped and counted, sending then throws notReady; media works after",
          .timeLimit(.minutes(1)))
    func beforeKeys() async throws {
        let a = try DtlsPeer("a", ice: .controlling)
        let b = try DtlsPeer("b", ice: .controlled)
        let ma = try MediaPeer(a.dtls)
        let mb = try MediaPeer(b.dtls)
        // ICE connects; only b knows the DTLS parameters: no handshake can complete yet.
        let answer = try b.dtls.setRemoteParameters(a.dtls.localParameters)
        try await exchangeIce(a.pc, b.pc)
        try await a.pc.waitUntilConnected(timeout: .seconds(10))
        #expect(throws: SrtpError.self) { try ma.srtp.sendRtp(rtpPacket(seq: 1)) }
        do { try ma.srtp.sendRtp(rtpPacket(seq: 1)) } catch { #expect(error.code == .notReady) }
        // Raw RTP-looking datagrams straight over ICE (as a peer that sends early would).
        for i in 0..<20 { try a.pc.send(rtpPacket(seq: UInt16(i))) }
        try a.pc.send([0x80, 0x60])  // too short for a header
        #expect(await eventually { mb.srtp.counters.droppedBeforeKeys == 20 && mb.srtp.counters.malformedDropped == 1 }, "\(mb.srtp.counters)")
        #expect(mb.rtp.current.isEmpty && b.receivedCount == 0)
        #expect(b.dtls.counters.nonDtlsDropped == 0, "RTP goes to the media layer, not the non-DTLS count")
        // Now the handshake, then media.
        try a.dtls.setRemoteParameters(answer)
        try await a.dtls.waitUntilConnected(timeout: .seconds(10))
        try await b.dtls.waitUntilConnected(timeout: .seconds(10))
        #expect(await eventually { ma.srtp.isKeyed && mb.srtp.isKeyed })
        try ma.srtp.sendRtp(rtpPacket(seq: 100))
        #expect(await eventually { mb.rtp.current == [rtpPacket(seq: 100)] })
        a.dtls.close()
        b.dtls.close()
        await a.pc.closeAndWait()
        await b.pc.closeAndWait()
    }

    @Test("forged and replayed SRTP from the wire: dropped, counted, never delivered; the stream goes on",
          .timeLimit(.minutes(1)))
    func forgedAndReplayed() async throws {
        let pair = try await DtlsPair.make()
        let mb = try MediaPeer(pair.b.dtls)
        try await pair.waitConnected()
        // A session keyed as a's outbound one: what a would send, sent raw over a's ICE connection.
        let ka = try #require(pair.a.dtls.core.srtpKeys)
        let out = ka.keys.outbound(localIsClient: ka.localIsClient)
        let sender = try SrtpSession(profile: ka.keys.profile, key: out.key, salt: out.salt, direction: .outbound)
        var good = rtpPacket(seq: 7)
        try sender.protectRtp(&good)
        try pair.a.pc.send(good)
        #expect(await eventually { mb.rtp.withLock { $0.count } == 1 })
        try pair.a.pc.send(good)  // a replay
        // Forged: a fresh index (libsrtp checks the replay window before the tag, so a tampered
        // copy of a seen packet counts as a replay), then one bit of the payload and one of the
        // authenticated header changed.
        var forged = rtpPacket(seq: 20)
        try sender.protectRtp(&forged)
        forged[forged.count - 3] ^= 0x40
        try pair.a.pc.send(forged)
        var forgedHeader = rtpPacket(seq: 21)
        try sender.protectRtp(&forgedHeader)
        forgedHeader[1] = 0x61
        try pair.a.pc.send(forgedHeader)
        var rtcp = rtcpReceiverReport()
        try sender.protectRtcp(&rtcp)
        try pair.a.pc.send(rtcp)
        try pair.a.pc.send(rtcp)  // an SRTCP replay
        var forgedRtcp = rtcpReceiverReport(tag: 9)
        try sender.protectRtcp(&forgedRtcp)
        forgedRtcp[10] ^= 1
        try pair.a.pc.send(forgedRtcp)
        #expect(await eventually { mb.srtp.counters.replays == 2 && mb.srtp.counters.authFailures == 3 }, "\(mb.srtp.counters)")
        #expect(mb.rtp.current == [rtpPacket(seq: 7)] && mb.rtcp.current == [rtcpReceiverReport()])
        var next = rtpPacket(seq: 8)
        try sender.protectRtp(&next)
        try pair.a.pc.send(next)
        #expect(await eventually { mb.rtp.withLock { $0.count } == 2 })
        #expect(pair.b.dtls.state == .connected)
        await pair.close()
    }

    @Test("a data channel works alongside media on the same DTLS transport", .timeLimit(.minutes(1)))
    func dataChannelAlongside() async throws {
        let pair = try await SctpPair.make()
        let ma = try MediaPeer(pair.a.dtlsPeer.dtls)
        let mb = try MediaPeer(pair.b.dtlsPeer.dtls)
        try await pair.waitConnected()
        let channel = try pair.a.sctp.createDataChannel(label: "beside-media")
        try await channel.waitUntilOpen(timeout: .seconds(10))
        let remote = try await pair.b.incomingChannel()
        let recorder = MessageRecorder(remote)
        #expect(await eventually { ma.srtp.isKeyed && mb.srtp.isKeyed })
        for i in 0..<200 {
            try channel.send(bytes: numbered(i, size: 300))
            try ma.srtp.sendRtp(rtpPacket(seq: UInt16(i)))
            try mb.srtp.sendRtp(rtpPacket(seq: UInt16(i), ssrc: 0xB0B))
            if i % 50 == 49 { _ = await eventually(.seconds(5)) { recorder.count > i && mb.rtp.withLock { $0.count } > i } }
        }
        #expect(await eventually { recorder.count == 200 && mb.rtp.withLock { $0.count } == 200 && ma.rtp.withLock { $0.count } == 200 })
        #expect(recorder.messages.current == (0..<200).map { .binary(numbered($0, size: 300)) })
        #expect(ma.rtp.current == (0..<200).map { rtpPacket(seq: UInt16($0), ssrc: 0xB0B) })
        await pair.close()
    }

    @Test("a media layer attached after DTLS connected keys itself; a second one is refused; none after close",
          .timeLimit(.minutes(1)))
    func lateAttach() async throws {
        let pair = try await DtlsPair.make()
        try await pair.waitConnected()
        let ma = try MediaPeer(pair.a.dtls)
        #expect(ma.srtp.isKeyed, "keyed in init: DTLS was connected")
        do {
            _ = try SrtpCore(dtls: pair.a.dtls)
            Issue.record("a second media layer was attached")
        } catch {
            #expect(error.code == .invalidState)
        }
        // b's layer comes later still: what a sent before it existed went to the non-DTLS count.
        try ma.srtp.sendRtp(rtpPacket(seq: 1))
        #expect(await eventually { pair.b.dtls.counters.nonDtlsDropped == 1 })
        let mb = try MediaPeer(pair.b.dtls)
        try ma.srtp.sendRtp(rtpPacket(seq: 2))
        try mb.srtp.sendRtcp(rtcpReceiverReport())
        #expect(await eventually { mb.rtp.current == [rtpPacket(seq: 2)] && ma.rtcp.current == [rtcpReceiverReport()] })
        await pair.close()
        do {
            _ = try SrtpCore(dtls: pair.b.dtls)
            Issue.record("attached after close")
        } catch {
            #expect(error.code == .closed)
        }
    }

    @Test("trace logs never contain the SRTP keys", .timeLimit(.minutes(1)))
    func nothingSecretInLogs() async throws {
        let lines = Box<[String]>([])
        let logger = Logger(label: "capture") { _ in CaptureHandler(lines: lines) }
        let cert = try Certificate.generate()
        let a = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]), logger: logger)
        let b = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]), logger: logger)
        let da = try DtlsTransport(iceTransport: a, configuration: .init(certificate: cert), logger: logger)
        let db = try DtlsTransport(iceTransport: b, configuration: .init(certificate: cert), logger: logger)
        let ma = try MediaPeer(da)
        let mb = try MediaPeer(db)
        try da.setRemoteParameters(try db.setRemoteParameters(da.localParameters))
        try await exchangeIce(a, b, endOfCandidates: false)
        try await da.waitUntilConnected(timeout: .seconds(10))
        #expect(await eventually { ma.srtp.isKeyed && mb.srtp.isKeyed })
        try ma.srtp.sendRtp(rtpPacket(seq: 1))
        #expect(await eventually { mb.rtp.withLock { $0.count } == 1 })
        let keys = try #require(da.core.srtpKeys?.keys)
        da.close()
        db.close()
        let all = lines.current.joined(separator: "\n").lowercased()
        #expect(all.contains("srtp keyed"), "the capture works")
        for secret in [keys.client.key, keys.server.key, keys.client.salt, keys.server.salt] {
            let hex = secret.map { String(format: "%02x", $0) }.joined()
            #expect(!all.contains(String(hex.prefix(12))))
            #expect(!all.contains(secret.prefix(4).map(String.init).joined(separator: ", ")))
        }
    }
}
