import NiceICECore

/// What a peer's session description says about its data-channel transport: the values a side
/// applies after receiving the other side's offer or answer.
///
/// ```swift
/// // The offerer, applying the answer to its DataChannelOffer:
/// let remote = try DataChannelRemoteDescription(answer: answerSDP)
/// remote.ice              // the answerer's ufrag and password
/// remote.candidates       // its candidates so far; more arrive by trickle
/// remote.dtls             // role .client (a=setup:active) and its fingerprints
/// remote.sctpPort         // 5000
/// remote.maxMessageSize   // the largest message the answerer receives
/// ```
///
/// Reading rules:
/// - The data section is the first `m=application … UDP/DTLS/SCTP webrtc-datachannel` section
///   (``DataChannelDescription``). It must not have port 0: the peer rejected it, or it is
///   `a=bundle-only` and so has no transport of its own.
/// - The data section is read as its own transport: its ICE values (media level, else session
///   level), its own candidates. ``DataChannelAnswer`` answers only the data section, so a BUNDLE
///   group's other sections and their candidates take no part.
/// - DTLS values are the section's `a=setup` / `a=fingerprint`, else the session-level ones.
/// - Every failure is a ``DtlsError`` with code ``DtlsError/Code/invalidParameters`` whose
///   ``DtlsError/field`` names the SDP field (`m=application`, `a=ice-ufrag`, `a=fingerprint`, …).
public struct DataChannelRemoteDescription: Sendable, Hashable {
    /// The data section's `a=mid`, if it has one.
    public var mid: String?
    /// The data section's position among the `m=` lines.
    public var mLineIndex: Int
    /// The peer's ICE username fragment and password for the data transport.
    public var ice: IceParameters
    /// The peer's `a=ice-options` tokens (`trickle`, …).
    public var iceOptions: [String]
    /// The peer's candidates listed in the data section, each with `sdpMid` and `sdpMLineIndex` set.
    public var candidates: [IceCandidate]
    /// Whether the data section (or the session) has `a=end-of-candidates`.
    public var endOfCandidates: Bool
    /// Whether the peer is an ICE-lite agent (`a=ice-lite`).
    public var iceLite: Bool
    /// The peer's DTLS role (`a=setup`) and certificate fingerprints, media level over session level.
    public var dtls: DtlsParameters
    /// The peer's `a=sctp-port` (5000 when absent).
    public var sctpPort: UInt16
    /// The peer's `a=max-message-size`: the largest message it receives (65,536 when absent,
    /// 0 for "no limit").
    public var maxMessageSize: Int

    /// Reads the data-channel transport of an offer or an answer.
    ///
    /// - Throws: ``DtlsError`` `invalidParameters`; its field is the SDP field at fault: the
    ///   ICE fields of `IceDescription` (`m=`, `a=candidate`, `a=ice-ufrag`, `a=group`, …, with
    ///   the line number in the reason), `m=application` when there is no data section or it has
    ///   port 0, `a=bundle-only` when it cannot have a transport of its own, `a=ice-ufrag` or
    ///   `a=ice-pwd` when the data section has no credentials, `a=sctp-port`,
    ///   `a=max-message-size`, `a=setup` or `a=fingerprint` for missing or malformed values.
    public init(parsing sdp: String) throws(DtlsError) {
        self = try Self.read(sdp).remote
    }

    /// Reads an answer to our offer: as ``init(parsing:)``, and the answerer must have decided
    /// its DTLS role (RFC 8842 §5.3: an answer uses `active` or `passive`, never `actpass`).
    ///
    /// - Throws: ``DtlsError`` as ``init(parsing:)``, and with field `a=setup` for `actpass`.
    public init(answer sdp: String) throws(DtlsError) {
        try self.init(parsing: sdp)
        guard dtls.role != .auto else {
            throw DtlsError(
                .invalidParameters, field: "a=setup",
                reason: "the answer's data section has a=setup:actpass; an answer must be active or passive (RFC 8842 §5.3)")
        }
    }

