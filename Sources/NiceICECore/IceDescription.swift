/// The ICE part of one SDP offer or answer: credentials, options and candidates per media section.
///
/// ```swift
/// let ice = try IceDescription(parsing: offerSDP)
/// let first = ice.media.first
/// first?.mid                // "0"
/// first?.usernameFragment   // "EsAw"
/// first?.candidates.count   // 3
/// ```
///
/// Reading rules:
/// - An `m=` line starts a media section and gives its ``Media/kind`` and ``Media/port``; `a=mid`
///   sets its ``Media/mid`` (unique in the description) and `a=bundle-only` its ``Media/bundleOnly``.
/// - `a=group:BUNDLE mid…` (session level) lists media sections that share one transport; see
///   ``bundleGroups`` and "Bundled media" below.
/// - `a=ice-ufrag`, `a=ice-pwd` and `a=ice-options` may appear at session level, media level or
///   both; each ``Media`` reports its own value and falls back to the session-level one.
/// - `a=end-of-candidates` at session level marks every media section as complete.
/// - `a=ice-lite` sets ``iceLite`` wherever it appears.
/// - Every other line is ignored. A malformed ICE, `m=` or `a=group` line, an ICE attribute given
///   twice in one section, a candidate before the first `m=` line, two sections with the same mid,
///   or a BUNDLE group naming an unknown mid (or a mid already in another BUNDLE group) throws.
///
/// ## Bundled media
///
/// With BUNDLE (RFC 8843) every media section of a group is sent over one ICE transport, whose
/// ICE values are those of the group's first mid, the *tagged* section:
///
/// ```swift
/// let offer = try IceDescription(parsing: chromeOffer)
/// offer.bundleGroups                          // [["0", "1", "2"]]
/// offer.transportMedia(for: "2")?.mid         // "0": the data channel rides on mid 0's transport
/// offer.transportMedia(for: "2")?.parameters  // the transport's remote ufrag and password
/// ```
///
/// ``IceAnswer`` writes the ICE part of an answer to such an offer.
public struct IceDescription: Sendable, Hashable {
    /// The ICE attributes of one media section (one `m=` line).
    public struct Media: Sendable, Hashable {
        /// The media stream identification (`a=mid`), if the section has one.
        public var mid: String?
        /// The 0-based position of this section's `m=` line.
        public var mLineIndex: Int
        /// The `m=` line's media type: `audio`, `video`, `application`, …
        public var kind: String
        /// The `m=` line's port. `0` rejects the section (RFC 3264 §6, §8.2), unless it is
        /// ``bundleOnly``.
        public var port: UInt16
        /// True when the section has `a=bundle-only` (RFC 8843 §6): its port 0 then means
        /// "only if bundled", not "rejected".
        public var bundleOnly: Bool
        /// The media-level `a=ice-ufrag`, or the session-level one when the section has none.
        public var usernameFragment: String?
        /// The media-level `a=ice-pwd`, or the session-level one when the section has none.
        public var password: String?
        /// The `a=ice-options` tokens, e.g. `["trickle"]`, with the same fallback.
        public var options: [String]
        /// The section's candidates, each with ``IceCandidate/sdpMid`` and
        /// ``IceCandidate/sdpMLineIndex`` set.
        public var candidates: [IceCandidate]
        /// True when the section (or the session) has `a=end-of-candidates`.
        public var endOfCandidates: Bool

        /// Creates a media section. The defaults describe a data channel section, `m=application 9`.
        public init(
            mid: String? = nil,
            mLineIndex: Int,
            kind: String = "application",
            port: UInt16 = 9,
            bundleOnly: Bool = false,
            usernameFragment: String? = nil,
            password: String? = nil,
            options: [String] = [],
            candidates: [IceCandidate] = [],
            endOfCandidates: Bool = false
        ) {
            self.mid = mid
            self.mLineIndex = mLineIndex
            self.kind = kind
            self.port = port
            self.bundleOnly = bundleOnly
            self.usernameFragment = usernameFragment
            self.password = password
            self.options = options
            self.candidates = candidates
            self.endOfCandidates = endOfCandidates
        }

        /// The section's credentials, when both the ufrag and the password are known.
        public var parameters: IceParameters? {
            guard let usernameFragment, let password else { return nil }
            return IceParameters(usernameFragment: usernameFragment, password: password)
        }

        /// True when the `m=` line's port is 0 and the section is not ``bundleOnly``: the offerer
        /// disabled it, or the answerer rejected it.
        public var isRejected: Bool { port == 0 && !bundleOnly }
    }

    /// The longest SDP ``init(parsing:)`` accepts, in UTF-8 bytes (1 MiB).
    public static let maximumLength = 1 << 20

