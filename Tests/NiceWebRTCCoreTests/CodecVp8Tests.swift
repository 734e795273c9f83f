import NiceWebRTCCore
import Testing

@Suite("VP8 payload (RFC 7741)")
struct CodecVp8Tests {
    typealias Descriptor = Vp8PayloadDescriptor

    // Vectors from aiortc tests/test_vpx.py (VpxPayloadDescriptorTest); 17 and 4711 are RFC 7741
    // §4.6.3 and §4.6.5's examples.
    static let descriptorVectors: [([UInt8], Descriptor)] = [
        ([0x10], Descriptor()),
        ([0x90, 0x80, 0x11], Descriptor(pictureID: .sevenBit(17))),
        ([0x90, 0x80, 0x7F], Descriptor(pictureID: .sevenBit(127))),
        ([0x90, 0x80, 0x80, 0x80], Descriptor(pictureID: .fifteenBit(128))),
        ([0x90, 0x80, 0x81, 0x80], Descriptor(pictureID: .fifteenBit(384))),
        ([0x90, 0x80, 0x92, 0x67], Descriptor(pictureID: .fifteenBit(4711))),
        ([0x90, 0xC0, 0x92, 0x67, 0x81], Descriptor(pictureID: .fifteenBit(4711), tl0PictureIndex: 129)),
        ([0x90, 0x20, 0xE0], Descriptor(temporalLayer: .init(index: 3, layerSync: true))),
        ([0x90, 0x10, 0x1F], Descriptor(keyIndex: 31)),
        // All fields (N set, a continuation of partition 2).
        ([0xA2, 0xF0, 0xDA, 0x5A, 0xFF, 0x5F], Descriptor(nonReference: true, startOfPartition: false, partitionIndex: 2,
                                                          pictureID: .fifteenBit(0x5A5A), tl0PictureIndex: 255,
                                                          temporalLayer: .init(index: 1, layerSync: false), keyIndex: 31)),
    ]

    @Test("payload descriptors parse and write back byte for byte", .timeLimit(.minutes(1)), arguments: descriptorVectors)
    func descriptors(bytes: [UInt8], expected: Descriptor) throws {
        let (descriptor, length) = try Descriptor.parse(bytes + [0x42])
        #expect(descriptor == expected)
        #expect(length == bytes.count)
        #expect(descriptor.encodedLength == bytes.count)
        #expect(try descriptor.encoded() == bytes)
        #expect(descriptor.pictureID?.value == expected.pictureID?.value)
    }

    // pion/rtp codecs/vp8_packet_test.go (TestVP8Packet_Unmarshal): accepted payloads.
    @Test("pion's accepted payloads depacketize", .timeLimit(.minutes(1)), arguments: [
        [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x90], [0x80, 0x00, 0x00, 0x00], [0x80, 0x80, 0x00, 0x00],
        [0x80, 0x40, 0x00, 0x00], [0x80, 0x20, 0x00, 0x00], [0x80, 0x10, 0x00, 0x00],
    ] as [[UInt8]])
    func pionAccepted(given: [UInt8]) throws {
        // pion's vectors have S = 0: continuations. As given, the descriptor parses; with S set,
        // the one packet is a whole frame.
        #expect(try Descriptor.parse(given).descriptor.startOfPartition == false)
        var payload = given
        payload[0] |= 0x10
        let frame = try Vp8Depacketizer().depacketize(CodecTestSupport.units([payload]))
        let length = try Descriptor.parse(payload).length
        #expect(frame.bytes == Array(payload[length...]))
    }

    // pion/rtp codecs/vp8_packet_test.go: refused payloads, with the field now named.
    @Test("truncated payloads are typed errors", .timeLimit(.minutes(1)), arguments: [
        ([], "descriptor"), ([0x90], "X"), ([0x90, 0x80], "pictureID"), ([0x90, 0x80, 0x81], "pictureID"),
        ([0x90, 0x40], "TL0PICIDX"), ([0x90, 0x20], "TID/KEYIDX"), ([0xFF, 0xFF, 0x00, 0x00], "TID/KEYIDX"),
        ([0x90, 0x80, 0x81, 0x00], "payload"), ([0x10], "payload"),
    ] as [([UInt8], String)])
    func truncated(payload: [UInt8], field: String) {
        let error = CodecTestSupport.code { try Vp8Depacketizer().depacketize(CodecTestSupport.units([payload])) }
        #expect(error?.code == .truncated)
        #expect(error?.field == field)
    }

