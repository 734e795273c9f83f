// The seam between the HTTP side (Http/: WHIP/WHEP resources, RFC 9725) and the media side
// (Media/: streams, forwarding). The HTTP side parses, authenticates, limits and maps errors to
// status codes; the media side owns every PeerConnection.
import NiceWebRTC

/// A session resource's id: the last path component of the `Location` the server returns
/// (`/whip/{stream}/{id}`, `/whep/{stream}/{id}`). 128 random bits, base32, never reused.
struct LiveSessionID: Hashable, Sendable, CustomStringConvertible {
    let value: String
    var description: String { value }
}

/// Publisher (WHIP) or viewer (WHEP).
enum LiveRole: String, Sendable {
    case publisher = "whip"
    case viewer = "whep"
}

/// What a `POST` gets back from the media side.
struct LiveAnswer: Sendable {
    let session: LiveSessionID
    /// The SDP answer (`application/sdp`), with the server's candidates gathered so far.
    let sdp: String
}

/// An RFC 8840 `application/trickle-ice-sdpfrag` body, parsed (Http/TrickleIceFragment+Parsing.swift).
struct TrickleIceFragment: Sendable, Equatable {
    /// `a=ice-ufrag` / `a=ice-pwd` (session level or in the first media section): both present
    /// and different from the session's current ones means an ICE restart (RFC 9725 §4.4.1.2).
    var iceUfrag: String?
    var icePwd: String?
    /// The candidates, each with the mid of the `m=` section it came under (and its index).
    var candidates: [IceCandidateInit]
    /// `a=end-of-candidates` seen.
    var endOfCandidates: Bool
}

/// Why the media side refused a request; the HTTP side maps each case to a status code.
enum LiveError: Error, Equatable, Sendable {
    /// 404: no such stream (WHEP before any publisher) or session.
    case notFound(String)
    /// 409: the stream already has a publisher.
    case conflict(String)
    /// 400: the offer or fragment does not parse (the message names the field).
    case badRequest(String)
    /// 422: it parses but cannot be served (no VP8/H.264/Opus, not sendonly/recvonly as the role wants, no BUNDLE…).
    case unprocessable(String)
    /// 503: a limit (sessions, viewers per stream) or shutting down.
    case unavailable(String)
}

/// The media side, as the HTTP side sees it (Media/LiveStreams.swift implements it; tests may fake it).
protocol LiveSessionHost: Sendable {
    /// A WHIP publisher's offer → the answer. One publisher per stream.
    func publish(stream: String, offer: String) async throws(LiveError) -> LiveAnswer
    /// A WHEP viewer's recvonly offer → the answer. The stream must have a publisher.
    func watch(stream: String, offer: String) async throws(LiveError) -> LiveAnswer
    /// Which stream and role a session belongs to (nil: unknown or ended → 404).
    func lookup(_ session: LiveSessionID) -> (stream: String, role: LiveRole)?
    /// Trickled candidates (and end-of-candidates) of the session's current ICE generation.
    func trickle(_ session: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError)
    /// An ICE restart: the client's new ufrag/pwd (and candidates) → the server's new
    /// ufrag/pwd and candidates (the 200 body).
    func restartIce(_ session: LiveSessionID, _ fragment: TrickleIceFragment) async throws(LiveError) -> TrickleIceFragment
    /// Ends the session (DELETE). False when there was none.
    func end(_ session: LiveSessionID) async -> Bool
    /// Ends every session (graceful shutdown); later POSTs get `.unavailable`.
    func shutdown() async
}
