import NiceICECore

/// A complete SDP offer for a session that carries only data channels, as a browser writes one
/// for `pc.createDataChannel(…)` followed by `pc.createOffer()`.
///
/// ```swift
/// let offer = try DataChannelOffer(ice: local, dtls: DtlsParameters(role: .auto, fingerprints: [ours]),
///                                  maxMessageSize: 262_144)
/// signal(offer.sdp)                       // v=0 … a=group:BUNDLE 0, m=application 9 UDP/DTLS/SCTP …
/// signal(offer.trickled(laterCandidate))  // sdpMid "0", sdpMLineIndex 0
/// let answer = try DataChannelRemoteDescription(answer: answerSDP)
/// ```
///
/// The offer has one media section, the data section, tagged in `a=group:BUNDLE <mid>` so that
/// browsers with any bundle policy accept it:
///
/// ```text
/// v=0 / o=- <sessionId> <sessionVersion> IN IP4 127.0.0.1 / s=- / t=0 0
/// a=group:BUNDLE 0 / a=msid-semantic: WMS
/// m=application 9 UDP/DTLS/SCTP webrtc-datachannel / c=IN IP4 0.0.0.0 / a=mid:0
/// a=ice-ufrag / a=ice-pwd / a=ice-options:trickle / a=candidate… / a=end-of-candidates
/// a=setup:actpass / a=fingerprint… / a=sctp-port:5000 / a=max-message-size:<n>
/// ```
///
/// The offerer is the ICE controlling agent (RFC 8445 §6.1.1), also against an ICE-lite answerer.
public struct DataChannelOffer: Sendable, Hashable {
    /// The m-line index of the data section: the offer has no other section.
    public static let dataMLineIndex = 0

    /// The data section's mid.
    public var mid: String
    /// The whole offer, CRLF line endings.
    public var sdp: String

    /// Writes the offer.
    ///
    /// - Parameters:
    ///   - ice: Our ufrag and password.
    ///   - candidates: Our candidates gathered so far (none for a trickle-only offer).
    ///   - endOfCandidates: Whether `candidates` is complete (`a=end-of-candidates`).
    ///   - dtls: Our DTLS role and certificate fingerprints. An initial offer uses role
    ///     ``DtlsRole/auto`` (`a=setup:actpass`, RFC 8842 §5.2); a later offer may keep the
    ///     negotiated role.
    ///   - sctpPort: Our `a=sctp-port`.
    ///   - maxMessageSize: The largest message we receive (`a=max-message-size`; 0 = no limit).
    ///   - mid: The data section's mid, an RFC 8866 token of 1 to 32 characters.
    ///   - sessionId: The `o=` session id; random below 2⁶³ by default (JSEP, RFC 8829 §5.2.1).
    ///   - sessionVersion: The `o=` session version; raise it for each new offer of the session.
    /// - Throws: ``SdpError`` ``SdpError/Code/invalidValue`` with field `ufrag` or `password`
    ///   (bad ICE credentials), a candidate field, `fingerprint` (none, or more than
    ///   ``DtlsDescription/maximumFingerprints``), `sctpPort`, `maxMessageSize` or `mid`.
    public init(
        ice: IceParameters,
        candidates: [IceCandidate] = [],
        endOfCandidates: Bool = false,
        dtls: DtlsParameters,
        sctpPort: UInt16 = 5000,
        maxMessageSize: Int,
        mid: String = "0",
        sessionId: UInt64 = .random(in: 1...UInt64(Int64.max)),
        sessionVersion: UInt64 = 2
    ) throws(SdpError) {
        try self.init(
            ice: ice, candidates: candidates, endOfCandidates: endOfCandidates, dtls: dtls, sctpPort: sctpPort,
            maxMessageSize: maxMessageSize, mid: mid, sessionId: sessionId, sessionVersion: sessionVersion,
            iceLite: false, otherSections: [], dataMLineIndex: Self.dataMLineIndex)
    }

    /// A section of a later offer that is not the data section: one an earlier exchange rejected
    /// (JSEP, RFC 8829 §5.2.2: a later offer keeps every m= line, in order), written with port 0.
    struct RejectedSection: Sendable, Hashable {
        var kind: String
        var proto: String
        var format: String
        var mid: String?
    }

    /// Writes an offer, possibly a later one: `otherSections` go around the data section, which
    /// is at `dataMLineIndex` (clamped to the sections there are); `iceLite` adds `a=ice-lite`.
    init(
        ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool, dtls: DtlsParameters, sctpPort: UInt16,
        maxMessageSize: Int, mid: String, sessionId: UInt64, sessionVersion: UInt64, iceLite: Bool,
        otherSections: [RejectedSection], dataMLineIndex: Int
    ) throws(SdpError) {
        try SessionLines.validate(ice: ice, candidates: candidates, dtls: dtls, sctpPort: sctpPort, maxMessageSize: maxMessageSize)
        guard SessionLines.isToken(mid) else {
            throw SdpError(.invalidValue, field: "mid", reason: "\(SessionLines.excerpt(mid)) is not a token of 1 to 32 characters (RFC 5888)")
        }
        let iceLines = IceDescription.attributeLines(
            ufrag: ice.usernameFragment, password: ice.password, options: ["trickle"],
            candidates: candidates, endOfCandidates: endOfCandidates)
        let data = SessionLines.dataSection(
            proto: "UDP/DTLS/SCTP", mid: mid, iceLines: iceLines, dtls: dtls, sctpPort: sctpPort, maxMessageSize: maxMessageSize)
        let rejected = otherSections.map { section in
            "m=\(section.kind) 0 \(section.proto) \(section.format)\r\nc=IN IP4 0.0.0.0\r\n" + (section.mid.map { "a=mid:\($0)\r\n" } ?? "")
        }
        let position = min(max(dataMLineIndex, 0), rejected.count)
        self.mid = mid
        self.sdp = SessionLines.header(sessionId: sessionId, sessionVersion: sessionVersion)
            + (iceLite ? "a=ice-lite\r\n" : "")
            + "a=group:BUNDLE \(mid)\r\na=msid-semantic: WMS\r\n"
            + rejected[..<position].joined() + data + rejected[position...].joined()
    }

    /// `candidate` with the data section's ``IceCandidate/sdpMid`` and
    /// ``IceCandidate/sdpMLineIndex`` (0), as a local candidate is trickled after the offer.
    public func trickled(_ candidate: IceCandidate) -> IceCandidate {
        var candidate = candidate
        candidate.sdpMid = mid
        candidate.sdpMLineIndex = Self.dataMLineIndex
        return candidate
    }
}
