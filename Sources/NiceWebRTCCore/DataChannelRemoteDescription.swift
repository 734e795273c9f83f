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
/// - Every failure is an ``SdpError`` whose ``SdpError/field`` names the SDP field
///   (`m=application`, `a=ice-ufrag`, `a=fingerprint`, …) and whose ``SdpError/line`` is the
///   1-based line at fault (the data section's `m=` line for what the section lacks).
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
    /// - Throws: ``SdpError``; its field is the SDP field at fault:
    ///   - ``SdpError/Code/malformed``: a line NiceICE's `IceDescription` refuses (field `m=`,
    ///     `a=candidate`, `a=ice-ufrag`, `a=group`, …), `a=setup` given twice, field `sdp` for a
    ///     text over the size limit;
    ///   - ``SdpError/Code/unsupported``: `m=application` when there is no data section (no line)
    ///     or it has port 0, `a=bundle-only` when it cannot have a transport of its own,
    ///     `a=fingerprint` for too many fingerprints;
    ///   - ``SdpError/Code/missing``: `a=ice-ufrag`, `a=ice-pwd`, `a=fingerprint` or `a=setup`
    ///     when the data section has none, at media or session level (line: its `m=` line);
    ///   - ``SdpError/Code/invalidValue``: `a=sctp-port`, `a=max-message-size`, `a=setup` or
    ///     `a=fingerprint` with a value that does not parse (the reason is the ``DtlsError``'s).
    public init(parsing sdp: String) throws(SdpError) {
        self = try Self.read(sdp).remote
    }

    /// Reads an answer to our offer: as ``init(parsing:)``, and the answerer must have decided
    /// its DTLS role (RFC 8842 §5.3: an answer uses `active` or `passive`, never `actpass`).
    ///
    /// - Throws: ``SdpError`` as ``init(parsing:)``, and ``SdpError/Code/invalidValue`` with
    ///   field `a=setup` (line: the data section's `m=` line) for `actpass`.
    public init(answer sdp: String) throws(SdpError) {
        let parsed = try Self.read(sdp)
        self = parsed.remote
        guard dtls.role != .auto else {
            throw SdpError(
                .invalidValue, field: "a=setup", line: parsed.dataLine,
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

        /// The 1-based line number of the data section's `m=` line.
        var dataLine: Int? {
            mediaLines.indices.contains(remote.mLineIndex) ? mediaLines[remote.mLineIndex].line : nil
        }
    }

    static func read(_ sdp: String) throws(SdpError) -> Parsed {
        let ice: IceDescription
        do { ice = try IceDescription(parsing: sdp) } catch { throw SdpError(ice: error) }
        guard let data = try DataChannelDescription(parsing: sdp), ice.media.indices.contains(data.mLineIndex) else {
            throw SdpError(
                .unsupported, field: "m=application",
                reason: "the description has no data-channel section (m=application … UDP/DTLS/SCTP webrtc-datachannel)")
        }
        let index = data.mLineIndex
        let mediaLines = SessionLines.mediaLines(of: sdp)
        let line = mediaLines.indices.contains(index) ? mediaLines[index].line : nil
        let section = ice.media[index]
        let name = section.mid.map { "mid \(SessionLines.excerpt($0))" } ?? "m-line \(index)"
        if section.port == 0 {
            guard section.bundleOnly else {
                throw SdpError(.unsupported, field: "m=application", line: line, reason: "the data-channel section (\(name)) is rejected: port 0")
            }
            let tag = section.mid.flatMap { ice.bundleGroup(containing: $0)?.first }.map { "mid \(SessionLines.excerpt($0))" } ?? "none"
            throw SdpError(
                .unsupported, field: "a=bundle-only", line: line,
                reason: "the data-channel section (\(name)) is bundle-only, so it only rides on its BUNDLE group's tagged section "
                    + "(\(tag)), which is not a data section: it has no transport of its own to accept")
        }
        guard let usernameFragment = section.usernameFragment else {
            throw SdpError(
                .missing, field: "a=ice-ufrag", line: line,
                reason: "the data-channel section (\(name)) has no a=ice-ufrag, at media or session level")
        }
        guard let password = section.password else {
            throw SdpError(
                .missing, field: "a=ice-pwd", line: line,
                reason: "the data-channel section (\(name)) has no a=ice-pwd, at media or session level")
        }
        let dtlsDescription = try DtlsDescription(parsing: sdp)
        guard dtlsDescription.media.indices.contains(index) else {
            throw SdpError(
                .malformed, field: "m=application", line: line, reason: "the data-channel section (\(name)) was not found by the DTLS reader")
        }
        let dtls = dtlsDescription.media[index]
        guard !dtls.fingerprints.isEmpty else {
            throw SdpError(
                .missing, field: "a=fingerprint", line: line,
                reason: "the data-channel section (\(name)) has no a=fingerprint, at media or session level")
        }
        guard let role = dtls.role else {
            throw SdpError(
                .missing, field: "a=setup", line: line, reason: "the data-channel section (\(name)) has no a=setup, at media or session level")
        }
        let remote = DataChannelRemoteDescription(
            mid: section.mid, mLineIndex: index,
            ice: IceParameters(usernameFragment: usernameFragment, password: password),
            iceOptions: section.options, candidates: section.candidates, endOfCandidates: section.endOfCandidates,
            iceLite: ice.iceLite, dtls: DtlsParameters(role: role, fingerprints: dtls.fingerprints),
            sctpPort: data.sctpPort, maxMessageSize: data.maxMessageSize)
        return Parsed(remote: remote, ice: ice, mediaLines: mediaLines)
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
    /// The fields of one `m=` line, as far as an answer echoes them, and where it is.
    struct MediaLine: Hashable {
        var kind: String
        var proto: String
        var firstFormat: String
        /// The 1-based line number of the `m=` line.
        var line: Int
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

    /// Checks our own values before they go into an offer or answer: ``SdpError/Code/invalidValue``
    /// with the parameter's name as field, no line.
    static func validate(
        ice: IceParameters, candidates: [IceCandidate], dtls: DtlsParameters, sctpPort: UInt16, maxMessageSize: Int
    ) throws(SdpError) {
        do {
            try ice.validate()
            for candidate in candidates { try candidate.validate() }
        } catch {
            throw SdpError(ice: error)
        }
        guard !dtls.fingerprints.isEmpty else {
            throw SdpError(.invalidValue, field: "fingerprint", reason: "our DtlsParameters have no fingerprint (RFC 8122 requires one)")
        }
        guard dtls.fingerprints.count <= DtlsDescription.maximumFingerprints else {
            throw SdpError(.invalidValue, field: "fingerprint", reason: "more than \(DtlsDescription.maximumFingerprints) fingerprints")
        }
        guard sctpPort > 0 else {
            throw SdpError(.invalidValue, field: "sctpPort", reason: "the SCTP port must be 1-65535")
        }
        guard maxMessageSize >= 0, maxMessageSize <= Int(UInt32.max) else {
            throw SdpError(.invalidValue, field: "maxMessageSize", reason: "\(maxMessageSize) is not 0 (no limit) to \(UInt32.max)")
        }
    }

    /// The `m=` lines of an SDP that `IceDescription` accepted (so each has at least 4 fields).
    /// Lines are counted as NiceICE's `IceDescription` counts them (split at LF).
    static func mediaLines(of sdp: String) -> [MediaLine] {
        sdp.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { number, raw in
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            guard line.hasPrefix("m=") else { return nil }
            let fields = line.dropFirst(2).split(separator: " ")
            return MediaLine(
                kind: fields.first.map(String.init) ?? "application",
                proto: fields.count > 2 ? String(fields[2]) : "UDP/DTLS/SCTP",
                firstFormat: fields.count > 3 ? String(fields[3]) : "0",
                line: number + 1)
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
