import Testing

@testable import NiceWebRTCCore

/// Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
@Suite("RTCP transport-wide CC", .timeLimit(.minutes(1)))
struct RtcpTransportWideCcTests {
    // pion/rtcp transport_layer_cc_test.go TestTransportLayerCC_Unmarshal "example1": one
    // small delta in a run-length chunk, P bit and one padding octet.
    static let example1: [UInt8] = [
        0xaf, 0xcd, 0x0, 0x5, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0, 0x0, 0x99, 0x0, 0x1,
        0x3d, 0xe8, 0x2, 0x17, 0x20, 0x1, 0x94, 0x1,
    ]
    // "example4": a run of 7 small deltas, three padding octets.
    static let example4: [UInt8] = [
        0xaf, 0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x0, 0x4, 0x0, 0x7,
        0x10, 0x63, 0x6e, 0x1, 0x20, 0x7, 0x4c, 0x24, 0x24, 0x10, 0xc, 0xc, 0x10, 0x0, 0x0, 0x3,
    ]
    // "example6": a 2-bit status vector (small, not received, large) then a not-received run.
    static let example6: [UInt8] = [
        0xaf, 0xcd, 0x0, 0x7, 0x9b, 0x74, 0xf6, 0x1f, 0x93, 0x71, 0xdc, 0xbc, 0x85, 0x3c, 0x0, 0x9,
        0x63, 0xf9, 0x16, 0xb3, 0xd5, 0x52, 0x0, 0x30, 0x9b, 0xaa, 0x6a, 0xaa, 0x7b, 0x1, 0x9, 0x1,
    ]
    // "example7": status count 0, no chunks, no padding.
    static let example7: [UInt8] = [0x8f, 0xcd, 0x0, 0x4, 0x9a, 0xcb, 0x4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    // TestTransportLayerCC_Marshal "example6": 12 statuses in a 1-bit status vector.
    static let marshalExample6: [UInt8] = [
        0xaf, 0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0, 0x9c, 0x14, 0x0, 0xc,
        0x75, 0x84, 0x20, 0x0, 0xbe, 0xc0, 0xc1, 0x3f, 0x3b, 0x3f, 0x53, 0x90, 0x3b, 0x0, 0x0, 0x3,
    ]

    static func twcc(_ bytes: [UInt8]) throws -> RtcpTransportWideCc {
        let packets = try RtcpPacket.parseCompound(bytes)
        guard packets.count == 1, case .transportWideCc(let twcc) = packets[0] else { throw RtpError(.invalidValue, field: "test", reason: "not one TWCC: \(packets)") }
        return twcc
    }

    @Test("pion's examples: header fields, chunks and deltas; byte-exact round trips with padding")
    func pionExamples() throws {
        let one = try Self.twcc(Self.example1)
        #expect(one.senderSsrc == 4_195_875_351 && one.mediaSsrc == 1_124_282_272)
        #expect(one.baseSequenceNumber == 153 && one.packetStatusCount == 1)
        #expect(one.referenceTime == 4_057_090 && one.feedbackPacketCount == 23)
        #expect(one.chunks == [.runLength(.receivedSmallDelta, count: 1)])
        #expect(one.deltas == [148])  // 37000 µs
        #expect(try one.serialized() == Self.example1)

        let four = try Self.twcc(Self.example4)
        #expect(four.chunks == [.runLength(.receivedSmallDelta, count: 7)])
        #expect(four.deltas.map { Int($0) * RtcpTransportWideCc.deltaTickMicroseconds } == [19000, 9000, 9000, 4000, 3000, 3000, 4000])
        #expect(try four.serialized() == Self.example4)

        let six = try Self.twcc(Self.example6)
        #expect(six.baseSequenceNumber == 34_108 && six.packetStatusCount == 9 && six.feedbackPacketCount == 179)
        let s = RtcpTransportWideCc.Status.receivedSmallDelta
        #expect(six.chunks == [.twoBitVector([s, s, s, s, s, .notReceived, .receivedLargeDelta]), .runLength(.notReceived, count: 48)])
        #expect(six.deltas == [155, 170, 106, 170, 123, 265])  // 38750 … 66250 µs
        #expect(six.packets.count == 9)
        #expect(six.packets[6] == .init(sequenceNumber: 34_114, status: .receivedLargeDelta, delta: 265))
        #expect(six.packets[8] == .init(sequenceNumber: 34_116, status: .notReceived, delta: nil))
        #expect(try six.serialized() == Self.example6)

        let seven = try Self.twcc(Self.example7)
        #expect(seven.packetStatusCount == 0 && seven.chunks.isEmpty && seven.deltas.isEmpty && seven.packets.isEmpty)
        #expect(try seven.serialized() == Self.example7)
    }

    @Test("Status chunks: the draft's §3.1.3 and §3.1.4 examples")
    func chunkExamples() throws {
        let n = RtcpTransportWideCc.Status.notReceived, s = RtcpTransportWideCc.Status.receivedSmallDelta
        #expect(try RtcpTransportWideCc.chunk(0x00DD) == .runLength(.notReceived, count: 221))
        #expect(try RtcpTransportWideCc.chunk(0x6018) == .runLength(.reserved, count: 24))
        #expect(try RtcpTransportWideCc.chunk(0x9F1C) == .oneBitVector([n, s, s, s, s, s, n, n, n, s, s, s, n, n]))
        #expect(try RtcpTransportWideCc.chunk(0xCD50) == .twoBitVector([n, .reserved, s, s, s, n, n]))
        for word: UInt16 in [0x00DD, 0x6018, 0x9F1C, 0xCD50] {
            #expect(try RtcpTransportWideCc.word(RtcpTransportWideCc.chunk(word)) == word)
        }
    }

    @Test("Built from arrivals: pion's marshal example byte for byte; runs, vectors and large deltas")
    func builder() throws {
        let built = try RtcpTransportWideCc(
            senderSsrc: 4_195_875_351, mediaSsrc: 1_124_282_272, baseSequenceNumber: 39_956, referenceTime: 7_701_536,
            feedbackPacketCount: 0, receiveDeltas: [193, 63, 59, 63, 83, nil, 144, 59, nil, nil, nil, nil])
        #expect(try built.serialized() == Self.marshalExample6)

        let mixed: [Int?] = Array(repeating: 1, count: 20) + [nil, -4, 300, 2, nil] + Array(repeating: nil, count: 9000) + [7]
        let twcc = try RtcpTransportWideCc(
            senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 65_530, referenceTime: 0xFF_FFFF, feedbackPacketCount: 255, receiveDeltas: mixed)
        #expect(twcc.packetStatusCount == UInt16(mixed.count))
        #expect(twcc.packets.map { $0.delta.map(Int.init) } == mixed)
        #expect(twcc.packets.last?.sequenceNumber == 65_530 &+ UInt16(mixed.count - 1))
        #expect(try Self.twcc(try twcc.serialized()) == twcc)
        #expect(rtpError { try RtcpTransportWideCc(senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 0, referenceTime: 0, feedbackPacketCount: 0, receiveDeltas: [40_000]) }?.field == "TWCC receive delta")
        #expect(rtpError { try RtcpTransportWideCc(senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 0, referenceTime: 1 << 24, feedbackPacketCount: 0, receiveDeltas: []) }?.field == "TWCC reference time")
        // Values that do not match their chunks are refused on write.
        var wrong = twcc
        wrong.deltas.removeLast()
        #expect(rtpError { try wrong.serialized() }?.field == "TWCC receive deltas")
        wrong = twcc
        wrong.packetStatusCount += 1
        #expect(rtpError { try wrong.serialized() }?.field == "TWCC packet status count")
    }

    @Test("A status count of 65535 costs what the packet carries: runs expand, claims without chunks or deltas fail")
    func hugeStatusCount() throws {
        let header: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]
        // Nine run-length chunks of not-received packets legitimately cover 65535 statuses.
        let runs = Array(repeating: [UInt8](arrayLiteral: 0x1F, 0xFF), count: 8).joined() + [0x00, 0x07]
        let body = header + runs
        let packet = try RtcpFraming.frame(count: 15, type: 205, body: body, field: "test")
        let twcc = try Self.twcc(packet)
        #expect(twcc.chunks.count == 9 && twcc.deltas.isEmpty)
        #expect(twcc.packets.count == 65_535)
        #expect(try twcc.serialized() == packet)
        // The same claim with one chunk: the chunks end.
        let oneChunk = try RtcpFraming.frame(count: 15, type: 205, body: header + [0x1F, 0xFF], field: "test")
        #expect(rtpError { try RtcpPacket.parseCompound(oneChunk) }?.field == "TWCC packet chunk")
        // Runs of received packets whose deltas are not there: refused before allocating them.
        let received = Array(repeating: [UInt8](arrayLiteral: 0x3F, 0xFF), count: 8).joined() + [0x20, 0x07, 1, 2, 3, 4]
        let noDeltas = try RtcpFraming.frame(count: 15, type: 205, body: header + received, field: "test")
        #expect(rtpError { try RtcpPacket.parseCompound(noDeltas) }?.field == "TWCC receive deltas")
    }

