import Testing

@testable import NiceWebRTCCore

/// RTP packets (RFC 3550 §5.1) with RFC 8285 header extensions.
@Suite("RTP packet", .timeLimit(.minutes(1)))
struct RtpPacketTests {
    /// pion/rtp packet_test.go TestBasic: marker, PT 96, an extension block of profile 1
    /// (not an RFC 8285 form) with one word, a 5-byte payload.
    static let pionBasic: [UInt8] = [
        0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64,
        0x27, 0x82, 0x00, 0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x98, 0x36, 0xbe, 0x88, 0x9e,
    ]

    /// RFC 8285 §4.2's one-byte example block (ID 1 L=0, ID 2 L=1, two padding bytes, ID 3 L=3)
    /// after a 12-byte header, with a 2-byte payload.
    static let oneByte: [UInt8] =
        [0x90, 0x6f, 0x12, 0x34, 0, 0, 0x03, 0xe8, 0xde, 0xad, 0xbe, 0xef]
        + [0xBE, 0xDE, 0x00, 0x03, 0x10, 0xAA, 0x21, 0xBB, 0xBC, 0x00, 0x00, 0x33, 0xC1, 0xC2, 0xC3, 0xC4] + [1, 2]

    /// RFC 8285 §4.3's two-byte example block (ID 1 L=0, ID 2 L=1, one padding byte, ID 3 L=4),
    /// appbits 0x5.
    static let twoByte: [UInt8] =
        [0x90, 0x6f, 0x12, 0x34, 0, 0, 0x03, 0xe8, 0xde, 0xad, 0xbe, 0xef]
        + [0x10, 0x05, 0x00, 0x03, 0x01, 0x00, 0x02, 0x01, 0xBB, 0x00, 0x03, 0x04, 0xC1, 0xC2, 0xC3, 0xC4] + [9]

    @Test("pion's basic packet parses field by field and writes back byte for byte")
    func pionBasicPacket() throws {
        let packet = try RtpPacket(parsing: Self.pionBasic)
        #expect(packet.marker)
        #expect(packet.payloadType == 96)
        #expect(packet.sequenceNumber == 27023)
        #expect(packet.timestamp == 3_653_407_706)
        #expect(packet.ssrc == 476_325_762)
        #expect(packet.csrcs.isEmpty)
        #expect(packet.headerExtension?.profile == 1)
        #expect(packet.headerExtension?.data == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(packet.headerExtension?.form == .other)
        #expect(packet.headerExtension?.elements == [])
        #expect(packet.payload == [0x98, 0x36, 0xbe, 0x88, 0x9e])
        #expect(packet.paddingCount == 0)
        #expect(try packet.serialized() == Self.pionBasic)
        #expect(packet.wireCount == Self.pionBasic.count)
    }

