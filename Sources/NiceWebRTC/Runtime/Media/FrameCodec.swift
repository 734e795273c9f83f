import NiceWebRTCCore

/// The codecs whose frames the runtime packetizes (``LocalTrack/write(frame:duration:)``) and
/// puts back together (``RemoteTrack/frames(bufferCapacity:)``), by their SDP name.
enum FrameCodec: Sendable, Hashable {
    case opus, vp8, h264

    /// `opus`, `VP8`, `H264` (any case); nil for anything else (RTX, red, ulpfec, AV1, …).
    init?(name: String) {
        switch name.lowercased() {
        case "opus": self = .opus
        case "vp8": self = .vp8
        case "h264": self = .h264
        default: return nil
        }
    }

    var isVideo: Bool { self != .opus }

    func makeDepacketizer() -> any RtpDepacketizer {
        switch self {
        case .opus: OpusDepacketizer()
        case .vp8: Vp8Depacketizer()
        case .h264: H264Depacketizer()
        }
    }

    /// A packetizer for one outgoing stream (VP8's picture ID starts at random, as browsers do).
    func makePacketizer() -> any RtpPacketizer {
        switch self {
        case .opus: OpusPacketizer()
        case .vp8: Vp8Packetizer(firstPictureID: UInt16.random(in: 0...0x7FFF))
        case .h264: H264Packetizer()
        }
    }
}

/// Depacketized frames for one ``RemoteTrack`` (under its lock): an assembler for the codec of
/// the packets' payload type, restarted when the payload type changes.
struct FrameReceiver: Sendable {
    var payloadType: UInt8?
    var assembler: FrameAssembler?
    /// Video only: packets back in order, NACK-recovered ones waited for (a bounded while).
    var reorder: FrameReorder?
    /// Packets are skipped until one starts a frame (a reader that joins mid-frame does not count
    /// the frame it missed the start of).
    var synced = false
    /// Frames dropped by earlier assemblers (payload type changes).
    var droppedBefore = 0

    /// The frames `packet` completes, and how many frames were dropped (incomplete, oversized or
    /// malformed) since the last call.
    mutating func push(_ packet: RtpPacket, codec: FrameCodec, clockRate: UInt32) -> (frames: [EncodedFrame], dropped: Int) {
        if payloadType != packet.payloadType || assembler == nil {
            droppedBefore += assembler?.counters.droppedFrames ?? 0
            payloadType = packet.payloadType
            assembler = FrameAssembler(depacketizer: codec.makeDepacketizer())
            reorder = codec.isVideo ? FrameReorder(clockRate: clockRate) : nil
            synced = false
        }
        guard var current = assembler else { return ([], 0) }
        var ordered: [RtpPacket]
        if var waiting = reorder {
            reorder = nil  // uniquely referenced while it changes
            ordered = waiting.push(packet)
            reorder = waiting
        } else {
            ordered = [packet]
        }
        if !synced {
            guard let start = ordered.firstIndex(where: { current.depacketizer.startsFrame($0.payload) }) else { return ([], 0) }
            ordered.removeFirst(start)
            synced = true
        }
        let before = current.counters.droppedFrames
        assembler = nil  // keep the assembler uniquely referenced while it changes
        var frames: [EncodedFrame] = []
        for packet in ordered {
            frames += current.push(RtpPayloadUnit(payload: packet.payload, marker: packet.marker, timestamp: packet.timestamp,
                                                  sequenceNumber: packet.sequenceNumber))
        }
        let dropped = current.counters.droppedFrames - before
        assembler = current
        return (frames, dropped)
    }
}
