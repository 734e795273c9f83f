import NiceWebRTCCore
import Testing

@Suite("Opus payload (RFC 7587)")
struct CodecOpusTests {
    @Test("one Opus packet per RTP packet, marker left to the sender", .timeLimit(.minutes(1)))
    func packetize() throws {
        var packetizer = OpusPacketizer()
        // A 20 ms CELT FB mono frame: TOC 0xFC (config 31, s=0, c=0) and its data.
        let frame: [UInt8] = [0xFC, 0xFF, 0xFE, 0x01, 0x02]
        let units = try packetizer.packetize(frame, timestamp: 960, firstSequenceNumber: 65535, maximumPayloadSize: 1200)
        #expect(units == [RtpPayloadUnit(payload: frame, marker: false, timestamp: 960, sequenceNumber: 65535)])
        let back = try OpusDepacketizer().depacketize(units)
        #expect(back.bytes == frame)
        #expect(back.isKeyframe)
        #expect(back.packetCount == 1 && back.firstSequenceNumber == 65535 && back.lastSequenceNumber == 65535)
    }

    @Test("refusals are typed: empty, too large, several packets, empty payload", .timeLimit(.minutes(1)))
    func refused() {
        var packetizer = OpusPacketizer()
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [], maximumPayloadSize: 100) }?.code == .invalidValue)
        let big = CodecTestSupport.code { try packetizer.payloads(for: [UInt8](repeating: 1, count: 101), maximumPayloadSize: 100) }
        #expect(big?.code == .payloadLimit && big?.field == "maximumPayloadSize")
        let depacketizer = OpusDepacketizer()
        #expect(CodecTestSupport.code { try depacketizer.depacketize([]) }?.code == .invalidValue)
        #expect(CodecTestSupport.code { try depacketizer.depacketize(CodecTestSupport.units([[1], [2]])) }?.code == .invalidValue)
        #expect(CodecTestSupport.code { try depacketizer.depacketize(CodecTestSupport.units([[]])) }?.code == .truncated)
        #expect(CodecTestSupport.code { try depacketizer.depacketize(CodecTestSupport.units([[1, 2, 3]]), maximumFrameSize: 2) }?.code == .frameTooLarge)
        #expect(depacketizer.framesAreSinglePackets)
        #expect(depacketizer.startsFrame([0xFC]) && !depacketizer.startsFrame([]))
    }
}
