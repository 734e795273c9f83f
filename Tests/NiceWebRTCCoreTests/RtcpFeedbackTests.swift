import Testing

@testable import NiceWebRTCCore

/// RTCP feedback (RFC 4585, RFC 5104, REMB) and reduced-size RTCP (RFC 5506).
@Suite("RTCP feedback", .timeLimit(.minutes(1)))
struct RtcpFeedbackTests {
    /// pion/rtcp transport_layer_nack_test.go "valid".
    static let nack: [UInt8] = [0x81, 0xcd, 0x0, 0x3, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e, 0xaa, 0xaa, 0x55, 0x55]
    /// A PLI as RFC 4585 §6.3.1 lays it out (the SSRCs of pion's FIR test).
    static let pli: [UInt8] = [0x81, 0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x4b, 0xc4, 0xfc, 0xb4]
    /// pion/rtcp full_intra_request_test.go "also valid": two FIR entries.
    static let fir: [UInt8] = [
        0x84, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x4b, 0xc4, 0xfc, 0xb4,
        0x12, 0x34, 0x56, 0x78, 0x42, 0x00, 0x00, 0x00, 0x98, 0x76, 0x54, 0x32, 0x57, 0x00, 0x00, 0x00,
    ]
    /// pion/rtcp receiver_estimated_maximum_bitrate_test.go: "real data sent by Chrome while
    /// watching a 6Mb/s stream" (mantissa 139487, exponent 6).
    static let remb: [UInt8] = [143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66, 1, 26, 32, 223, 72, 116, 237, 22]

