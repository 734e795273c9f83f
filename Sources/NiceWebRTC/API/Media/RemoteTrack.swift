import NiceICE
import NiceWebRTCCore

/// A track the peer sends (W3C `MediaStreamTrack` of an `RtpReceiver`), as RTP packets or as
/// whole encoded frames.
///
/// ```swift
/// pc.trackHandler = { event in
///     Task { for await packet in event.track.packets() { forwarder.add(packet) } }
///     Task { for await frame in event.track.frames() { recorder.add(frame.bytes, keyframe: frame.isKeyframe) } }
/// }
/// ```
///
/// **Buffering.** Each ``packets(bufferCapacity:)`` stream buffers at most `bufferCapacity`
/// packets (`bufferingNewest`): a reader that falls behind loses the oldest ones, counted in
/// ``droppedPackets``, and never slows the connection or another track. Packets are yielded as
/// they arrive (SRTP-authenticated, RTX unwrapped), with the peer's SSRC, payload type and
/// sequence numbers; gaps are the network's (NACK recovery comes with the RTCP engine).
///
/// **Frames.** ``frames(bufferCapacity:)`` yields the codec's frames (VP8, H.264, Opus, by the
/// negotiated payload type) put together from the packets in arrival order, the same way: each
/// stream buffers the newest `bufferCapacity` frames, the rest counted in ``droppedFrames``. A
/// frame missing a packet is never yielded in part: it is dropped and counted in
/// ``incompleteFrames``, and for video a keyframe is asked for (``requestKeyframe()``, so at most
/// one request per 500 ms). Packets are only put together while a frame stream is open.
public final class RemoteTrack: Sendable {
    struct State: Sendable {
        var streams = StreamRegistry<RtpPacket>()
        var ended = false
        var dropped: UInt64 = 0
        var delivered: UInt64 = 0
        var frameStreams = StreamRegistry<EncodedFrame>()
        var frameReceiver: FrameReceiver?
        var incompleteFrames: UInt64 = 0
        var droppedFrames: UInt64 = 0
        var deliveredFrames: UInt64 = 0
    }

    /// The default per-stream buffer of ``packets(bufferCapacity:)``.
    public static let defaultBufferCapacity = 1024
    /// The default per-stream buffer of ``frames(bufferCapacity:)``.
    public static let defaultFrameBufferCapacity = 256

    /// Audio or video.
    public let kind: MediaKind
    /// The track id the peer announced (`a=msid` appdata), or one made up when it announced none.
    public let id: String
    /// The stream ids the peer announced (`a=msid`).
    public let streamIds: [String]
    let session: MediaSession
    let transceiverId: Int
    let state = Locked(State())

    init(kind: MediaKind, id: String, streamIds: [String], session: MediaSession, transceiverId: Int) {
        self.kind = kind
        self.id = id
        self.streamIds = streamIds
        self.session = session
        self.transceiverId = transceiverId
    }

    /// The SSRC the peer sends the track with, once a packet arrived (or its `a=ssrc` line said).
    public var ssrc: UInt32? {
        session.state.withLock { s in s.bindings[transceiverId].flatMap { $0.remoteMediaSsrc ?? $0.receive?.remoteSsrcs.first } }
    }

    /// The negotiated codecs the track may arrive with (W3C `RTCRtpCodecParameters`).
    public var codecs: [RtpCodecParameters] { session.state.withLock { $0.bindings[transceiverId]?.receive?.codecs ?? [] } }

    /// Whether the track ended (the connection closed, or its transceiver went).
    public var isEnded: Bool { state.withLock { $0.ended } }

    /// Packets dropped because a reader's buffer was full.
    public var droppedPackets: UInt64 { state.withLock { $0.dropped } }

    /// Packets delivered to the track (each counted once, however many readers).
    public var receivedPackets: UInt64 { state.withLock { $0.delivered } }

    /// Frames dropped because a reader's buffer of ``frames(bufferCapacity:)`` was full.
    public var droppedFrames: UInt64 { state.withLock { $0.droppedFrames } }

