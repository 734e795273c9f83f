import NiceWebRTCCore
import Testing

@Suite("H.264 payload (RFC 6184, packetization mode 1)")
struct CodecH264Tests {
    static func depacketize(_ payloads: [[UInt8]]) throws -> EncodedFrame {
        try H264Depacketizer().depacketize(CodecTestSupport.units(payloads))
    }

    static func error(_ payloads: [[UInt8]]) -> RtpError? {
        CodecTestSupport.code { try depacketize(payloads) }
    }

    // pion/rtp codecs/h264_packet_test.go: singlePayloadMultiNALU (a STAP-A of an SPS and a PPS)
    // and its Annex-B form.
    static let pionStapA: [UInt8] = [
        0x78, 0x00, 0x0F, 0x67, 0x42, 0xC0, 0x1F, 0x1A, 0x32, 0x35, 0x01, 0x40, 0x7A, 0x40, 0x3C, 0x22, 0x11,
        0xA8, 0x00, 0x05, 0x68, 0x1A, 0x34, 0xE3, 0xC8,
    ]
    static let pionStapAAnnexB: [UInt8] = [
        0x00, 0x00, 0x00, 0x01, 0x67, 0x42, 0xC0, 0x1F, 0x1A, 0x32, 0x35, 0x01, 0x40, 0x7A, 0x40, 0x3C, 0x22,
        0x11, 0xA8, 0x00, 0x00, 0x00, 0x01, 0x68, 0x1A, 0x34, 0xE3, 0xC8,
    ]
    // pion/rtp codecs/h264_packet_test.go: largepayload and largePayloadPacketized (FU-A at MTU 5).
    static let pionLarge: [UInt8] = [
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12,
        0x13, 0x14, 0x15,
    ]
    static let pionLargePacketized: [[UInt8]] = [
        [0x1C, 0x80, 0x01, 0x02, 0x03], [0x1C, 0x00, 0x04, 0x05, 0x06], [0x1C, 0x00, 0x07, 0x08, 0x09],
        [0x1C, 0x00, 0x10, 0x11, 0x12], [0x1C, 0x40, 0x13, 0x14, 0x15],
    ]

    @Test("pion's STAP-A depacketizes to Annex B, and an SPS + PPS packetize to the same STAP-A", .timeLimit(.minutes(1)))
    func stapA() throws {
        let frame = try Self.depacketize([Self.pionStapA])
        #expect(frame.bytes == Self.pionStapAAnnexB)
        #expect(frame.isKeyframe, "SPS and PPS")
        var packetizer = H264Packetizer()
        // NRI of the STAP-A is the largest of its units' (3): 0x78, as pion's vector.
        #expect(try packetizer.payloads(for: Self.pionStapAAnnexB, maximumPayloadSize: 1500) == [Self.pionStapA])
        // Without aggregation: two single NAL unit packets.
        var single = H264Packetizer(aggregatesSmallUnits: false)
        #expect(try single.payloads(for: Self.pionStapAAnnexB, maximumPayloadSize: 1500).map(\.count) == [15, 5])
        // A limit one byte short of the STAP-A: no aggregation.
        #expect(try packetizer.payloads(for: Self.pionStapAAnnexB, maximumPayloadSize: Self.pionStapA.count - 1).count == 2)
    }

    @Test("pion's FU-A vector: packetized at a 5-byte limit and back", .timeLimit(.minutes(1)))
    func fuA() throws {
        var packetizer = H264Packetizer()
        #expect(try packetizer.payloads(for: Self.pionLarge, maximumPayloadSize: 5) == Self.pionLargePacketized)
        let frame = try Self.depacketize(Self.pionLargePacketized)
        #expect(frame.bytes == Self.pionLarge)
        #expect(!frame.isKeyframe)
    }

    // pion/rtp codecs/h264_packet_test.go: smallpayload, multiplepayload, singlePayload.
    @Test("pion's single NAL unit vectors", .timeLimit(.minutes(1)))
    func single() throws {
        var packetizer = H264Packetizer()
        #expect(try packetizer.payloads(for: [0x90, 0x90, 0x90], maximumPayloadSize: 5) == [[0x90, 0x90, 0x90]])
        #expect(try packetizer.payloads(for: [0x00, 0x00, 0x01, 0x90, 0x00, 0x00, 0x01, 0x90], maximumPayloadSize: 5) == [[0x90], [0x90]])
        #expect(try Self.depacketize([[0x90, 0x90, 0x90]]).bytes == [0x00, 0x00, 0x00, 0x01, 0x90, 0x90, 0x90])
    }

