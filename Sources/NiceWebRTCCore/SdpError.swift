import NiceICECore

/// A typed error of the session-description layer: an SDP offer or answer that cannot be read,
/// answered or written (``DataChannelRemoteDescription``, ``DataChannelAnswer``,
/// ``DataChannelOffer``, ``DataChannelDescription``, ``DtlsDescription``).
///
/// It says *what kind* of problem it is (``code``), *which* SDP line or attribute (``field``:
/// `m=application`, `a=ice-ufrag`, `a=fingerprint`, …; for our own values the parameter name:
/// `ufrag`, `fingerprint`, `sctpPort`, …), *where* (``line``, 1-based, when the problem is on one
/// line of the text) and *why* (``reason``, for a human), so a server can answer a bad offer with
/// a precise message. Never carries ICE passwords or key material.
///
/// Values read inside an SDP keep their own layer's error at their own level
/// (``DtlsFingerprint/init(parsing:)`` and ``DtlsRole/init(setup:)`` throw ``DtlsError``;
/// NiceICE's `IceDescription` and `IceCandidate(parsing:)` throw `IceError`): met while reading
/// an SDP, they are wrapped into an `SdpError` with the attribute as ``field``, the line, and
/// their reason.
public struct SdpError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. New codes may be added; switch with a `default` branch.
    public enum Code: String, Sendable, Hashable {
        /// A line that does not parse: an `m=` line, a candidate, an ICE or `a=group` line the ICE
        /// reader refuses (NiceICE's `invalidSDP`), an attribute given twice where once is allowed,
        /// a text over the size limit.
        case malformed
        /// A required section, line or attribute is absent: no ICE credentials, no
        /// `a=fingerprint`, no `a=setup` for the data section.
        case missing
        /// A valid SDP this stack cannot use: no data-channel section (`m=application …
        /// UDP/DTLS/SCTP webrtc-datachannel`), a data section rejected (port 0) or `a=bundle-only`
        /// without a transport of its own, an offer's `a=setup` our fixed DTLS role cannot answer,
        /// more fingerprints than ``DtlsDescription/maximumFingerprints``.
        case unsupported
        /// An attribute whose value is out of range or invalid (`a=setup`, `a=fingerprint`,
        /// `a=sctp-port`, `a=max-message-size`; an answer's `a=setup:actpass`), or one of our own
        /// values that cannot go into an offer or answer (credentials, candidates, fingerprints,
        /// SCTP port, message size, mid), or a trickled candidate that names no section of the
        /// offer.
        case invalidValue
    }

    /// What kind of problem this is.
    public var code: Code
    /// The SDP line or attribute at fault (`m=application`, `a=ice-ufrag`, `a=fingerprint`,
    /// `sdp` for the text as a whole), or the parameter name for our own values.
    public var field: String?
    /// The 1-based number of the SDP line at fault, when known: the line that does not parse or
    /// has the invalid value; for what the data section lacks or cannot be used for (``Code/missing``,
    /// most of ``Code/unsupported``), the data section's `m=` line. `nil` for our own values and
    /// for problems of the description as a whole (no data section, a text over the size limit).
    public var line: Int?
    /// What was wrong, for a human (without the line number: see ``line``).
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, field: String? = nil, line: Int? = nil, reason: String) {
        self.code = code
        self.field = field
        self.line = line
        self.reason = reason
    }

    /// `line 7: <reason>` when the line is known, else the reason alone: the reason as a message
    /// for someone who does not see ``line`` separately.
    public var located: String {
        if let line { return "line \(line): \(reason)" }
        return reason
    }

    public var description: String {
        var text = "SdpError.\(code.rawValue)"
        switch (field, line) {
        case let (field?, line?): text += " (\(field), line \(line))"
        case let (field?, nil): text += " (\(field))"
        case let (nil, line?): text += " (line \(line))"
        case (nil, nil): break
        }
        return text + ": " + reason
    }
}

extension SdpError {
    /// The `SdpError` for a ``DtlsError`` of a value (`a=setup`, `a=fingerprint`) read on SDP
    /// line `line`: ``Code/invalidValue``, the attribute as field, the DTLS reason.
    init(_ field: String, line: Int?, dtls error: DtlsError) {
        self.init(.invalidValue, field: field, line: line, reason: error.reason)
    }

    /// The `SdpError` for an `IceError` met while reading, answering or writing a session
    /// description; the field is kept.
    ///
    /// - NiceICE's SDP reader (`invalidSDP`) refuses a line: ``Code/malformed``, and the
    ///   `line N: ` its reason starts with becomes ``line`` (also `malformed`: field `sdp`, a text
    ///   over the size limit).
    /// - `invalidSDP` of `IceAnswer` (no line): ``Code/missing`` for `a=ice-ufrag` / `a=ice-pwd`,
    ///   else ``Code/unsupported`` (a BUNDLE group the answer cannot be built for).
    /// - Other ICE codes are about values (our credentials or candidates, a trickled candidate's
    ///   `sdpMid`): ``Code/invalidValue``.
    init(ice error: IceError) {
        let (line, reason) = Self.splitLine(error.reason)
        let field = error.field ?? "sdp"
        let code: Code
        if error.code != .invalidSDP {
            code = .invalidValue
        } else if line != nil || field == "sdp" {
            code = .malformed
        } else if field == "a=ice-ufrag" || field == "a=ice-pwd" {
            code = .missing
        } else {
            code = .unsupported
        }
        self.init(code, field: field, line: line, reason: reason)
    }

    /// `("line 12: text")` → `(12, "text")`; a reason without that prefix is returned whole.
    /// NiceICE's SDP reader starts the reason of each line it refuses this way (`IceError` has no
    /// line of its own).
    static func splitLine(_ reason: String) -> (line: Int?, reason: String) {
        let prefix = "line "
        guard reason.hasPrefix(prefix) else { return (nil, reason) }
        let rest = reason.dropFirst(prefix.count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, let line = Int(digits) else { return (nil, reason) }
        let tail = rest.dropFirst(digits.count)
        guard tail.hasPrefix(": ") else { return (nil, reason) }
        return (line, String(tail.dropFirst(2)))
    }
}
