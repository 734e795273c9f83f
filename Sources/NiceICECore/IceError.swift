/// The one error type NiceICE throws.
///
/// Every error says *what kind* of thing went wrong (``code``), *which* input field it was
/// (``field``, when the error is about input), and *why* (``reason``), so a server can answer a
/// bad offer with a precise message. Throwing never changes the state of a working connection:
/// a rejected candidate, parameter set or datagram is simply not applied.
public struct IceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. New codes may be added; switch with a `default` branch.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable spelling, for logs and metrics.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A `candidate:` attribute value that does not follow RFC 8839.
        public static let invalidCandidate = Code("invalidCandidate")
        /// An SDP line NiceICE reads (ICE attributes) that is malformed.
        public static let invalidSDP = Code("invalidSDP")
        /// Remote ICE parameters (ufrag / password) that RFC 8839 forbids.
        public static let invalidParameters = Code("invalidParameters")
        /// A `stun:`, `turn:` or `turns:` URL, or its credentials, that cannot be used.
        public static let invalidIceServer = Code("invalidIceServer")
        /// A ``IceTransport/Configuration`` value out of range.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// `send` was called while no candidate pair is selected.
        public static let notConnected = Code("notConnected")
        /// The ``IceTransport`` is closed.
        public static let closed = Code("closed")
        /// A datagram larger than ``IceTransport/maximumDatagramSize``.
        public static let datagramTooLarge = Code("datagramTooLarge")
        /// libnice refused to send (for example consent to send was revoked).
        public static let sendFailed = Code("sendFailed")
        /// `send` found the connection's send queue full: the socket cannot keep up. The datagram
        /// was not queued; retry later or send less (UDP semantics).
        public static let sendQueueFull = Code("sendQueueFull")
        /// A remote candidate whose address is in a scope (loopback, unspecified, multicast,
        /// link-local) the connection's remote address policy does not allow (field `address`).
        public static let addressNotAllowed = Code("addressNotAllowed")
        /// More remote candidates than one component accepts.
        public static let tooManyCandidates = Code("tooManyCandidates")
        /// The call is not valid in the connection's current state.
        public static let invalidState = Code("invalidState")
        /// A wait (``IceTransport/waitUntilConnected(timeout:)``) reached its deadline first.
        public static let timedOut = Code("timedOut")
        /// The waiting task was cancelled (before or during the wait).
        public static let cancelled = Code("cancelled")
        /// The connection reached `failed` (``IceError/state`` has the reason).
        public static let connectionFailed = Code("connectionFailed")
        /// libnice failed where it should not (agent creation, stream creation).
        public static let agentFailure = Code("agentFailure")
    }

    /// What kind of failure this is.
    public var code: Code
    /// The input field that was wrong (`"port"`, `"ufrag"`, `"url"`, …), when the error is about input.
    public var field: String?
    /// A human-readable explanation. Never contains passwords or TURN credentials.
    public var reason: String
    /// For errors about a connection's state (``IceTransport/waitUntilConnected(timeout:)``): the
    /// ICE state and its reason when the error was thrown.
    public var state: IceStateChange?

    /// Creates an error.
    public init(_ code: Code, field: String? = nil, reason: String, state: IceStateChange? = nil) {
        self.code = code
        self.field = field
        self.reason = reason
        self.state = state
    }

    public var description: String {
        if let field {
            return "\(code) (\(field)): \(reason)"
        }
        return "\(code): \(reason)"
    }
}
