/// The exceptions W3C's `RTCPeerConnection` methods throw (DOMException names), typed.
///
/// ```swift
/// do { try negotiation.setRemoteDescription(SessionDescription(type: .answer, sdp: text)) }
/// catch { error.code }   // .invalidState: "answer" in state stable
/// ```
///
/// Which code for what (W3C webrtc-pc §4.4, RFC 8829 §5.5–5.6):
/// - ``Code/invalidState``: the session is closed, or a description, rollback, `createAnswer`
///   or candidate comes in a signalling state that does not allow it.
/// - ``Code/invalidModification``: a local description that is not the offer or answer we
///   created last.
/// - ``Code/invalidAccess``: an answer whose DTLS role or section cannot answer our offer.
/// - ``Code/operationError``: an SDP that cannot be read or used (then ``sdpError`` says where),
///   a candidate that does not parse or names no section.
/// - ``Code/typeError``: a candidate with neither `sdpMid` nor `sdpMLineIndex`.
/// - ``Code/syntaxError``: reserved for W3C's syntax failures (none of the core's checks today).
public struct PeerConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The W3C exception name (`DOMException.name`, or `TypeError`).
    public enum Code: String, Sendable, Hashable {
        /// `InvalidStateError`: wrong signalling state, or closed.
        case invalidState = "InvalidStateError"
        /// `InvalidModificationError`: a local description we did not create.
        case invalidModification = "InvalidModificationError"
        /// `InvalidAccessError`: a description that does not fit the session.
        case invalidAccess = "InvalidAccessError"
        /// `OperationError`: a description or candidate that cannot be applied.
        case operationError = "OperationError"
        /// `SyntaxError`.
        case syntaxError = "SyntaxError"
        /// `TypeError`: a required member is missing.
        case typeError = "TypeError"
    }

    /// The exception name.
    public var code: Code
    /// The field at fault (`sdp`, `type`, `sdpMid`, `sdpMLineIndex`, `candidate`,
    /// `usernameFragment`, `a=ice-ufrag`, …), if one.
    public var field: String?
    /// What was wrong, for a human. Never contains an ICE password.
    public var reason: String
    /// The SDP reader's error when an SDP text was at fault (its field and 1-based line).
    public var sdpError: SdpError?

    /// Creates an error.
    public init(_ code: Code, field: String? = nil, reason: String, sdpError: SdpError? = nil) {
        self.code = code
        self.field = field
        self.reason = reason
        self.sdpError = sdpError
    }

    /// `InvalidStateError (type): <reason>`.
    public var description: String {
        var text = code.rawValue
        if let field { text += " (\(field))" }
        return text + ": " + reason
    }
}

extension PeerConnectionError {
    /// An ``Code/operationError`` for an SDP the reader refused; the SDP error's field is kept
    /// and its line goes into the reason.
    init(sdp error: SdpError, _ what: String) {
        self.init(.operationError, field: error.field ?? "sdp", reason: "\(what): \(error.located)", sdpError: error)
    }
}