    @Test("pion's truncated examples 8 and 9, every truncation, single-byte mutations")
    func hostile() throws {
        let example8: [UInt8] = [
            0xaf, 0xcd, 0x0, 0x5, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0, 0x0, 0x99, 0x0, 0x3,
            0x3d, 0xe8, 0x2, 0x17, 0x20, 0x3, 0x94, 0x1,
        ]
        let example9: [UInt8] = [
            0xaf, 0xcd, 0x0, 0x5, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0, 0x0, 0x99, 0x0, 0x2,
            0x3d, 0xe8, 0x2, 0x17, 0x40, 0x2, 0x94, 0x1,
        ]
        #expect(rtpError { try RtcpPacket.parseCompound(example8) }?.code == .truncated)
        #expect(rtpError { try RtcpPacket.parseCompound(example9) }?.code == .truncated)
        for sample in [Self.example1, Self.example4, Self.example6, Self.marshalExample6] {
            for n in 0..<sample.count { #expect(rtpError { try RtcpPacket.parseCompound(sample.prefix(n)) } != nil) }
            for i in sample.indices {
                for value: UInt8 in [0x00, 0x01, 0x1F, 0x20, 0x3F, 0x80, 0x8F, 0xAF, 0xC0, 0xFF] {
                    var mutated = sample
                    mutated[i] = value
                    if let packets = try? RtcpPacket.parseCompound(mutated) {
                        #expect((try? RtcpPacket.parseCompound(try RtcpPacket.serializeCompound(packets))) == packets)
                    }
                }
            }
        }
    }
}