    @Test("Annex B: 3- and 4-byte start codes, leading bytes, trailing zeros, empty units", .timeLimit(.minutes(1)))
    func annexB() {
        let stream: [UInt8] = [0x09, 0xF0, 0x00, 0x00, 0x00, 0x01, 0x67, 0x01, 0x00, 0x00, 0x01, 0x68, 0x02, 0x00, 0x00,
                               0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x65, 0x00, 0x00, 0x03, 0x01, 0x00]
        #expect(H264NalUnit.units(inAnnexB: stream).map(Array.init) == [[0x09, 0xF0], [0x67, 0x01], [0x68, 0x02], [0x65, 0x00, 0x00, 0x03, 0x01]])
        #expect(H264NalUnit.units(inAnnexB: []).isEmpty)
        #expect(H264NalUnit.units(inAnnexB: [0, 0, 1]).isEmpty)
        #expect(H264NalUnit.units(inAnnexB: [0, 0, 0, 1, 0, 0, 1]).isEmpty)
        #expect(H264NalUnit.annexB(H264NalUnit.units(inAnnexB: [0x00, 0x00, 0x01, 0x41, 0x9A])) == [0, 0, 0, 1, 0x41, 0x9A])
    }

    @Test("key frames: an IDR slice, or an SPS and a PPS", .timeLimit(.minutes(1)), arguments: [
        ([[0x65, 0x88, 0x84]], true), ([[0x41, 0x9A, 0x02]], false), ([[0x67, 0x42]], false), ([[0x68, 0xCE]], false),
        ([[0x67, 0x42], [0x68, 0xCE], [0x41, 0x9A]], true), ([[0x7C, 0x85, 0x88], [0x7C, 0x45, 0x84]], true),
        ([[0x06, 0x05], [0x41, 0x9A]], false),
    ] as [([[UInt8]], Bool)])
    func keyframes(payloads: [[UInt8]], keyframe: Bool) throws {
        #expect(try Self.depacketize(payloads).isKeyframe == keyframe)
    }

    @Test("frame starts and key frame starts per packet", .timeLimit(.minutes(1)))
    func starts() {
        let depacketizer = H264Depacketizer()
        #expect(depacketizer.startsFrame([0x67, 0x42]))  // SPS
        #expect(depacketizer.startsFrame([0x09, 0xF0]))  // access unit delimiter
        #expect(depacketizer.startsFrame([0x65, 0x88]))  // IDR, first_mb_in_slice = 0
        #expect(!depacketizer.startsFrame([0x41, 0x40]))  // a later slice of a picture
        #expect(!depacketizer.startsFrame([0x68, 0xCE]))  // PPS alone: the SPS may be lost
        #expect(depacketizer.startsFrame(Self.pionStapA))
        #expect(depacketizer.startsFrame([0x7C, 0x85, 0x88]))  // FU-A start of an IDR slice
        #expect(!depacketizer.startsFrame([0x7C, 0x45, 0x88]))  // FU-A end
        #expect(!depacketizer.startsFrame([]) && !depacketizer.startsFrame([0x78, 0x00]))
        #expect(H264Depacketizer.startsKeyframe(Self.pionStapA))
        #expect(H264Depacketizer.startsKeyframe([0x7C, 0x85, 0x88]))
        #expect(!H264Depacketizer.startsKeyframe([0x7C, 0x05, 0x88]))
        #expect(!H264Depacketizer.startsKeyframe([0x41, 0x9A]))
        #expect(!H264Depacketizer.startsKeyframe([0x78, 0x00, 0x09, 0x68]))
    }

    @Test("malformed packets and broken FU-A sequences are typed errors", .timeLimit(.minutes(1)), arguments: [
        ([[]], RtpError.Code.truncated, "payload"),
        ([Array(pionStapA.prefix(17))], .truncated, "stapASize"),  // pion's incompleteSinglePayloadMultiNALU
        ([[0x78]], .truncated, "stapASize"),
        ([[0x78, 0x00]], .truncated, "stapASize"),
        ([[0x78, 0x00, 0x00, 0x67]], .invalidValue, "stapASize"),
        ([[0x78, 0x00, 0x01, 0x78]], .invalidValue, "nalUnitType"),
        ([[0xFF, 0x00, 0x00]], .unsupported, "nalUnitType"),  // pion: a type we don't handle
        ([[0x19, 0x00]], .unsupported, "nalUnitType"),  // STAP-B
        ([[0x1D, 0x85, 0x00]], .unsupported, "nalUnitType"),  // FU-B
        ([[0x7C, 0x85]], .truncated, "fuHeader"),
        ([[0x7C, 0xC5, 0x88]], .invalidValue, "fuHeader"),  // S and E
        ([[0x7C, 0x9C, 0x88]], .invalidValue, "nalUnitType"),
        ([[0x7C, 0x05, 0x88], [0x7C, 0x45, 0x88]], .fragmentation, "fuHeader"),  // no start
        ([[0x7C, 0x85, 0x88], [0x7C, 0x05, 0x88]], .fragmentation, "fuHeader"),  // no end
        ([[0x7C, 0x85, 0x88], [0x7C, 0x85, 0x88]], .fragmentation, "fuHeader"),  // start inside a unit
        ([[0x7C, 0x85, 0x88], [0x7C, 0x41, 0x88]], .fragmentation, "fuHeader"),  // type change
        ([[0x7C, 0x85, 0x88], [0x41, 0x9A]], .fragmentation, "fuHeader"),  // other packet inside a unit
    ] as [([[UInt8]], RtpError.Code, String)])
    func malformed(payloads: [[UInt8]], code: RtpError.Code, field: String) {
        let error = Self.error(payloads)
        #expect(error?.code == code)
        #expect(error?.field == field)
    }

