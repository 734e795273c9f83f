import NiceWebRTCCore
import Testing

@Suite("FrameAssembler: ordered RTP packets → whole frames")
struct CodecFrameAssemblerTests {
    /// VP8 frames of `sizes` bytes packetized at `limit`, consecutive from `first`, one timestamp
    /// step (3000) apart. Each frame's bytes are its index repeated.
    static func vp8Frames(_ sizes: [Int], limit: Int = 10, first: UInt16 = 1000) throws -> [[RtpPayloadUnit]] {
        var packetizer = Vp8Packetizer()
        var sequenceNumber = first
        var frames: [[RtpPayloadUnit]] = []
        for (index, size) in sizes.enumerated() {
            let units = try packetizer.packetize([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size),
                                                 timestamp: UInt32(index) * 3000, firstSequenceNumber: sequenceNumber,
                                                 maximumPayloadSize: limit)
            sequenceNumber &+= UInt16(truncatingIfNeeded: units.count)
            frames.append(units)
        }
        return frames
    }

    static func push(_ units: [RtpPayloadUnit], into assembler: inout FrameAssembler) -> [EncodedFrame] {
        units.flatMap { assembler.push($0) }
    }

    @Test("frames in order come out whole, one per marker", .timeLimit(.minutes(1)))
    func inOrder() throws {
        let frames = try Self.vp8Frames([5, 30, 1, 100])
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        let out = Self.push(frames.flatMap { $0 }, into: &assembler)
        #expect(out.map(\.bytes.count) == [5, 30, 1, 100])
        #expect(out.map(\.timestamp) == [0, 3000, 6000, 9000])
        #expect(out.map(\.packetCount) == frames.map(\.count))
        #expect(out[1].firstSequenceNumber == frames[1][0].sequenceNumber)
        #expect(out[1].lastSequenceNumber == frames[1].last?.sequenceNumber)
        #expect(assembler.counters.frames == 4 && assembler.counters.droppedFrames == 0)
    }

    @Test("a lost packet inside a frame drops that frame only", .timeLimit(.minutes(1)))
    func lossInside() throws {
        let frames = try Self.vp8Frames([30, 30, 30])
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        var units = frames.flatMap { $0 }
        units.remove(at: frames[0].count + 1)  // the second packet of frame 1
        let out = Self.push(units, into: &assembler)
        #expect(out.map(\.timestamp) == [0, 6000])
        #expect(assembler.counters.incompleteFrames == 1)
        #expect(assembler.counters.lostPackets == 1)
    }

    @Test("a lost first or last packet: the frame is dropped, the next one (S = 1) is whole", .timeLimit(.minutes(1)))
    func lossAtEdges() throws {
        let frames = try Self.vp8Frames([30, 30, 30, 30])
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        var units = frames.flatMap { $0 }
        let firstOfFrame2 = frames[0].count + frames[1].count
        units.remove(at: firstOfFrame2)  // frame 2's first packet
        units.remove(at: frames[0].count + frames[1].count - 1)  // frame 1's marker packet
        let out = Self.push(units, into: &assembler)
        #expect(out.map(\.timestamp) == [0, 9000])
        #expect(assembler.counters.incompleteFrames == 2)
        #expect(assembler.counters.lostPackets == 2)
    }

