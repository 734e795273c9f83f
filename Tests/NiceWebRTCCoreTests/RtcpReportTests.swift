import Testing

@testable import NiceWebRTCCore

/// RTCP compound packets: SR, RR, SDES, BYE, raw packets, framing errors (RFC 3550 §6).
@Suite("RTCP reports", .timeLimit(.minutes(1)))
struct RtcpReportTests {
    /// pion/rtcp sender_report_test.go "valid": an SR with one report block (its length field
    /// corrected from 7 to 12 words: pion's reader ignores it).
    static let senderReport: [UInt8] = [
        0x81, 0xc8, 0x0, 0xc, 0x90, 0x2f, 0x9e, 0x2e, 0xda, 0x8b, 0xd1, 0xfc, 0xdd, 0xdd, 0xa0, 0x5a,
        0xaa, 0xf4, 0xed, 0xd5, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xbc, 0x5e, 0x9a, 0x40,
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x46, 0xe1, 0x0, 0x0, 0x1, 0x11, 0x9, 0xf3, 0x64, 0x32, 0x0, 0x2, 0x4a, 0x79,
    ]

    /// pion/rtcp sender_report_test.go "with extension" (issue #447): the bytes are in fact a
    /// compound packet, an SR without report blocks then an SDES with one CNAME (length field
    /// 6 covers the SR only), as a browser sends.
    static let senderReportAndSdes: [UInt8] = [
        0x80, 0xc8, 0x0, 0x6, 0x2b, 0x7e, 0xc0, 0xc5, 0xe0, 0x20, 0xa2, 0xa9, 0x52, 0xa5, 0x3f, 0xc0,
        0x2e, 0x48, 0xa5, 0x52, 0x0, 0x0, 0x0, 0x46, 0x0, 0x0, 0x12, 0x1d,
        0x81, 0xca, 0x0, 0x6, 0x2b, 0x7e, 0xc0, 0xc5, 0x1, 0x10, 0x4c, 0x63, 0x49, 0x66, 0x7a, 0x58,
        0x6f, 0x6e, 0x44, 0x6f, 0x72, 0x64, 0x53, 0x65, 0x57, 0x36, 0x0, 0x0,
    ]

    /// pion/rtcp receiver_report_test.go "valid with extension data".
    static let receiverReport: [UInt8] = [
        0x81, 0xc9, 0x0, 0x9, 0x90, 0x2f, 0x9e, 0x2e, 0xbc, 0x5e, 0x9a, 0x40, 0x0, 0x0, 0x0, 0x0,
        0x0, 0x0, 0x46, 0xe1, 0x0, 0x0, 0x1, 0x11, 0x9, 0xf3, 0x64, 0x32, 0x0, 0x2, 0x4a, 0x79,
        0x54, 0x45, 0x53, 0x54, 0x44, 0x41, 0x54, 0x41,
    ]

    /// pion/rtcp goodbye_test.go "valid" (one source, reason "FOO"), with its length field
    /// corrected from 12 to 2 words.
    static let goodbye: [UInt8] = [0x81, 0xcb, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e, 0x03, 0x46, 0x4f, 0x4f]

