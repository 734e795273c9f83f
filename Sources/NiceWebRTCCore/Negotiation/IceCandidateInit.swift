/// A trickled ICE candidate as W3C signals it (`RTCIceCandidateInit`): what a browser's
/// `icecandidate` event gives in `event.candidate.toJSON()` and `addIceCandidate(_:)` takes.
///
/// ```swift
/// // From a browser: {"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host",
/// //                  "sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"EsAw"}
/// let route = try negotiation.route(IceCandidateInit(candidate: text, sdpMid: "0"))
/// ```
///
/// ``candidate`` is the value of a `candidate:` attribute with or without the leading
/// `candidate:` (browsers send it with); an empty string is the end-of-candidates indication.
/// The JSON coding uses W3C's member names, so a browser's `JSON.stringify(candidate)` decodes.
public struct IceCandidateInit: Sendable, Hashable, Codable {
    /// The candidate attribute (`candidate:1 1 udp …`, the prefix optional), or "" for
    /// end-of-candidates.
    public var candidate: String
    /// The mid of the media section the candidate belongs to.
    public var sdpMid: String?
    /// The index of the m-line the candidate belongs to (used when ``sdpMid`` is nil).
    public var sdpMLineIndex: Int?
    /// The ufrag of the ICE generation the candidate belongs to; nil means the current one.
    public var usernameFragment: String?

    /// Creates a candidate init.
    public init(candidate: String, sdpMid: String? = nil, sdpMLineIndex: Int? = nil, usernameFragment: String? = nil) {
        self.candidate = candidate
        self.sdpMid = sdpMid
        self.sdpMLineIndex = sdpMLineIndex
        self.usernameFragment = usernameFragment
    }

    /// Whether this is the end-of-candidates indication (an empty ``candidate``).
    public var isEndOfCandidates: Bool { candidate.isEmpty }
}
