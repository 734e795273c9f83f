import NiceICE
import NiceWebRTCCore

/// A track a server writes RTP packets into (as Pion's `TrackLocalStaticRTP`), or encoded frames
/// that the library packetizes (as Pion's `TrackLocalStaticSample`): the library rewrites each
/// packet for every sender that sends it.
///
/// ```swift
/// let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "camera", streamId: "stream")
/// let sender = try pc.addTrack(video)
/// video.write(packet)                       // any SSRC, payload type and sequence number
/// for await request in video.keyframeRequests() { encoder.forceKeyframe() }
/// ```
///
/// **The rewrite.** Per sender (binding): the SSRC becomes the sender's ``RtpSender/ssrc``, the
/// payload type the one negotiated for ``mimeType``, the sequence number the binding's next one
/// (continuous whatever the writer's numbers, and across ``RtpSender/replaceTrack(_:)``), and the
/// header extensions are replaced by the `sdes:mid` one when it was negotiated. The timestamp,
/// marker, CSRCs and payload are kept. A write that no sender can send (not negotiated yet,
/// direction not sending, no payload type for the MIME type, SRTP not keyed) is dropped.
///
/// **Retransmissions.** Packets written with ``write(_:)`` are kept once per track, whatever
/// the number of senders: a ring of the newest 512 (1 MiB at most) that every sender answers
/// NACKs from, rewriting the packet again for itself. Packets of ``write(frame:duration:)`` are
/// packetized per sender (each has its own packetizer state and RTP clock), so each sender keeps
/// its own.
///
/// **Threads.** Any thread. Writes from one thread at a time keep their order on the wire.
public final class LocalTrack: Sendable {
    struct Attachment: Sendable {
        weak var session: MediaSession?
        let transceiverId: Int
    }

    struct State: Sendable {
        var attachments: [Attachment] = []
        var keyframeStreams = StreamRegistry<KeyframeRequest>()
        var keyframeRequests: UInt64 = 0
    }

    /// Audio or video.
    public let kind: MediaKind
    /// The codec the packets carry, W3C's `mimeType` form (`video/VP8`, `audio/opus`, `video/H264`).
    public let mimeType: String
    /// The track id (W3C `MediaStreamTrack.id`, the `a=msid` appdata).
    public let id: String
    /// The stream id (`a=msid`), nil for none.
    public let streamId: String?
    let state = Locked(State())
    /// The packets of ``write(_:)``, kept once for every sender's NACKs.
    let history: SharedSendHistory

    /// Creates a track.
    ///
    /// - Parameters:
    ///   - kind: audio or video.
    ///   - mimeType: the codec the packets carry; a sender sends them with the payload type the
    ///     negotiation gave that codec (compared case-insensitively).
    ///   - id: the track id, 1–64 visible ASCII characters.
    ///   - streamId: the stream id ``PeerConnection/addTrack(_:streamIds:)`` uses when given none.
    public convenience init(kind: MediaKind, mimeType: String, id: String, streamId: String? = nil) {
        self.init(kind: kind, mimeType: mimeType, id: id, streamId: streamId, history: SharedSendHistory())
    }

    /// A track whose shared send history is `history` (tests size it).
    init(kind: MediaKind, mimeType: String, id: String, streamId: String?, history: SharedSendHistory) {
        self.kind = kind
        self.mimeType = mimeType
        self.id = id
        self.streamId = streamId
        self.history = history
    }

    /// Sends one packet on every sender of this track (see the type's rewrite notes), keeping it
    /// once in the track's shared history for their NACKs. Never blocks.
    public func write(_ packet: RtpPacket) {
        let targets = state.withLock { $0.attachments }
        guard !targets.isEmpty else { return }
        let index = history.append(packet)
        for target in targets { target.session?.write(packet, from: self, binding: target.transceiverId, sharedIndex: index) }
    }

    /// Parses `bytes` as one RTP packet and writes it.
    ///
    /// - Throws: ``RtpError`` when the bytes are not an RTP packet.
    public func write(rtp bytes: [UInt8]) throws(RtpError) {
        write(try RtpPacket(parsing: bytes))
    }