    /// The DTLS role the offerer takes against this answer: the opposite of the answerer's.
    public var offererDtlsRole: DtlsRole { DtlsRole.answering(dtls.role) }

    /// The values read, with the parsed ICE description and the `m=` lines an answer echoes.
    struct Parsed {
        var remote: DataChannelRemoteDescription
        var ice: IceDescription
        var mediaLines: [SessionLines.MediaLine]
    }

    static func read(_ sdp: String) throws(DtlsError) -> Parsed {
        let ice: IceDescription
        do { ice = try IceDescription(parsing: sdp) } catch { throw DtlsError(ice: error) }
        guard let data = try DataChannelDescription(parsing: sdp), ice.media.indices.contains(data.mLineIndex) else {
            throw DtlsError(
                .invalidParameters, field: "m=application",
                reason: "the description has no data-channel section (m=application … UDP/DTLS/SCTP webrtc-datachannel)")
        }
        let index = data.mLineIndex
        let section = ice.media[index]
        let name = section.mid.map { "mid \(SessionLines.excerpt($0))" } ?? "m-line \(index)"
        if section.port == 0 {
            guard section.bundleOnly else {
                throw DtlsError(.invalidParameters, field: "m=application", reason: "the data-channel section (\(name)) is rejected: port 0")
            }
            let tag = section.mid.flatMap { ice.bundleGroup(containing: $0)?.first }.map { "mid \(SessionLines.excerpt($0))" } ?? "none"
            throw DtlsError(
                .invalidParameters, field: "a=bundle-only",
                reason: "the data-channel section (\(name)) is bundle-only, so it only rides on its BUNDLE group's tagged section "
                    + "(\(tag)), which is not a data section: it has no transport of its own to accept")
        }
        guard let usernameFragment = section.usernameFragment else {
            throw DtlsError(.invalidParameters, field: "a=ice-ufrag", reason: "the data-channel section (\(name)) has no a=ice-ufrag, at media or session level")
        }
        guard let password = section.password else {
            throw DtlsError(.invalidParameters, field: "a=ice-pwd", reason: "the data-channel section (\(name)) has no a=ice-pwd, at media or session level")
        }
        let dtlsDescription = try DtlsDescription(parsing: sdp)
        guard dtlsDescription.media.indices.contains(index) else {
            throw DtlsError(.invalidParameters, field: "m=application", reason: "the data-channel section (\(name)) was not found by the DTLS reader")
        }
        let dtls = dtlsDescription.media[index]
        guard !dtls.fingerprints.isEmpty else {
            throw DtlsError(.invalidParameters, field: "a=fingerprint", reason: "the data-channel section (\(name)) has no a=fingerprint, at media or session level")
        }
        guard let role = dtls.role else {
            throw DtlsError(.invalidParameters, field: "a=setup", reason: "the data-channel section (\(name)) has no a=setup, at media or session level")
        }
        let remote = DataChannelRemoteDescription(
            mid: section.mid, mLineIndex: index,
            ice: IceParameters(usernameFragment: usernameFragment, password: password),
            iceOptions: section.options, candidates: section.candidates, endOfCandidates: section.endOfCandidates,
            iceLite: ice.iceLite, dtls: DtlsParameters(role: role, fingerprints: dtls.fingerprints),
            sctpPort: data.sctpPort, maxMessageSize: data.maxMessageSize)
        return Parsed(remote: remote, ice: ice, mediaLines: SessionLines.mediaLines(of: sdp))
    }

    private init(
        mid: String?, mLineIndex: Int, ice: IceParameters, iceOptions: [String], candidates: [IceCandidate],
        endOfCandidates: Bool, iceLite: Bool, dtls: DtlsParameters, sctpPort: UInt16, maxMessageSize: Int
    ) {
        self.mid = mid
        self.mLineIndex = mLineIndex
        self.ice = ice
        self.iceOptions = iceOptions
        self.candidates = candidates
        self.endOfCandidates = endOfCandidates
        self.iceLite = iceLite
        self.dtls = dtls
        self.sctpPort = sctpPort
        self.maxMessageSize = maxMessageSize
    }
}