    /// Frames that could not be put together whole and were not yielded: a packet of theirs was
    /// lost (a sequence gap), or the frame was malformed or larger than 4 MiB.
    public var incompleteFrames: UInt64 { state.withLock { $0.incompleteFrames } }

    /// Whole frames put together (each counted once, however many readers).
    public var receivedFrames: UInt64 { state.withLock { $0.deliveredFrames } }

    /// A new stream of the packets that arrive from now on (see the type's buffering notes).
    /// Finishes when the track ends (the connection closed).
    public func packets(bufferCapacity: Int = RemoteTrack.defaultBufferCapacity) -> AsyncStream<RtpPacket> {
        let (stream, k) = AsyncStream.makeStream(of: RtpPacket.self, bufferingPolicy: .bufferingNewest(max(1, bufferCapacity)))
        let open = state.withLock { s -> Bool in
            guard !s.ended else { return false }
            s.streams.add(k)
            return true
        }
        if !open { k.finish() }
        return stream
    }

    /// A new stream of the encoded frames that arrive from now on (see the type's notes on
    /// frames): VP8 frames, H.264 access units in Annex B form, Opus packets, in order, each with
    /// its RTP timestamp and whether a decoder can start at it. Reading starts at the first packet
    /// that begins a frame. A codec other than VP8, H.264 and Opus yields nothing. Finishes when
    /// the track ends (the connection closed).
    public func frames(bufferCapacity: Int = RemoteTrack.defaultFrameBufferCapacity) -> AsyncStream<EncodedFrame> {
        let (stream, k) = AsyncStream.makeStream(of: EncodedFrame.self, bufferingPolicy: .bufferingNewest(max(1, bufferCapacity)))
        let open = state.withLock { s -> Bool in
            guard !s.ended else { return false }
            s.frameStreams.add(k)
            return true
        }
        if !open { k.finish() }
        return stream
    }

    /// Asks the peer for a keyframe: a PLI (RFC 4585), or a FIR (RFC 5104) when the section
    /// negotiated `ccm fir` but not `nack pli`. Rate-limited to one request per 500 ms: a call
    /// inside the interval is coalesced with the request already sent (nothing goes out; the
    /// stats' `inbound-rtp` `pliCount`/`firCount` count what went).
    ///
    /// - Returns: false when nothing could be sent (no packet arrived yet and the peer announced
    ///   no SSRC, or SRTP is not keyed); true when a request went or was coalesced.
    @discardableResult
    public func requestKeyframe() -> Bool { session.requestKeyframe(binding: transceiverId) }

    // MARK: Runtime

    /// One packet (no session lock held), with the codec of its payload type and its clock rate
    /// (nil: not one whose frames are put together).
    func deliver(_ packet: RtpPacket, codec: (FrameCodec, UInt32)? = nil) {
        let askForKeyframe = state.withLock { s -> Bool in
            guard !s.ended else { return false }
            s.delivered += 1
            // A full buffer drops the oldest packet of that stream (bufferingNewest).
            s.dropped += UInt64(s.streams.yieldCountingDrops(packet))
            guard let (codec, clockRate) = codec, s.frameStreams.hasLiveStreams else {
                s.frameReceiver = nil
                return false
            }
            var receiver = s.frameReceiver ?? FrameReceiver()
            s.frameReceiver = nil  // keep the assembler's buffers uniquely referenced
            let (frames, incomplete) = receiver.push(packet, codec: codec, clockRate: clockRate)
            s.frameReceiver = receiver
            s.incompleteFrames += UInt64(incomplete)
            for frame in frames {
                s.deliveredFrames += 1
                s.droppedFrames += UInt64(s.frameStreams.yieldCountingDrops(frame))
            }
            return incomplete > 0 && codec.isVideo
        }
        // The session's lock comes before the track's: asked after this one is released.
        if askForKeyframe { session.requestKeyframe(binding: transceiverId) }
    }

    /// Ends the track: every stream finishes.
    func finish() {
        let (packets, frames) = state.withLock { s -> (@Sendable () -> Void, @Sendable () -> Void) in
            s.ended = true
            s.frameReceiver = nil
            return (s.streams.removeAllForFinishing(), s.frameStreams.removeAllForFinishing())
        }
        packets()
        frames()
    }
}