    /// Sends one encoded frame on every sender of this track: packetized with the codec each
    /// sender negotiated for ``mimeType`` (VP8 per RFC 7741 with a 15-bit picture ID, H.264 per
    /// RFC 6184 packetization mode 1 from an Annex B access unit, Opus per RFC 7587: one packet),
    /// each packet at most 1,200 bytes on the wire once protected; the marker bit on a video
    /// frame's last packet. Then rewritten as ``write(_:)`` does. Never blocks.
    ///
    /// ```swift
    /// var file = try IvfReader(bytes: bytes)
    /// while let frame = try file.next() { try camera.write(frame: frame.bytes, duration: .seconds(1) / 30) }
    /// ```
    ///
    /// - Parameters:
    ///   - frame: a VP8 frame, an H.264 access unit (Annex B), or an Opus packet.
    ///   - duration: how long the frame lasts: each sender's RTP timestamp advances by it times
    ///     its clock rate (90 kHz video, 48 kHz Opus), from a random start; the sum is kept
    ///     exactly, so durations that are not whole ticks do not drift. Pacing is the caller's.
    /// - Throws: ``RtpError`` (and nothing is sent on that sender) when the negotiated codec has
    ///   no packetizer here (`invalidValue`, field `mimeType`), or the frame cannot be packetized:
    ///   `invalidValue` for an empty frame or an Annex B stream without a NAL unit, `unsupported`
    ///   for an H.264 NAL unit of type 24–31, `payloadLimit` for an Opus packet over the payload
    ///   limit; `invalidValue` (field `duration`) for a negative duration. A track that no sender
    ///   sends yet drops the frame without an error, as ``write(_:)`` does.
    public func write(frame: [UInt8], duration: Duration) throws(RtpError) {
        guard duration >= .zero else {
            throw RtpError(.invalidValue, field: "duration", reason: "a frame cannot last \(duration)")
        }
        let targets = state.withLock { $0.attachments }
        var failure: RtpError?
        for target in targets {
            do throws(RtpError) {
                try target.session?.write(frame: frame, duration: duration, from: self, binding: target.transceiverId)
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// A new stream of the peer's keyframe requests (PLI, FIR) for this track's senders, from now
    /// on, buffering the newest 16. Finishes when the last connection that sends the track closes
    /// (or its transceiver goes), when ``finishKeyframeRequests()`` is called, or when the track
    /// is released; ``RtpSender/replaceTrack(_:)`` does not finish it. Each connection surfaces
    /// at most one request per 500 ms per sender (a FIR repeating its sequence number never):
    /// a PLI/FIR flood is counted in the stats' `outbound-rtp` `pliCount`/`firCount`, not yielded.
    public func keyframeRequests() -> AsyncStream<KeyframeRequest> {
        let (stream, k) = AsyncStream.makeStream(of: KeyframeRequest.self, bufferingPolicy: .bufferingNewest(16))
        state.withLock { $0.keyframeStreams.add(k) }
        return stream
    }

    /// How many keyframe requests reached this track.
    public var keyframeRequestCount: UInt64 { state.withLock { $0.keyframeRequests } }

    /// Finishes every ``keyframeRequests()`` stream (the server is done with the track).
    public func finishKeyframeRequests() {
        let finish = state.withLock { $0.keyframeStreams.removeAllForFinishing() }
        finish()
    }

    deinit {
        state.withLock { $0.keyframeStreams.removeAllForFinishing() }()
    }

    // MARK: Runtime

    func attach(_ session: MediaSession, transceiverId: Int) {
        state.withLock { s in
            s.attachments.removeAll { $0.session == nil }
            guard !s.attachments.contains(where: { $0.session === session && $0.transceiverId == transceiverId }) else { return }
            s.attachments.append(Attachment(session: session, transceiverId: transceiverId))
        }
    }

    /// Detaches from one binding, or from every binding of `session` when `transceiverId` is nil
    /// (its connection closed: then, if no other connection sends the track, the keyframe
    /// streams finish).
    func detach(_ session: MediaSession, transceiverId: Int? = nil) {
        let finish = state.withLock { s -> (@Sendable () -> Void)? in
            s.attachments.removeAll { $0.session == nil || ($0.session === session && (transceiverId == nil || $0.transceiverId == transceiverId)) }
            guard transceiverId == nil, s.attachments.isEmpty else { return nil }
            return s.keyframeStreams.removeAllForFinishing()
        }
        finish?()
    }

    /// A keyframe request for one of its senders (no session lock held).
    func deliverKeyframeRequest(_ request: KeyframeRequest) {
        // The streams' onTermination only sets a flag (StreamRegistry): yielding under this leaf
        // lock cannot deadlock with a cancelling reader.
        state.withLock { s in
            s.keyframeRequests += 1
            s.keyframeStreams.yield(request)
        }
    }
}
