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
/// the packets' payload type, restarted when the payload type or the SSRC changes.
struct FrameReceiver: Sendable {
    var payloadType: UInt8?
    var ssrc: UInt32?
    var assembler: FrameAssembler?
    /// Packets back in order (video: NACK-recovered ones waited for a bounded while), restarts
    /// noticed.
    var reorder: FrameReorder?
    /// Packets are skipped until one starts a frame (a reader that joins mid-frame does not count
    /// the frame it missed the start of).
    var synced = false

    /// The frames `packet` completes, and how many frames were dropped (incomplete, oversized or
    /// malformed) since the last call.
    mutating func push(_ packet: RtpPacket, codec: FrameCodec, clockRate: UInt32) -> (frames: [EncodedFrame], dropped: Int) {
        if payloadType != packet.payloadType || ssrc != packet.ssrc || assembler == nil {
            payloadType = packet.payloadType
            ssrc = packet.ssrc
            assembler = FrameAssembler(depacketizer: codec.makeDepacketizer())
            reorder = FrameReorder(clockRate: clockRate, waits: codec.isVideo)
            synced = false
        }
        guard var current = assembler, var waiting = reorder else { return ([], 0) }
        reorder = nil  // keep both uniquely referenced while they change
        assembler = nil
        defer {
            reorder = waiting
            assembler = current
        }
        let (ordered, restartIndex) = waiting.push(packet)
        let before = current.counters.droppedFrames
        var frames: [EncodedFrame] = []
        for (index, packet) in ordered.enumerated() {
            if index == restartIndex {
                // New numbering (a restarted sender, a hostile jump): the assembler forgets its
                // position and the reader waits for a frame start again.
                current.reset()
                synced = false
            }
            if !synced {
                guard current.depacketizer.startsFrame(packet.payload) else { continue }
                synced = true
            }
            frames += current.push(RtpPayloadUnit(payload: packet.payload, marker: packet.marker, timestamp: packet.timestamp,
                                                  sequenceNumber: packet.sequenceNumber))
        }
        return (frames, current.counters.droppedFrames - before)
    }
}