    @Test("after a loss, a frame whose first packet cannot be recognised is dropped", .timeLimit(.minutes(1)))
    func unknownStartAfterLoss() throws {
        // H.264: a later slice (first_mb_in_slice ≠ 0) after a gap may follow a lost first slice.
        var assembler = FrameAssembler(depacketizer: H264Depacketizer())
        let laterSlice = RtpPayloadUnit(payload: [0x41, 0x40, 0x01], marker: true, timestamp: 3000, sequenceNumber: 12)
        let firstSlice = RtpPayloadUnit(payload: [0x41, 0x9A, 0x01], marker: true, timestamp: 6000, sequenceNumber: 20)
        let next = RtpPayloadUnit(payload: [0x41, 0x40, 0x02], marker: true, timestamp: 9000, sequenceNumber: 21)
        #expect(assembler.push(RtpPayloadUnit(payload: [0x65, 0x88], marker: true, timestamp: 0, sequenceNumber: 10)).count == 1)
        #expect(assembler.push(laterSlice).isEmpty)
        #expect(assembler.push(firstSlice).count == 1, "first_mb_in_slice = 0 starts a frame")
        #expect(assembler.push(next).count == 1, "follows a marker directly")
        #expect(assembler.counters.incompleteFrames == 1 && assembler.counters.frames == 3)
    }

    @Test("the first packet ever must start a frame", .timeLimit(.minutes(1)))
    func joinMidFrame() throws {
        let frames = try Self.vp8Frames([30, 30])
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        let out = Self.push(Array(frames.flatMap { $0 }.dropFirst()), into: &assembler)
        #expect(out.map(\.timestamp) == [3000])
        #expect(assembler.counters.incompleteFrames == 1)
    }

    @Test("a timestamp change ends a frame whose marker bit was not set", .timeLimit(.minutes(1)))
    func timestampChange() throws {
        var frames = try Self.vp8Frames([30, 30, 30])
        for index in frames.indices { frames[index][frames[index].count - 1].marker = false }
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        let out = Self.push(frames.flatMap { $0 }, into: &assembler)
        #expect(out.map(\.timestamp) == [0, 3000], "the last frame waits for its end")
        let last = try #require(frames[2].last)
        var markerless = RtpPayloadUnit(payload: [0x10, 0x01], marker: true, timestamp: 9000, sequenceNumber: last.sequenceNumber &+ 1)
        #expect(assembler.push(markerless).map(\.timestamp) == [6000, 9000], "two frames from one packet")
        markerless.sequenceNumber &+= 2
        markerless.timestamp = 12_000
        markerless.marker = false
        #expect(assembler.push(markerless).isEmpty)
    }

    @Test("frames across the sequence number wrap; duplicates and late packets are ignored", .timeLimit(.minutes(1)))
    func wrapAndStale() throws {
        let frames = try Self.vp8Frames([40, 40, 40], first: 65_530)
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        var units = frames.flatMap { $0 }
        #expect(units.contains { $0.sequenceNumber == 0 })
        units.insert(units[3], at: 4)  // a duplicate
        units.insert(units[0], at: 9)  // a late packet
        let out = Self.push(units, into: &assembler)
        #expect(out.map(\.bytes) == [[UInt8](repeating: 0, count: 40), [UInt8](repeating: 1, count: 40), [UInt8](repeating: 2, count: 40)])
        #expect(assembler.counters.stalePackets == 2 && assembler.counters.lostPackets == 0)
    }

    @Test("packets reordered, then put back in order by the caller, give the same frames", .timeLimit(.minutes(1)))
    func reordered() throws {
        let frames = try Self.vp8Frames((0..<30).map { 10 + $0 * 7 }, first: 65_400)
        let units = frames.flatMap { $0 }
        var random = CodecTestRandom(seed: 7)
        var shuffled = units
        // Swap neighbours within a small window, then sort by unwrapped sequence number (as a
        // jitter buffer does).
        for index in stride(from: 0, to: shuffled.count - 3, by: 2) where Bool.random(using: &random) {
            shuffled.swapAt(index, index + Int.random(in: 1...3, using: &random))
        }
        let base = units[0].sequenceNumber
        let sorted = shuffled.sorted { ($0.sequenceNumber &- base) < ($1.sequenceNumber &- base) }
        var a = FrameAssembler(depacketizer: Vp8Depacketizer())
        var b = FrameAssembler(depacketizer: Vp8Depacketizer())
        #expect(Self.push(sorted, into: &a) == Self.push(units, into: &b))
        #expect(a.counters.frames == 30)
    }

