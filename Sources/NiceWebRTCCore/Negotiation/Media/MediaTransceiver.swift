/// What the runtime gives ``Negotiation/addTransceiver(_:)``: a local audio or video
/// transceiver (W3C `addTransceiver(kind, {direction, streams})` with what the sender's
/// `a=msid` and `a=ssrc` lines say).
///
/// ```swift
/// let id = try negotiation.addTransceiver(MediaTransceiverInit(kind: .video, direction: .sendonly,
///                                                            streamIds: ["camera"], ssrc: 0x1234_5678,
///                                                            rtxSsrc: 0x1234_5679, cname: "server"))
/// ```
public struct MediaTransceiverInit: Sendable, Hashable {
    /// Audio or video.
    public var kind: MediaKind
    /// The direction we want (W3C `direction`).
    public var direction: RtpTransceiverDirection
    /// The stream ids of what we send (`a=msid`; `-` when empty). Visible ASCII, 1–64 bytes each.
    public var streamIds: [String]
    /// The track id of what we send (`a=msid` appdata); nil writes one made from the transceiver id.
    public var trackId: String?
    /// The SSRC we send with (`a=ssrc`), nil to write none (then the peer maps by the mid extension).
    public var ssrc: UInt32?
    /// The RTX SSRC (`a=ssrc-group:FID ssrc rtxSsrc`), nil for none.
    public var rtxSsrc: UInt32?
    /// The `cname` of our `a=ssrc` lines (RFC 7022); nil writes "nice".
    public var cname: String?

    /// Creates the values.
    public init(
        kind: MediaKind, direction: RtpTransceiverDirection = .sendrecv, streamIds: [String] = [], trackId: String? = nil,
        ssrc: UInt32? = nil, rtxSsrc: UInt32? = nil, cname: String? = nil
    ) {
        self.kind = kind
        self.direction = direction
        self.streamIds = streamIds
        self.trackId = trackId
        self.ssrc = ssrc
        self.rtxSsrc = rtxSsrc
        self.cname = cname
    }

    /// Checks the strings that go into SDP lines.
    func validate() throws(SdpError) {
        for (field, value) in streamIds.map({ ("streamIds", $0) }) + [("trackId", trackId), ("cname", cname)].compactMap({ pair in pair.1.map { (pair.0, $0) } }) {
            guard (1...64).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw SdpError(.invalidValue, field: field, reason: "\(SessionLines.excerpt(value)) is not 1 to 64 visible ASCII characters")
            }
        }
        guard streamIds.count <= 4 else { throw SdpError(.invalidValue, field: "streamIds", reason: "more than 4 stream ids") }
    }
}

/// A local transceiver as ``Negotiation`` keeps it (W3C `RTCRtpTransceiver`'s negotiated
/// state): its settings, the mid it got, its negotiated direction.
public struct MediaTransceiver: Sendable, Hashable {
    /// Its id, given by ``Negotiation/addTransceiver(_:)`` (or when a remote offer created it).
    public let id: Int
    /// Its settings; ``Negotiation/setDirection(_:ofTransceiver:)`` changes the direction.
    public internal(set) var settings: MediaTransceiverInit
    /// The mid of its section once an offer (local or remote) associated it (W3C `mid`).
    public internal(set) var mid: String?
    /// The direction the last completed exchange decided (W3C `currentDirection`), ours.
    public internal(set) var currentDirection: RtpTransceiverDirection?
    /// Stopped (W3C `stop()`, or its section was rejected): its section is rejected from now on.
    public internal(set) var isStopped: Bool
    /// Whether a remote offer created it (``RemoteMediaPolicy/accept(direction:)``); a rollback
    /// of that offer removes it.
    public internal(set) var createdByRemoteOffer: Bool

    /// Audio or video.
    public var kind: MediaKind { settings.kind }
    /// The direction we want.
    public var direction: RtpTransceiverDirection { settings.direction }
}

/// What an answer does with a remote audio or video section that no local transceiver takes.
public enum RemoteMediaPolicy: Sendable, Hashable {
    /// Reject it (port 0), as a data-only session does.
    case reject
    /// Accept it with a new transceiver of this direction (W3C makes a `recvonly` one), when a
    /// codec matches.
    case accept(direction: RtpTransceiverDirection)
}
