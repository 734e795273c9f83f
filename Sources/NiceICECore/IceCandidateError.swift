/// A candidate could not be gathered from a STUN or TURN server (W3C `RTCPeerConnectionIceErrorEvent`).
///
/// libnice gathers silently; when gathering ends without a relay candidate from a configured TURN
/// server, NiceICE asks that server itself (one Allocate with the long-term credential challenge) and
/// reports what it answered: `401` for a wrong username or password, `701` when it did not answer.
public struct IceCandidateError: Sendable, Hashable, CustomStringConvertible {
    /// The server URL as configured (never contains credentials).
    public var url: String
    /// The STUN/TURN error code (RFC 8489 §14.8), or 701 when the server could not be reached
    /// (the W3C code for that case).
    public var errorCode: Int
    /// The server's reason phrase, or NiceICE's explanation.
    public var errorText: String

    /// Creates an error event.
    public init(url: String, errorCode: Int, errorText: String) {
        self.url = url
        self.errorCode = errorCode
        self.errorText = errorText
    }

    public var description: String { "\(url): \(errorCode) \(errorText)" }
}