/// The lines and checks that ``DataChannelOffer`` and ``DataChannelAnswer`` share.
enum SessionLines {
    /// The fields of one `m=` line, as far as an answer echoes them.
    struct MediaLine: Hashable {
        var kind: String
        var proto: String
        var firstFormat: String
    }

    /// `v=`, `o=`, `s=` and `t=`, as WebRTC stacks write them (JSEP, RFC 8829 §5.2.1).
    static func header(sessionId: UInt64, sessionVersion: UInt64) -> String {
        "v=0\r\no=- \(sessionId) \(sessionVersion) IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    }

    /// The data section: `m=`, `c=`, `a=mid`, the ICE lines, `a=setup`, `a=fingerprint`,
    /// `a=sctp-port`, `a=max-message-size`.
    static func dataSection(
        proto: String, mid: String?, iceLines: String, dtls: DtlsParameters, sctpPort: UInt16, maxMessageSize: Int
    ) -> String {
        var lines = "m=application 9 \(proto) webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        if let mid { lines += "a=mid:\(mid)\r\n" }
        lines += iceLines + DtlsDescription.attributeLines(dtls)
        return lines + "a=sctp-port:\(sctpPort)\r\na=max-message-size:\(maxMessageSize)\r\n"
    }

    /// Checks our own values before they go into an offer or answer.
    static func validate(
        ice: IceParameters, candidates: [IceCandidate], dtls: DtlsParameters, sctpPort: UInt16, maxMessageSize: Int
    ) throws(DtlsError) {
        do {
            try ice.validate()
            for candidate in candidates { try candidate.validate() }
        } catch {
            throw DtlsError(ice: error)
        }
        guard !dtls.fingerprints.isEmpty else {
            throw DtlsError(.invalidParameters, field: "fingerprint", reason: "our DtlsParameters have no fingerprint (RFC 8122 requires one)")
        }
        guard dtls.fingerprints.count <= DtlsDescription.maximumFingerprints else {
            throw DtlsError(.invalidParameters, field: "fingerprint", reason: "more than \(DtlsDescription.maximumFingerprints) fingerprints")
        }
        guard sctpPort > 0 else {
            throw DtlsError(.invalidParameters, field: "sctpPort", reason: "the SCTP port must be 1-65535")
        }
        guard maxMessageSize >= 0, maxMessageSize <= Int(UInt32.max) else {
            throw DtlsError(.invalidParameters, field: "maxMessageSize", reason: "\(maxMessageSize) is not 0 (no limit) to \(UInt32.max)")
        }
    }

    /// The `m=` lines of an SDP that `IceDescription` accepted (so each has at least 4 fields).
    static func mediaLines(of sdp: String) -> [MediaLine] {
        sdp.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).compactMap { raw in
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            guard line.hasPrefix("m=") else { return nil }
            let fields = line.dropFirst(2).split(separator: " ")
            return MediaLine(
                kind: fields.first.map(String.init) ?? "application",
                proto: fields.count > 2 ? String(fields[2]) : "UDP/DTLS/SCTP",
                firstFormat: fields.count > 3 ? String(fields[3]) : "0")
        }
    }

    /// A token of RFC 8866 (the grammar of `a=mid`): 1 to 32 characters here.
    static func isToken(_ text: String) -> Bool {
        let symbols = Array("!#$%&'*+-.^_`{|}~".utf8)
        return (1...32).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || symbols.contains(byte)
            }
    }

    /// A peer's value, quoted and cut short for an error reason.
    static func excerpt(_ text: String) -> String {
        "'" + String(text.prefix(32)) + (text.count > 32 ? "…'" : "'")
    }
}

extension DtlsError {
    /// The ``DtlsError`` for an ICE error met while reading or writing a session description:
    /// code `invalidParameters`, the same field and reason.
    init(ice error: IceError) {
        self.init(.invalidParameters, field: error.field ?? "sdp", reason: error.reason)
    }
}