    @Test("a gap inside an FU-A, mixed timestamps and an oversized unit are refused", .timeLimit(.minutes(1)))
    func brokenFrames() throws {
        let depacketizer = H264Depacketizer()
        var units = CodecTestSupport.units(Self.pionLargePacketized)
        units.remove(at: 2)
        #expect(CodecTestSupport.code { try depacketizer.depacketize(units) }?.field == "sequenceNumber")
        var mixed = CodecTestSupport.units(Self.pionLargePacketized)
        mixed[4].timestamp &+= 3000
        #expect(CodecTestSupport.code { try depacketizer.depacketize(mixed) }?.field == "timestamp")
        let whole = CodecTestSupport.units(Self.pionLargePacketized)
        #expect(try depacketizer.depacketize(whole, maximumFrameSize: Self.pionLarge.count).bytes == Self.pionLarge)
        #expect(CodecTestSupport.code { try depacketizer.depacketize(whole, maximumFrameSize: Self.pionLarge.count - 1) }?.code == .frameTooLarge)
    }

    @Test("packetizer refusals: no NAL unit, RTP packet types, limits too small", .timeLimit(.minutes(1)))
    func packetizerRefusals() throws {
        var packetizer = H264Packetizer()
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [], maximumPayloadSize: 100) }?.field == "frame")
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [0, 0, 1], maximumPayloadSize: 100) }?.field == "frame")
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [0x78, 0x01], maximumPayloadSize: 100) }?.code == .unsupported)
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [0x7C, 0x01], maximumPayloadSize: 100) }?.code == .unsupported)
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [0x41, 0x01], maximumPayloadSize: 0) }?.code == .payloadLimit)
        #expect(CodecTestSupport.code { try packetizer.payloads(for: [0x41, 0x01, 0x02], maximumPayloadSize: 2) }?.code == .payloadLimit)
        #expect(try packetizer.payloads(for: [0x41, 0x01, 0x02], maximumPayloadSize: 3) == [[0x41, 0x01, 0x02]])
        #expect(try packetizer.payloads(for: [0x41, 0x01, 0x02, 0x03], maximumPayloadSize: 3) == [[0x5C, 0x81, 0x01], [0x5C, 0x01, 0x02], [0x5C, 0x41, 0x03]])
    }

    @Test("packetize → depacketize round-trips access units over many sizes and payload limits", .timeLimit(.minutes(1)))
    func roundTrip() throws {
        var random = CodecTestRandom(seed: 0x6264)
        let depacketizer = H264Depacketizer()
        var sequenceNumber: UInt16 = 65_500
        for limit in [3, 4, 9, 30, 200, 1200] {
            for _ in 0..<25 {
                // An access unit: maybe SPS + PPS + SEI, then 1–4 slices of random sizes. Bodies
                // avoid zero bytes, so no start code appears inside a unit.
                var units: [[UInt8]] = []
                let idr = Bool.random(using: &random)
                if idr {
                    units.append([0x67] + random.bytes(Int.random(in: 4...20, using: &random), nonZero: true))
                    units.append([0x68] + random.bytes(Int.random(in: 1...5, using: &random), nonZero: true))
                }
                if Bool.random(using: &random) { units.append([0x06] + random.bytes(Int.random(in: 0...30, using: &random), nonZero: true)) }
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let size = limit < 30 ? Int.random(in: 0...300, using: &random) : Int.random(in: 0...(limit < 1000 ? 2000 : 40_000), using: &random)
                    units.append([idr ? 0x65 : 0x41] + random.bytes(size, nonZero: true))
                }
                var stream: [UInt8] = []
                for unit in units {
                    stream += Bool.random(using: &random) ? [0, 0, 1] : [0, 0, 0, 1]
                    stream += unit
                }
                var packetizer = H264Packetizer(aggregatesSmallUnits: Bool.random(using: &random))
                let packets = try packetizer.packetize(stream, timestamp: 90_000, firstSequenceNumber: sequenceNumber, maximumPayloadSize: limit)
                sequenceNumber &+= UInt16(truncatingIfNeeded: packets.count)
                #expect(packets.allSatisfy { $0.payload.count <= limit })
                #expect(packets.last?.marker == true && packets.dropLast().allSatisfy { !$0.marker })
                let frame = try depacketizer.depacketize(packets)
                #expect(frame.bytes == H264NalUnit.annexB(units.map { $0[...] }))
                #expect(frame.isKeyframe == idr)
                #expect(depacketizer.startsFrame(packets[0].payload) == idr || !idr)
            }
        }
    }
}
