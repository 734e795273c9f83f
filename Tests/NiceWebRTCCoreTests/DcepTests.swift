import NiceWebRTCCore
import Testing

@Suite("DCEP (RFC 8832) and data-channel options")
struct DcepTests {
    @Test("DATA_CHANNEL_OPEN round-trips for every channel type", .timeLimit(.minutes(1)),
          arguments: [
              (true, DataChannelReliability.reliable), (false, .reliable), (true, .maxRetransmits(0)), (false, .maxRetransmits(5)),
              (true, .maxPacketLifeTime(1500)), (false, .maxPacketLifeTime(0)),
          ])
    func openRoundTrip(ordered: Bool, reliability: DataChannelReliability) throws {
        let open = DcepOpen(ordered: ordered, reliability: reliability, label: "chat ✓", protocol: "json")
        let back = try DcepMessage(parsing: open.bytes)
        #expect(back == .open(open))
    }

    @Test("the wire form is RFC 8832's: a reliable ordered channel 'a' with protocol 'b'", .timeLimit(.minutes(1)))
    func wireForm() {
        let bytes = DcepOpen(label: "a", protocol: "b").bytes
        #expect(bytes == [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, UInt8(ascii: "a"), UInt8(ascii: "b")])
        #expect(DcepOpen(ordered: false, reliability: .maxRetransmits(3), label: "").bytes.prefix(8) == [0x03, 0x81, 0x01, 0x00, 0, 0, 0, 3])
        #expect(DcepMessage.ack.bytes == [0x02])
    }

    @Test("malformed DCEP is a typed error", .timeLimit(.minutes(1)),
          arguments: [
              [UInt8](), [0x04], [0x02, 0x00], [0x03, 0, 1, 0, 0, 0, 0, 0, 0, 1],
              [0x03, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0x61], [0x03, 0x03, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
              [0x03, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xFF],
          ])
    func malformed(bytes: [UInt8]) {
        #expect { try DcepMessage(parsing: bytes) } throws: { ($0 as? DataChannelError)?.code == .protocolViolation && ($0 as? DataChannelError)?.field == "dcep" }
    }

    @Test("a 32-bit reliability parameter is clamped to W3C's 16 bits", .timeLimit(.minutes(1)))
    func clamped() throws {
        let bytes: [UInt8] = [0x03, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0]
        #expect(try DcepMessage(parsing: bytes) == .open(DcepOpen(reliability: .maxRetransmits(65_535), label: "")))
    }

    @Test("W3C createDataChannel checks", .timeLimit(.minutes(1)))
    func options() throws {
        #expect(try DataChannelOptions().validate(label: "x") == .reliable)
        #expect(try DataChannelOptions(maxRetransmits: 0).validate(label: "x") == .maxRetransmits(0))
        #expect(try DataChannelOptions(maxPacketLifeTime: 100).validate(label: "x") == .maxPacketLifeTime(100))
        #expect { try DataChannelOptions(maxPacketLifeTime: 1, maxRetransmits: 1).validate(label: "x") } throws: {
            ($0 as? DataChannelError)?.field == "maxRetransmits"
        }
        #expect { try DataChannelOptions(negotiated: true).validate(label: "x") } throws: { ($0 as? DataChannelError)?.field == "id" }
        #expect { try DataChannelOptions(negotiated: true, id: 65_535).validate(label: "x") } throws: { ($0 as? DataChannelError)?.field == "id" }
        #expect { try DataChannelOptions().validate(label: String(repeating: "é", count: 40_000)) } throws: { ($0 as? DataChannelError)?.field == "label" }
        #expect(try DataChannelOptions(negotiated: true, id: 65_534).validate(label: String(repeating: "a", count: 65_535)) == .reliable)
        #expect(DataChannelOptions.isOwnStreamID(0, dtlsRole: .client) && DataChannelOptions.isOwnStreamID(1, dtlsRole: .server))
        #expect(!DataChannelOptions.isOwnStreamID(1, dtlsRole: .client) && !DataChannelOptions.isOwnStreamID(2, dtlsRole: .server))
    }

    @Test("PPIDs are IANA's", .timeLimit(.minutes(1)))
    func ppids() {
        #expect(DataChannelPPID.dcep.rawValue == 50 && DataChannelPPID.string.rawValue == 51 && DataChannelPPID.binary.rawValue == 53)
        #expect(DataChannelPPID.stringEmpty.rawValue == 56 && DataChannelPPID.binaryEmpty.rawValue == 57)
    }
}