    /// True when the session has `a=ice-lite`.
    public var iceLite: Bool
    /// The session-level `a=ice-ufrag`.
    public var usernameFragment: String?
    /// The session-level `a=ice-pwd`.
    public var password: String?
    /// The session-level `a=ice-options` tokens.
    public var options: [String]
    /// The media sections, in `m=` line order.
    public var media: [Media]
    /// The mids of each `a=group:BUNDLE` line, in order; the first mid of a group is its tagged
    /// section, which carries the group's transport. Every mid names a section of ``media`` and
    /// appears in at most one group. A BUNDLE line without mids is not listed.
    public var bundleGroups: [[String]]

    /// Creates a description from its parts.
    public init(
        iceLite: Bool = false,
        usernameFragment: String? = nil,
        password: String? = nil,
        options: [String] = [],
        media: [Media] = [],
        bundleGroups: [[String]] = []
    ) {
        self.iceLite = iceLite
        self.usernameFragment = usernameFragment
        self.password = password
        self.options = options
        self.media = media
        self.bundleGroups = bundleGroups
    }

    /// Reads the ICE lines of a whole SDP, with CRLF or LF line endings.
    ///
    /// - Throws: ``IceError`` with code ``IceError/Code/invalidSDP``, ``IceError/field`` set to the
    ///   attribute (`"a=candidate"`, `"a=ice-ufrag"`, `"a=ice-pwd"`, `"a=ice-options"`, `"a=mid"`,
    ///   `"a=group"`, …) or to `"m="`, and a reason that starts with the 1-based line number,
    ///   e.g. `"line 12: port: …"`; `"sdp"` when the text is longer than ``maximumLength``.
    public init(parsing sdp: String) throws(IceError) {
        var reader = IceSDPReader()
        try reader.read(sdp)
        let session = reader.session
        self.init(
            iceLite: reader.iceLite,
            usernameFragment: session.usernameFragment,
            password: session.password,
            options: session.options ?? [],
            media: reader.media.enumerated().map { index, section in
                Media(
                    mid: section.mid,
                    mLineIndex: index,
                    kind: section.kind,
                    port: section.port,
                    bundleOnly: section.bundleOnly,
                    usernameFragment: section.usernameFragment ?? session.usernameFragment,
                    password: section.password ?? session.password,
                    options: section.options ?? session.options ?? [],
                    candidates: section.candidates.map { candidate in
                        var candidate = candidate
                        candidate.sdpMid = section.mid
                        return candidate
                    },
                    endOfCandidates: section.endOfCandidates || session.endOfCandidates
                )
            },
            bundleGroups: reader.bundleGroups.map(\.mids)
        )
    }

    /// Writes the ICE lines of one media section, each as `a=…\r\n`, in this order:
    /// `a=ice-lite` (only when `iceLite`; it belongs at session level, so put these lines before the
    /// first `m=` line in that case), `a=ice-ufrag`, `a=ice-pwd`, `a=ice-options` (only when
    /// `options` is not empty), one `a=candidate` per candidate, `a=end-of-candidates`
    /// (only when `endOfCandidates`).
    public static func attributeLines(
        ufrag: String,
        password: String,
        options: [String],
        candidates: [IceCandidate],
        endOfCandidates: Bool,
        iceLite: Bool = false
    ) -> String {
        var lines = ""
        if iceLite {
            lines += "a=ice-lite\r\n"
        }
        lines += "a=ice-ufrag:" + ufrag + "\r\n"
        lines += "a=ice-pwd:" + password + "\r\n"
        if !options.isEmpty {
            lines += "a=ice-options:" + options.joined(separator: " ") + "\r\n"
        }
        for candidate in candidates {
            lines += "a=" + candidate.candidateLine + "\r\n"
        }
        if endOfCandidates {
            lines += "a=end-of-candidates\r\n"
        }
        return lines
    }
}

/// Reads SDP line by line and collects the ICE attributes of the session and of each media section.
struct IceSDPReader {
    struct Section {
        var kind = ""
        var port: UInt16 = 0
        var bundleOnly = false
        var mid: String?
        var usernameFragment: String?
        var password: String?
        var options: [String]?
        var candidates: [IceCandidate] = []
        var endOfCandidates = false
    }

    var iceLite = false
    var session = Section()
    var media: [Section] = []
    /// The BUNDLE groups read so far, with the line each came from (checked by `finish()`).
    var bundleGroups: [(mids: [String], line: Int)] = []
    /// The media section index of each mid read so far.
    var mediaIndexByMid: [String: Int] = [:]
    var lineNumber = 0