    @Test("Generic NACK: pion's packet, PID/BLP expansion, byte-exact round trip")
    func nack() throws {
        let packets = try RtcpPacket.parseCompound(Self.nack)
        guard case .genericNack(let nack) = try #require(packets.first) else {
            Issue.record("not a NACK")
            return
        }
        #expect(nack.senderSsrc == 0x902f_9e2e && nack.mediaSsrc == 0x902f_9e2e)
        #expect(nack.entries == [.init(packetId: 0xaaaa, lostBitmask: 0x5555)])
        #expect(nack.sequenceNumbers == [0xaaaa] + stride(from: 1, through: 15, by: 2).map { 0xaaaa + UInt16($0) })
        #expect(try nack.serialized() == Self.nack)
        // pion's NackPair.PacketList cases.
        #expect(RtcpGenericNack.Entry(packetId: 42, lostBitmask: 0).sequenceNumbers == [42])
        #expect(RtcpGenericNack.Entry(packetId: 42, lostBitmask: 3).sequenceNumbers == [42, 43, 44])
        #expect(RtcpGenericNack.Entry(packetId: 42, lostBitmask: 0x8000).sequenceNumbers == [42, 58])
        #expect(RtcpGenericNack.Entry(packetId: 65_535, lostBitmask: 1).sequenceNumbers == [65_535, 0])
        // pion "short report": the length says 12 bytes, 8 are there.
        var short = Array(Self.nack.prefix(8))
        short[3] = 2
        #expect(rtpError { try RtcpPacket.parseCompound(short) }?.field == "RTCP length")
        // No FCI at all.
        #expect(rtpError { try RtcpPacket.parseCompound([0x81, 0xcd, 0, 2] + Self.nack[4..<12]) }?.field == "NACK FCI")
        #expect(rtpError { try RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, entries: []).serialized() }?.field == "NACK FCI")
    }

    @Test("NACK from a set of sequence numbers: the fewest entries, in order across the wrap")
    func nackFromSet() {
        // pion's NackPairsFromSequenceNumbers cases.
        #expect(RtcpGenericNack.entries(covering: []) == [])
        #expect(RtcpGenericNack.entries(covering: [100]) == [.init(packetId: 100)])
        #expect(RtcpGenericNack.entries(covering: [100, 101, 105, 115]) == [.init(packetId: 100, lostBitmask: 0x4011)])
        #expect(RtcpGenericNack.entries(covering: [100, 117, 500, 501, 502]) == [
            .init(packetId: 100), .init(packetId: 117), .init(packetId: 500, lostBitmask: 3),
        ])
        // Across the wrap, duplicates ignored, order of the input irrelevant.
        #expect(RtcpGenericNack.entries(covering: [3, 65_535, 0, 65_534, 0]) == [.init(packetId: 65_534, lostBitmask: 0x13)])
        #expect(RtcpGenericNack.entries(covering: 1...17).count == 1)
        #expect(RtcpGenericNack.entries(covering: 1...18).count == 2)
        // Expansion gives back exactly the set, for scattered sets too.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let base = UInt16.random(in: 0...UInt16.max, using: &generator)
            let lost = Set((0..<Int.random(in: 0...60, using: &generator)).map { _ in base &+ UInt16.random(in: 0...300, using: &generator) })
            let nack = RtcpGenericNack(senderSsrc: 1, mediaSsrc: 2, lost: lost)
            #expect(Set(nack.sequenceNumbers) == lost)
            #expect(nack.sequenceNumbers.count == lost.count)
            #expect(nack.entries.count <= lost.count)
        }
        // All 65536 numbers: 65536 / 17 entries, rounded up.
        #expect(RtcpGenericNack.entries(covering: 0...UInt16.max).count == (65_536 + 16) / 17)
    }

    @Test("PLI and FIR: pion's FIR entries, byte-exact round trips, FCI length checks")
    func pliAndFir() throws {
        #expect(try RtcpPacket.parseCompound(Self.pli) == [.pictureLossIndication(.init(senderSsrc: 0, mediaSsrc: 0x4bc4_fcb4))])
        #expect(try RtcpPictureLossIndication(senderSsrc: 0, mediaSsrc: 0x4bc4_fcb4).serialized() == Self.pli)
        let fir = RtcpFullIntraRequest(
            senderSsrc: 0, mediaSsrc: 0x4bc4_fcb4, entries: [.init(ssrc: 0x1234_5678, sequenceNumber: 0x42), .init(ssrc: 0x9876_5432, sequenceNumber: 0x57)])
        #expect(try RtcpPacket.parseCompound(Self.fir) == [.fullIntraRequest(fir)])
        #expect(try fir.serialized() == Self.fir)
        // pion "wrong length": an FCI of 4 bytes.
        #expect(rtpError { try RtcpPacket.parseCompound([0x84, 0xce, 0x00, 0x03] + Self.fir[4..<16]) }?.field == "FIR FCI")
        #expect(rtpError { try RtcpPacket.parseCompound([0x81, 0xce, 0x00, 0x01, 0, 0, 0, 0]) }?.field == "feedback SSRCs")
    }

    @Test("REMB: Chrome's packet, mantissa and exponent, overflowing bitrates saturate")
    func remb() throws {
        let packets = try RtcpPacket.parseCompound(Self.remb)
        guard case .remb(let remb) = try #require(packets.first) else {
            Issue.record("not a REMB")
            return
        }
        #expect(remb.senderSsrc == 1 && remb.mediaSsrc == 0)
        #expect(remb.mantissa == 139_487 && remb.exponent == 6 && remb.bitrate == 8_927_168)
        #expect(remb.ssrcs == [1_215_622_422])
        #expect(try remb.serialized() == Self.remb)
        #expect(try RtcpRemb(senderSsrc: 1, bitrate: 8_927_168, ssrcs: [1_215_622_422]).serialized() == Self.remb)
        // One less rounds down to the mantissa below (pion's truncate test).
        #expect(RtcpRemb(senderSsrc: 1, bitrate: 8_927_167, ssrcs: []).bitrate == 8_927_104)
        // pion's overflow test: mantissa 0x3FFFF, exponent 63.
        let maximum: [UInt8] = [143, 206, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 82, 69, 77, 66, 0, 255, 255, 255]
        guard case .remb(let huge) = try RtcpPacket.parseCompound(maximum).first else {
            Issue.record("not a REMB")
            return
        }
        #expect(huge.bitrate == .max && huge.exponent == 63 && huge.mantissa == 0x3FFFF)
        #expect(try huge.serialized() == maximum)
        #expect(RtcpRemb(senderSsrc: 0, bitrate: .max, ssrcs: []).exponent == 46)
        // The SSRC count past the end.
        var short = Self.remb
        short[16] = 2
        #expect(rtpError { try RtcpPacket.parseCompound(short) }?.field == "REMB SSRC count")
        #expect(rtpError { try RtcpRemb(senderSsrc: 0, mantissa: 1 << 18, exponent: 0, ssrcs: []).serialized() }?.field == "REMB mantissa")
    }

    @Test("Reduced-size RTCP (RFC 5506): a lone feedback packet is accepted, and feedback in compounds")
    func reducedSize() throws {
        #expect(try RtcpPacket.parseCompound(Self.pli).count == 1)
        #expect(try RtcpPacket.parseCompound(Self.nack).count == 1)
        let compound = RtcpReportTests.receiverReport + Self.nack + Self.pli + Self.fir + Self.remb
        let packets = try RtcpPacket.parseCompound(compound)
        #expect(packets.count == 5)
        #expect(try RtcpPacket.serializeCompound(packets) == compound)
    }

    @Test("Every truncation and single-byte mutation of feedback parses and round-trips by value, or throws")
    func hostile() {
        for sample in [Self.nack, Self.pli, Self.fir, Self.remb] {
            for n in 0..<sample.count { #expect(rtpError { try RtcpPacket.parseCompound(sample.prefix(n)) } != nil) }
            for i in sample.indices {
                for value: UInt8 in [0x00, 0x01, 0x0F, 0x81, 0x8F, 0xA1, 0xCD, 0xCE, 0xFF] {
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