    @Test("oversized frames, in bytes or in packets, are dropped and counted; the next is whole", .timeLimit(.minutes(1)))
    func oversized() throws {
        let frames = try Self.vp8Frames([50, 200, 50, 90], limit: 10)
        var bytes = FrameAssembler(depacketizer: Vp8Depacketizer(), limits: .init(maximumFrameBytes: 150))
        #expect(Self.push(frames.flatMap { $0 }, into: &bytes).map(\.timestamp) == [0, 6000, 9000])
        #expect(bytes.counters.oversizedFrames == 1)
        // 90 bytes in 9-byte chunks is 10 packets: the limit is packets, not bytes.
        var packets = FrameAssembler(depacketizer: Vp8Depacketizer(), limits: .init(maximumPacketsPerFrame: 9))
        #expect(Self.push(frames.flatMap { $0 }, into: &packets).map(\.timestamp) == [0, 6000])
        #expect(packets.counters.oversizedFrames == 2)
        // H.264 start codes make the depacketized frame larger than its payloads.
        var h264 = FrameAssembler(depacketizer: H264Depacketizer(), limits: .init(maximumFrameBytes: 5))
        #expect(h264.push(RtpPayloadUnit(payload: [0x65, 0x88, 0x01], marker: true, timestamp: 0, sequenceNumber: 1)).isEmpty)
        #expect(h264.counters.oversizedFrames == 1)
        var opus = FrameAssembler(depacketizer: OpusDepacketizer(), limits: .init(maximumFrameBytes: 2))
        #expect(opus.push(RtpPayloadUnit(payload: [0xFC, 1, 2], marker: false, timestamp: 0, sequenceNumber: 1)).isEmpty)
        #expect(opus.counters.oversizedFrames == 1)
    }

    @Test("a frame the depacketizer refuses is counted with its error", .timeLimit(.minutes(1)))
    func malformed() {
        var assembler = FrameAssembler(depacketizer: H264Depacketizer())
        #expect(assembler.push(RtpPayloadUnit(payload: [0x7C, 0x85, 0x88], marker: false, timestamp: 0, sequenceNumber: 1)).isEmpty)
        #expect(assembler.push(RtpPayloadUnit(payload: [0x7C, 0x85, 0x02], marker: true, timestamp: 0, sequenceNumber: 2)).isEmpty)
        #expect(assembler.counters.malformedFrames == 1)
        #expect(assembler.counters.lastError?.code == .fragmentation)
        #expect(assembler.push(RtpPayloadUnit(payload: [0x41, 0x9A], marker: true, timestamp: 3000, sequenceNumber: 3)).count == 1)
    }

    @Test("Opus: every packet is a frame, whatever its marker bit", .timeLimit(.minutes(1)))
    func opus() {
        var assembler = FrameAssembler(depacketizer: OpusDepacketizer())
        var out: [EncodedFrame] = []
        for index in 0..<10 where index != 4 {
            out += assembler.push(RtpPayloadUnit(payload: [0xFC, UInt8(index)], marker: index == 0, timestamp: UInt32(index) * 960,
                                                 sequenceNumber: 65_530 &+ UInt16(index)))
        }
        #expect(out.count == 9)
        #expect(out.allSatisfy { $0.isKeyframe })
        #expect(assembler.counters.lostPackets == 1 && assembler.counters.droppedFrames == 0)
    }

    @Test("reset forgets the frame in assembly and the sequence position", .timeLimit(.minutes(1)))
    func reset() throws {
        let frames = try Self.vp8Frames([30, 30])
        var assembler = FrameAssembler(depacketizer: Vp8Depacketizer())
        _ = Self.push(Array(frames[0].prefix(2)), into: &assembler)
        assembler.reset()
        #expect(Self.push(frames[0], into: &assembler).count == 1, "sequence numbers seen before are new again")
        #expect(assembler.counters.stalePackets == 0)
    }
}