    @Test("out-of-range fields are refused when written", .timeLimit(.minutes(1)))
    func outOfRange() {
        let cases: [(Descriptor, String)] = [
            (Descriptor(partitionIndex: 8), "PID"),
            (Descriptor(pictureID: .sevenBit(128)), "pictureID"),
            (Descriptor(pictureID: .fifteenBit(0x8000)), "pictureID"),
            (Descriptor(temporalLayer: .init(index: 4, layerSync: false)), "TID"),
            (Descriptor(keyIndex: 32), "KEYIDX"),
        ]
        for (descriptor, field) in cases {
            let error = CodecTestSupport.code { try descriptor.encoded() }
            #expect(error?.code == .invalidValue && error?.field == field)
        }
    }

    // GStreamer tests/check/elements/rtpvp8.c: intra_picid6336_seqnum0 (RTP header removed), a
    // QCIF key frame with a 15-bit picture ID.
    static let gstreamerIntra: [UInt8] = [
        0x90, 0x80, 0x98, 0xC0, 0xF0, 0x07, 0x00, 0x9D, 0x01, 0x2A, 0xB0, 0x00,
        0x90, 0x00, 0x06, 0x47, 0x08, 0x85, 0x85, 0x88, 0x99, 0x84, 0x88, 0x21,
    ]

    @Test("a key frame is detected by S, PID and the P bit, with its picture size", .timeLimit(.minutes(1)))
    func keyframe() throws {
        let (descriptor, length) = try Descriptor.parse(Self.gstreamerIntra)
        #expect(descriptor.pictureID == .fifteenBit(6336))
        #expect(length == 4)
        let frame = try Vp8Depacketizer().depacketize(CodecTestSupport.units([Self.gstreamerIntra]))
        #expect(frame.isKeyframe)
        #expect(frame.dimensions == FrameDimensions(width: 176, height: 144))
        #expect(Vp8Depacketizer.startsKeyframe(Self.gstreamerIntra))
        let header = try Vp8FrameHeader(parsing: frame.bytes)
        #expect(header.isKeyframe && header.showFrame && header.version == 0)
        #expect(header.firstPartitionSize == 0x0F0 >> 5 | 0x07 << 3)

        // The same frame with P = 1 is an inter frame; S = 0 or PID = 1 is not a frame start.
        var inter = Self.gstreamerIntra
        inter[4] |= 0x01
        let interFrame = try Vp8Depacketizer().depacketize(CodecTestSupport.units([inter]))
        #expect(!interFrame.isKeyframe && interFrame.dimensions == nil)
        #expect(!Vp8Depacketizer.startsKeyframe(inter))
        var continuation = Self.gstreamerIntra
        continuation[0] = 0x80
        #expect(!Vp8Depacketizer.startsKeyframe(continuation))
        #expect(!Vp8Depacketizer().startsFrame(continuation))
        var partition1 = Self.gstreamerIntra
        partition1[0] = 0x91
        #expect(!Vp8Depacketizer().startsFrame(partition1))
        #expect(CodecTestSupport.code { try Vp8FrameHeader(parsing: [0x10, 0x02]) }?.field == "frameTag")
    }

    // GStreamer tests/check/elements/rtpvp8.c (test_pay_no_meta): picture-id-offset 0x5A5A gives
    // 0x5A in 7 bits and 0xDA 0x5A in 15 bits.
    @Test("the packetizer writes GStreamer's descriptors for each picture ID mode", .timeLimit(.minutes(1)), arguments: [
        (Vp8Packetizer.PictureIDMode.none, [0x10]), (.sevenBit, [0x90, 0x80, 0x5A]), (.fifteenBit, [0x90, 0x80, 0xDA, 0x5A]),
    ] as [(Vp8Packetizer.PictureIDMode, [UInt8])])
    func packetizerModes(mode: Vp8Packetizer.PictureIDMode, descriptor: [UInt8]) throws {
        let bitstream: [UInt8] = [0x30, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0xB0, 0x00, 0x90, 0x00, 0x06, 0x47,
                                  0x08, 0x85, 0x85, 0x88, 0x99, 0x84, 0x88, 0x21, 0x00]
        var packetizer = Vp8Packetizer(pictureIDMode: mode, firstPictureID: 0x5A5A)
        let payloads = try packetizer.payloads(for: bitstream, maximumPayloadSize: 1200)
        #expect(payloads == [descriptor + bitstream])
    }

