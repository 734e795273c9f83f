/// A typed error of the data-channel layer (SCTP, DCEP, ``DataChannelMessage``): what was wrong, and
/// with which field or step.
public struct DataChannelError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A `createDataChannel` option, an SCTP parameter or a DCEP field that is not valid (W3C
        /// `TypeError` / `SyntaxError` cases).
        case invalidParameters
        /// A call that does not fit the state (an id already in use, a transport on a DTLS
        /// transport that already has one; W3C `InvalidStateError`).
        case invalidState
        /// `send` on a channel that is not `open` (W3C `InvalidStateError`).
        case notOpen
        /// A message larger than ``SctpTransport/maxMessageSize`` (W3C `TypeError`).
        case messageTooLarge
        /// `send` while ``DataChannel/bufferedAmount`` would exceed the send buffer limit (W3C
        /// `OperationError`); the async `send` waits instead.
        case bufferFull
        /// No stream id is left (all ids of our parity are in use, or beyond the negotiated stream
        /// count; W3C `OperationError`).
        case noStreamAvailable
        /// The peer broke the protocol on this channel (a malformed DCEP message, a message over
        /// our limit); the channel was closed.
        case protocolViolation
        /// usrsctp refused an operation (see `reason`).
        case sctpFailure
        /// The channel or transport closed.
        case closed
        /// The waiting task (`write`, a `waitUntil…`) was cancelled; as NiceICE's `cancelled`.
        case cancelled
        /// A wait (`waitUntilConnected`, `waitUntilOpen`) reached its timeout; as NiceICE's
        /// `timedOut`.
        case timedOut
    }

    public var code: Code
    /// The field, parameter or step concerned (`label`, `id`, `maxRetransmits`, `dcep`, `size`, …).
    public var field: String?
    /// What was wrong, for a human.
    public var reason: String

    public init(_ code: Code, field: String? = nil, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public var description: String {
        if let field { return "DataChannelError.\(code.rawValue) (\(field)): \(reason)" }
        return "DataChannelError.\(code.rawValue): \(reason)"
    }
}