    @Test("RFC 8285 one-byte elements: padding between elements, exact round trip, get and set by id")
    func oneByteExtension() throws {
        var packet = try RtpPacket(parsing: Self.oneByte)
        let block = try #require(packet.headerExtension)
        #expect(block.form == .oneByte)
        #expect(block.elements == [
            .init(id: 1, value: [0xAA]), .init(id: 2, value: [0xBB, 0xBC]), .init(id: 3, value: [0xC1, 0xC2, 0xC3, 0xC4]),
        ])
        #expect(packet.extensionValue(id: 2) == [0xBB, 0xBC])
        #expect(packet.extensionValue(id: 4) == nil)
        #expect(packet.payload == [1, 2])
        #expect(try packet.serialized() == Self.oneByte)

        try packet.setExtension(id: 2, value: [7])
        try packet.setExtension(id: 14, value: Array(repeating: 5, count: 16))
        #expect(packet.extensionValue(id: 2) == [7])
        let rewritten = try RtpPacket(parsing: try packet.serialized())
        #expect(rewritten == packet)
        #expect(rewritten.headerExtension?.elements.map(\.id) == [1, 2, 3, 14])
        // The one-byte form takes ids 1-14 and 1-16 bytes only.
        #expect(rtpError { try packet.setExtension(id: 15, value: [1]) }?.field == "header extension id")
        #expect(rtpError { try packet.setExtension(id: 3, value: []) }?.field == "header extension length")
        packet.headerExtension?.remove(id: 1)
        #expect(packet.headerExtension?.elements.map(\.id) == [2, 3, 14])
    }

    @Test("RFC 8285 two-byte elements: zero-length values, appbits, exact round trip")
    func twoByteExtension() throws {
        var packet = try RtpPacket(parsing: Self.twoByte)
        let block = try #require(packet.headerExtension)
        #expect(block.form == .twoByte)
        #expect(block.profile == 0x1005)
        #expect(block.elements == [.init(id: 1, value: []), .init(id: 2, value: [0xBB]), .init(id: 3, value: [0xC1, 0xC2, 0xC3, 0xC4])])
        #expect(try packet.serialized() == Self.twoByte)
        try packet.setExtension(id: 200, value: Array(repeating: 1, count: 255))
        #expect(try RtpPacket(parsing: try packet.serialized()).extensionValue(id: 200)?.count == 255)
    }

    @Test("A new extension picks the one-byte form when it fits, the two-byte form otherwise")
    func newExtension() throws {
        var small = RtpPacket(payloadType: 111, sequenceNumber: 1, timestamp: 2, ssrc: 3)
        try small.setExtension(id: 3, value: Array("0".utf8))
        #expect(small.headerExtension?.profile == RtpHeaderExtension.oneByteProfile)
        #expect(try small.serialized() == [0x90, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 1, 0x30, 0x30, 0, 0])
        var large = RtpPacket(payloadType: 111, sequenceNumber: 1, timestamp: 2, ssrc: 3)
        try large.setExtension(id: 20, value: [1])
        #expect(large.headerExtension?.profile == RtpHeaderExtension.twoByteProfile)
        #expect(rtpError { try RtpHeaderExtension(oneByte: [.init(id: 1, value: [1]), .init(id: 1, value: [2])]) }?.code == .invalidValue)
    }

    @Test("CSRCs and padding: parsed, counted and written back (filler octets as zero)")
    func csrcsAndPadding() throws {
        let packet = RtpPacket(
            marker: false, payloadType: 0, sequenceNumber: 0xFFFF, timestamp: 0xFFFF_FFFF, ssrc: 1, csrcs: [0x0A0B_0C0D, 2],
            payload: [0xEE], paddingCount: 4)
        let wire = try packet.serialized()
        #expect(wire == [0xA2, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 2, 0xEE, 0, 0, 0, 4])
        #expect(try RtpPacket(parsing: wire) == packet)
        // A padding-only packet (as senders probe bandwidth with): empty payload.
        let probe = try RtpPacket(parsing: [0xA0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1] + [0, 0, 0, 4])
        #expect(probe.payload.isEmpty && probe.paddingCount == 4)
    }

    @Test("Bad versions, lengths and padding counts are typed errors naming the field")
    func malformed() {
        // pion/rtp TestRoundtrip's packet has version 0.
        let versionZero: [UInt8] = [0x00, 0x10, 0x23, 0x45, 0x12, 0x34, 0x45, 0x67, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11]
        #expect(rtpError { try RtpPacket(parsing: versionZero) } == RtpError(.badVersion, field: "version", reason: "RTP version 0, not 2"))
        #expect(rtpError { try RtpPacket(parsing: [UInt8]()) }?.code == .truncated)
        // pion/rtp TestExtension: X bit set, no extension header; then an extension length past the end.
        #expect(rtpError { try RtpPacket(parsing: Array(Self.pionBasic.prefix(12))) }?.field == "header extension")
        #expect(rtpError { try RtpPacket(parsing: Array(Self.pionBasic.prefix(12)) + [0x99, 0x99, 0x99, 0x99]) }?.code == .truncated)
        // Four CSRCs announced, one present.
        #expect(rtpError { try RtpPacket(parsing: [0x84] + Self.pionBasic[1..<12] + [1, 2, 3, 4]) }?.field == "CSRC list")
        // Padding count 0, and padding longer than what follows the header.
        #expect(rtpError { try RtpPacket(parsing: [0xA0] + Self.pionBasic[1..<12] + [1, 0]) }?.code == .invalidValue)
        #expect(rtpError { try RtpPacket(parsing: [0xA0] + Self.pionBasic[1..<12] + [1, 3]) }?.code == .badLength)
        // A one-byte element running past its block, and id 0 with a length.
        var bad = Self.oneByte
        bad[23] = 0x3F
        #expect(rtpError { try RtpPacket(parsing: bad) } == RtpError(.truncated, field: "header extension element", reason: "id 3 needs 16 bytes, 4 left"))
        bad[23] = 0x03
        #expect(rtpError { try RtpPacket(parsing: bad) }?.code == .invalidValue)
        // Writing: payload type and CSRC count must fit.
        #expect(rtpError { try RtpPacket(payloadType: 128, sequenceNumber: 0, timestamp: 0, ssrc: 0).serialized() }?.field == "payload type")
        let many = RtpPacket(payloadType: 1, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: Array(repeating: 1, count: 16))
        #expect(rtpError { try many.serialized() }?.code == .tooLarge)
    }

    @Test("Header extension blocks and raw RTCP packets are checked when built by hand")
    func builtByHand() throws {
        #expect(rtpError { try RtpHeaderExtension(profile: 0xBEDE, data: [0x10]) }?.code == .badLength)
        #expect(rtpError { try RtpHeaderExtension(profile: 0xBEDE, data: [0x13, 1, 2, 0]) }?.code == .truncated)
        #expect(rtpError { try RtpHeaderExtension(profile: 0x1000, data: [0x05, 0, 0, 0x07]) }?.field == "header extension element")
        #expect(rtpError { try RtpHeaderExtension(twoByte: [], appBits: 16) }?.field == "header extension appbits")
        var opaque = try RtpHeaderExtension(profile: 0x0001, data: [1, 2, 3, 4])
        #expect(opaque.value(id: 1) == nil)
        #expect(rtpError { try opaque.set(id: 1, value: [1]) }?.field == "header extension")
        #expect(try RtpHeaderExtension(profile: 0x100F, data: []).form == .twoByte)
        #expect(try RtpHeaderExtension(profile: 0x1010, data: []).form == .other)
        #expect(rtpError { try RtcpRawPacket([0x80, 204, 0, 2, 0, 0, 0, 1]) }?.field == "RTCP length")
        #expect(rtpError { try RtcpRawPacket([0x40, 204, 0, 0]) }?.code == .badVersion)
        #expect(rtpError { try RtcpRawPacket([0x80, 204]) }?.code == .truncated)
    }

    @Test("A one-byte id 15 ends the element list (RFC 8285 §4.2); the block still round-trips")
    func idFifteenStops() throws {
        var bytes = Self.oneByte
        bytes[18] = 0xF1  // ID 15 where element 2 was
        let packet = try RtpPacket(parsing: bytes)
        #expect(packet.headerExtension?.elements == [.init(id: 1, value: [0xAA])])
        #expect(try packet.serialized() == bytes)
    }

    @Test("Every truncation and every single-byte mutation of valid packets parses or throws, never traps")
    func hostile() throws {
        for sample in [Self.pionBasic, Self.oneByte, Self.twoByte] {
            for n in 0..<sample.count {
                #expect(rtpError { try RtpPacket(parsing: sample.prefix(n)) } != nil || n >= 12)
            }
            for i in sample.indices {
                for value: UInt8 in [0x00, 0x0F, 0x10, 0x3F, 0x80, 0xBF, 0xFF] {
                    var mutated = sample
                    mutated[i] = value
                    if let packet = try? RtpPacket(parsing: mutated) {
                        #expect(try RtpPacket(parsing: try packet.serialized()) == packet)
                    }
                }
            }
        }
    }
}