    @Test("picture IDs advance per frame and wrap at their width", .timeLimit(.minutes(1)))
    func pictureIDs() throws {
        var seven = Vp8Packetizer(pictureIDMode: .sevenBit, firstPictureID: 126)
        var fifteen = Vp8Packetizer(pictureIDMode: .fifteenBit, firstPictureID: 32766)
        var sevenSeen: [UInt16] = []
        var fifteenSeen: [UInt16] = []
        for _ in 0..<4 {
            // Three packets per frame: the picture ID is the frame's, on every packet.
            let a = try seven.payloads(for: [UInt8](repeating: 7, count: 10), maximumPayloadSize: 7)
            let b = try fifteen.payloads(for: [UInt8](repeating: 7, count: 10), maximumPayloadSize: 8)
            #expect(a.count == 3 && b.count == 3)
            let ids = try a.map { try Descriptor.parse($0).descriptor.pictureID?.value }
            #expect(Set(ids).count == 1)
            sevenSeen.append(try #require(ids.first ?? nil))
            fifteenSeen.append(try #require(try Descriptor.parse(b[2]).descriptor.pictureID?.value))
        }
        #expect(sevenSeen == [126, 127, 0, 1])
        #expect(fifteenSeen == [32766, 32767, 0, 1])
    }

    @Test("packetize → depacketize round-trips over many frame sizes and payload limits", .timeLimit(.minutes(1)),
          arguments: [Vp8Packetizer.PictureIDMode.none, .sevenBit, .fifteenBit])
    func roundTrip(mode: Vp8Packetizer.PictureIDMode) throws {
        var random = CodecTestRandom(seed: 0x5650_3800)
        var packetizer = Vp8Packetizer(pictureIDMode: mode, firstPictureID: 1000)
        let depacketizer = Vp8Depacketizer()
        var sequenceNumber: UInt16 = 65_000
        for limit in [5, 6, 7, 17, 100, 1188, 1200] {
            for size in [1, 2, 3, 4, 5, 10, 99, 100, 101, 1187, 1188, 1189, 5000, 20_000] + (0..<5).map({ _ in Int.random(in: 1...40_000, using: &random) })
            where limit >= 100 || size <= 2000 {
                let frame = random.bytes(size)
                let units = try packetizer.packetize(frame, timestamp: UInt32(size), firstSequenceNumber: sequenceNumber, maximumPayloadSize: limit)
                sequenceNumber &+= UInt16(truncatingIfNeeded: units.count)
                #expect(units.allSatisfy { $0.payload.count <= limit })
                #expect(units.enumerated().allSatisfy { $1.marker == ($0 == units.count - 1) })
                #expect(units.enumerated().allSatisfy { (try? Descriptor.parse($1.payload).descriptor.startOfPartition) == ($0 == 0) })
                let back = try depacketizer.depacketize(units)
                #expect(back.bytes == frame)
                #expect(back.packetCount == units.count && back.timestamp == UInt32(size))
            }
        }
    }

    @Test("packetizer refusals: empty frame, a limit that cannot hold the descriptor", .timeLimit(.minutes(1)))
    func packetizerRefusals() {
        var none = Vp8Packetizer(pictureIDMode: .none)
        var long = Vp8Packetizer(pictureIDMode: .fifteenBit)
        #expect(CodecTestSupport.code { try none.payloads(for: [], maximumPayloadSize: 100) }?.code == .invalidValue)
        #expect(CodecTestSupport.code { try none.payloads(for: [1], maximumPayloadSize: 1) }?.code == .payloadLimit)
        #expect(CodecTestSupport.code { try long.payloads(for: [1], maximumPayloadSize: 4) }?.code == .payloadLimit)
        #expect(CodecTestSupport.code { try long.payloads(for: [1], maximumPayloadSize: -1) }?.code == .payloadLimit)
        #expect((try? none.payloads(for: [1, 2, 3], maximumPayloadSize: 2)) == [[0x10, 1], [0x00, 2], [0x00, 3]])
    }

    @Test("frames that do not fit together are refused whole", .timeLimit(.minutes(1)))
    func brokenFrames() throws {
        var packetizer = Vp8Packetizer()
        let units = try packetizer.packetize([UInt8](repeating: 0xAB, count: 30), timestamp: 1, firstSequenceNumber: 65534, maximumPayloadSize: 14)
        #expect(units.count == 3)
        let depacketizer = Vp8Depacketizer()
        #expect(try depacketizer.depacketize(units).bytes.count == 30, "across the sequence number wrap")
        let first = CodecTestSupport.code { try depacketizer.depacketize(Array(units.dropFirst())) }
        #expect(first?.code == .fragmentation && first?.field == "S")
        let gap = CodecTestSupport.code { try depacketizer.depacketize([units[0], units[2]]) }
        #expect(gap?.code == .fragmentation && gap?.field == "sequenceNumber")
        var mixed = units
        mixed[1].timestamp = 2
        #expect(CodecTestSupport.code { try depacketizer.depacketize(mixed) }?.field == "timestamp")
        #expect(CodecTestSupport.code { try depacketizer.depacketize(units, maximumFrameSize: 29) }?.code == .frameTooLarge)
        #expect(CodecTestSupport.code { try depacketizer.depacketize([]) }?.code == .invalidValue)
    }
}