    @Test("pion's SR: sender info and report block field by field, byte-exact round trip")
    func senderReport() throws {
        let packets = try RtcpPacket.parseCompound(Self.senderReport)
        guard case .senderReport(let sr) = try #require(packets.first), packets.count == 1 else {
            Issue.record("not one SR: \(packets)")
            return
        }
        #expect(sr.ssrc == 0x902f_9e2e)
        #expect(sr.ntpTimestamp == 0xda8b_d1fc_dddd_a05a)
        #expect(sr.rtpTimestamp == 0xaaf4_edd5)
        #expect(sr.packetCount == 1 && sr.octetCount == 2)
        #expect(sr.reports == [
            RtcpReportBlock(
                ssrc: 0xbc5e_9a40, fractionLost: 0, cumulativeLost: 0, extendedHighestSequenceNumber: 0x46e1, jitter: 273,
                lastSenderReport: 0x9f3_6432, delaySinceLastSenderReport: 150_137)
        ])
        #expect(sr.profileExtensions.isEmpty)
        #expect(try RtcpPacket.serializeCompound(packets) == Self.senderReport)
    }

    @Test("An SR + SDES compound: the CNAME, byte-exact round trip")
    func compound() throws {
        let packets = try RtcpPacket.parseCompound(Self.senderReportAndSdes)
        #expect(packets.count == 2)
        guard case .senderReport(let sr) = packets[0], case .sourceDescription(let sdes) = packets[1] else {
            Issue.record("not SR + SDES: \(packets)")
            return
        }
        #expect(sr.reports.isEmpty && sr.packetCount == 70 && sr.octetCount == 4637)
        #expect(sdes.chunks.count == 1)
        #expect(sdes.chunks.first?.source == 0x2b7e_c0c5)
        #expect(sdes.chunks.first?.cname == "LcIfzXonDordSeW6")
        #expect(try RtcpPacket.serializeCompound(packets) == Self.senderReportAndSdes)
        #expect(try RtcpSourceDescription(source: 0x2b7e_c0c5, cname: "LcIfzXonDordSeW6").serialized() == Array(Self.senderReportAndSdes[28...]))
    }

    @Test("RR with profile extension bytes; negative cumulative loss is 24-bit signed")
    func receiverReport() throws {
        let packets = try RtcpPacket.parseCompound(Self.receiverReport)
        guard case .receiverReport(let rr) = try #require(packets.first) else {
            Issue.record("not an RR")
            return
        }
        #expect(rr.ssrc == 0x902f_9e2e)
        #expect(rr.reports.map(\.jitter) == [273])
        #expect(rr.profileExtensions == Array("TESTDATA".utf8))
        #expect(try RtcpPacket.serializeCompound(packets) == Self.receiverReport)

        let lossy = RtcpReceiverReport(ssrc: 1, reports: [RtcpReportBlock(ssrc: 2, fractionLost: 255, cumulativeLost: -3)])
        let wire = try lossy.serialized()
        #expect(Array(wire[12...15]) == [0xFF, 0xFF, 0xFF, 0xFD])
        #expect(try RtcpPacket.parseCompound(wire) == [.receiverReport(lossy)])
        let overflow = RtcpReceiverReport(ssrc: 1, reports: [RtcpReportBlock(ssrc: 2, cumulativeLost: 1 << 23)])
        #expect(rtpError { try overflow.serialized() }?.field == "cumulative lost")
        let tooMany = RtcpReceiverReport(ssrc: 1, reports: Array(repeating: RtcpReportBlock(ssrc: 2), count: 32))
        #expect(rtpError { try tooMany.serialized() }?.code == .tooLarge)
    }

    @Test("SDES: several chunks and item types, empty chunks, items kept as bytes")
    func sourceDescription() throws {
        let sdes = RtcpSourceDescription(chunks: [
            .init(source: 1, items: [.init(type: .cname, text: "a"), .init(type: .tool, text: "NiceICE"), .init(type: .init(rawValue: 9), value: [0xFF])]),
            .init(source: 2, items: []),
            .init(source: 3, items: [.init(type: .name, text: "abc")]),
        ])
        let wire = try sdes.serialized()
        #expect(wire.count % 4 == 0)
        // The empty chunk is its SSRC and four null octets.
        #expect(try RtcpPacket.parseCompound(wire) == [.sourceDescription(sdes)])
        #expect(sdes.chunks[0].cname == "a" && sdes.chunks[1].cname == nil)
        let long = RtcpSourceDescription(source: 1, cname: String(repeating: "x", count: 256))
        #expect(rtpError { try long.serialized() }?.code == .tooLarge)
        // An item running past the packet.
        #expect(rtpError { try RtcpPacket.parseCompound([0x81, 0xca, 0, 2, 0, 0, 0, 1, 1, 9, 0x41, 0x42]) }?.field == "SDES item")
    }

    @Test("BYE with and without a reason")
    func goodbye() throws {
        let packets = try RtcpPacket.parseCompound(Self.goodbye)
        #expect(packets == [.goodbye(RtcpGoodbye(sources: [0x902f_9e2e], reason: "FOO"))])
        #expect(try RtcpPacket.serializeCompound(packets) == Self.goodbye)
        if case .goodbye(let bye) = packets.first { #expect(bye.reasonText == "FOO") }
        for bye in [RtcpGoodbye(sources: []), RtcpGoodbye(sources: [1, 2], reason: "because"), RtcpGoodbye(sources: [], reason: "f")] {
            #expect(try RtcpPacket.parseCompound(try bye.serialized()) == [.goodbye(bye)])
        }
        // pion "invalid octet count": a reason longer than the packet.
        #expect(rtpError { try RtcpPacket.parseCompound([0x81, 0xcb, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e, 0x04, 0x46, 0x4f, 0x4f]) }?.field == "BYE reason")
        #expect(rtpError { try RtcpGoodbye(sources: Array(repeating: 0, count: 32)).serialized() }?.code == .tooLarge)
    }

    @Test("Unknown types (APP, XR) and feedback formats stay raw, byte for byte")
    func raw() throws {
        let app: [UInt8] = [0x80, 204, 0, 2, 0, 0, 0, 1] + Array("name".utf8)
        let xr: [UInt8] = [0x80, 207, 0, 1, 0, 0, 0, 1]
        let unknownFeedback: [UInt8] = [0x83, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]  // TMMBR
        let afbNotRemb: [UInt8] = [0x8F, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0] + Array("ABCD".utf8)
        let compound = Self.senderReport + app + xr + unknownFeedback + afbNotRemb
        let packets = try RtcpPacket.parseCompound(compound)
        #expect(packets.count == 5)
        #expect(packets.dropFirst() == [.raw(try RtcpRawPacket(app)), .raw(try RtcpRawPacket(xr)), .raw(try RtcpRawPacket(unknownFeedback)), .raw(try RtcpRawPacket(afbNotRemb))])
        if case .raw(let p) = packets[1] { #expect(p.packetType == 204 && p.count == 0) }
        #expect(try RtcpPacket.serializeCompound(packets) == compound)
    }

    @Test("Framing errors: version, length past the end, trailing bytes, padding count")
    func framing() {
        #expect(rtpError { try RtcpPacket.parseCompound([UInt8]()) }?.code == .truncated)
        var badVersion = Self.senderReport
        badVersion[0] = 0x41
        #expect(rtpError { try RtcpPacket.parseCompound(badVersion) }?.code == .badVersion)
        #expect(rtpError { try RtcpPacket.parseCompound(Self.senderReport + [0x80, 201, 0, 1]) } == RtpError(.badLength, field: "RTCP length", reason: "packet 1 says 8 bytes, 4 left"))
        #expect(rtpError { try RtcpPacket.parseCompound(Self.senderReport + [0x80, 201]) }?.code == .truncated)
        // pion "bad count in header": two report blocks announced, one present.
        var twoBlocks = Self.senderReport
        twoBlocks[0] = 0x82
        #expect(rtpError { try RtcpPacket.parseCompound(twoBlocks) }?.field == "report count")
        // P bit with a zero padding count, and a padding count larger than the body.
        #expect(rtpError { try RtcpPacket.parseCompound([0xA0, 201, 0, 1, 0, 0, 0, 0]) }?.field == "RTCP padding")
        #expect(rtpError { try RtcpPacket.parseCompound([0xA0, 201, 0, 1, 0, 0, 0, 9]) }?.field == "RTCP padding")
        // An RR with 4 bytes of padding parses.
        #expect((try? RtcpPacket.parseCompound([0xA0, 201, 0, 2, 0, 0, 0, 7, 0, 0, 0, 4])) == [.receiverReport(RtcpReceiverReport(ssrc: 7))])
    }

    @Test("Every truncation and single-byte mutation parses (and round-trips by value) or throws")
    func hostile() throws {
        for sample in [Self.senderReport, Self.senderReportAndSdes, Self.receiverReport, Self.goodbye] {
            for n in 0..<sample.count { _ = rtpError { try RtcpPacket.parseCompound(sample.prefix(n)) } }
            for i in sample.indices {
                for value: UInt8 in [0x00, 0x01, 0x1F, 0x3F, 0x80, 0xA1, 0xBF, 0xCB, 0xFF] {
                    var mutated = sample
                    mutated[i] = value
                    if let packets = try? RtcpPacket.parseCompound(mutated) {
                        #expect(try RtcpPacket.parseCompound(try RtcpPacket.serializeCompound(packets)) == packets)
                    }
                }
            }
        }
    }
}