    mutating func read(_ sdp: String) throws(IceError) {
        if sdp.utf8.count > IceDescription.maximumLength {
            throw IceError(.invalidSDP, field: "sdp", reason: "longer than \(IceDescription.maximumLength) bytes")
        }
        let bytes = Array(sdp.utf8)
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if CandidateGrammar.hasPrefix(line, "m=") {
                try readMediaLine(line)
            } else if CandidateGrammar.hasPrefix(line, "a=") {
                try readAttribute(line)
            }
        }
        try finish()
    }

    private mutating func readAttribute(_ line: ArraySlice<UInt8>) throws(IceError) {
        let attribute = line.dropFirst(2)
        let colon = attribute.firstIndex(of: UInt8(ascii: ":"))
        let nameBytes = colon.map { attribute[..<$0] } ?? attribute
        let value = colon.map { attribute[($0 + 1)...] }
        let name = nameBytes.count <= 20 ? CandidateGrammar.string(nameBytes) : ""
        switch name {
        case "candidate":
            guard !media.isEmpty else {
                throw failure(name, "a=candidate before the first m= line")
            }
            let index = media.count - 1
            do {
                let candidate = try IceCandidate(parsing: CandidateGrammar.string(line), sdpMLineIndex: index)
                media[index].candidates.append(candidate)
            } catch {
                throw failure(name, "\(error.field ?? "candidate"): \(error.reason)")
            }
        case "ice-ufrag":
            let text = try requireValue(value, name)
            if let reason = IceParameters.problem(usernameFragment: text) {
                throw failure(name, reason)
            }
            try update(name) { section in
                guard section.usernameFragment == nil else { return false }
                section.usernameFragment = text
                return true
            }
        case "ice-pwd":
            let text = try requireValue(value, name)
            if let reason = IceParameters.problem(password: text) {
                throw failure(name, reason)
            }
            try update(name) { section in
                guard section.password == nil else { return false }
                section.password = text
                return true
            }
        case "ice-options":
            let text = try requireValue(value, name)
            let tokens = text.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard tokens.allSatisfy({ !$0.isEmpty && $0.allSatisfy(CandidateGrammar.isIceChar) }) else {
                throw failure(name, "options must be ice-chars (ALPHA, DIGIT, \"+\", \"/\") separated by single spaces")
            }
            let options = tokens.map { String(Substring($0)) }
            try update(name) { section in
                guard section.options == nil else { return false }
                section.options = options
                return true
            }
        case "mid":
            guard !media.isEmpty else { return }
            let text = try requireValue(value, name)
            guard text.utf8.allSatisfy(CandidateGrammar.isTokenChar) else {
                throw failure(name, "mid must be a token (RFC 5888)")
            }
            try update(name) { section in
                guard section.mid == nil else { return false }
                section.mid = text
                return true
            }
            if let other = mediaIndexByMid[text] {
                throw failure(name, "mid \(CandidateGrammar.excerpt(value ?? [])) already names media section \(other)")
            }
            mediaIndexByMid[text] = media.count - 1
        case "group":
            try readGroup(value)
        case "bundle-only":
            try requireNoValue(value, name)
            guard !media.isEmpty else { return }
            try update(name) { section in
                guard !section.bundleOnly else { return false }
                section.bundleOnly = true
                return true
            }
        case "ice-lite":
            try requireNoValue(value, name)
            iceLite = true
        case "end-of-candidates":
            try requireNoValue(value, name)
            try update(name) { section in
                guard !section.endOfCandidates else { return false }
                section.endOfCandidates = true
                return true
            }
        default:
            return
        }
    }

    /// Applies `change` to the current section; `change` returns false for a duplicate attribute.
    private mutating func update(_ name: String, _ change: (inout Section) -> Bool) throws(IceError) {
        let applied: Bool
        if media.isEmpty {
            applied = change(&session)
        } else {
            applied = change(&media[media.count - 1])
        }
        guard applied else {
            throw failure(name, "a=\(name) appears more than once in the same \(media.isEmpty ? "session" : "media") section")
        }
    }

    func requireValue(_ value: ArraySlice<UInt8>?, _ name: String) throws(IceError) -> String {
        guard let value, !value.isEmpty else {
            throw failure(name, "a=\(name) needs a value")
        }
        return CandidateGrammar.string(value)
    }

    private func requireNoValue(_ value: ArraySlice<UInt8>?, _ name: String) throws(IceError) {
        if value != nil {
            throw failure(name, "a=\(name) takes no value")
        }
    }

    func failure(_ name: String, _ reason: String, line: Int? = nil) -> IceError {
        IceError(.invalidSDP, field: "a=" + name, reason: "line \(line ?? lineNumber): \(reason)")
    }
}
