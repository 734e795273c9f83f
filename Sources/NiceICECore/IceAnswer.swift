/// The ICE part of an SDP answer to an offer such as a browser's: one ICE transport that every
/// accepted media section shares (BUNDLE, RFC 8843), ready to splice into the answer.
///
/// ```swift
/// let offer = try IceDescription(parsing: offerSDP)
/// let answer = try IceAnswer(offer: offer, parameters: local, candidates: gathered, endOfCandidates: true)
/// var sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + answer.sessionLines
/// for section in answer.media {
///     sdp += "m=\(section.kind) \(section.isAccepted ? 9 : 0) …\r\nc=IN IP4 0.0.0.0\r\n"
///     if let mid = section.mid { sdp += "a=mid:\(mid)\r\n" }
///     sdp += section.attributeLines  // empty when the section is rejected
///     // DTLS, SCTP and codec lines: not ICE, so not here.
/// }
/// answer.role                          // .controlled: the offerer controls
/// answer.remoteTransport?.parameters   // the offerer's ufrag and password
/// answer.remoteTransport?.candidates   // the offerer's candidates for the transport
/// ```
///
/// Rules:
/// - **One transport.** The first media section of the offer that can be accepted (its port is
///   not 0, or it has `a=bundle-only` and is bundled; and its mid is not in `rejecting`) decides
///   the transport. When it is in a BUNDLE group, the transport is the group's tagged section (its
///   first mid), and every section of the group that can be accepted shares it. Otherwise the
///   section has the transport to itself. Every other section is rejected: the answer has one
///   ICE transport.
/// - **The tag stays.** An answer cannot reject the offerer-tagged section of a BUNDLE group and
///   accept other sections of the group (RFC 8843 §7.3.3; browsers fail to apply such an answer):
///   that throws. Accept the tagged section (for example with `a=inactive`), or reject the group.
/// - **Lines.** Every accepted section gets `a=ice-ufrag`, `a=ice-pwd` and `a=ice-options` with the
///   same values, as Chrome and Firefox write their answers. Candidates and `a=end-of-candidates`
///   go into the transport's section only, as browsers expect with BUNDLE. `a=ice-lite` and
///   `a=group:BUNDLE` go into ``sessionLines``.
/// - **Trickle.** Send later local candidates with ``trickled(_:)``, which sets the transport's
///   mid and m-line index. Check each remote candidate with ``isTransportCandidate(_:)``: one for
///   a section bundled into the transport, or a rejected one, is for a transport that the offerer
///   drops when it applies the answer.
public struct IceAnswer: Sendable, Hashable {
    /// The answer's view of one media section of the offer.
    public struct Media: Sendable, Hashable {
        /// The section's mid, as in the offer.
        public var mid: String?
        /// The 0-based position of the section's `m=` line, the same in offer and answer.
        public var mLineIndex: Int
        /// The offer's media type for the section (`audio`, `video`, `application`, …).
        public var kind: String
        /// Whether the answer accepts the section. The caller writes its `m=` line with port 0
        /// when it is not accepted (RFC 3264 §6), and with the default port 9 (or the default
        /// candidate's) when it is.
        public var isAccepted: Bool
        /// The section's ICE lines, each `a=…\r\n`; empty when the section is rejected. Written by
        /// ``IceDescription/attributeLines(ufrag:password:options:candidates:endOfCandidates:iceLite:)``.
        public var attributeLines: String

        /// Creates a section.
        public init(mid: String?, mLineIndex: Int, kind: String, isAccepted: Bool, attributeLines: String) {
            self.mid = mid
            self.mLineIndex = mLineIndex
            self.kind = kind
            self.isAccepted = isAccepted
            self.attributeLines = attributeLines
        }
    }

    /// One entry per `m=` line of the offer, in order: the answer has the same sections.
    public var media: [Media]
    /// The mids of the answer's `a=group:BUNDLE` line: the accepted sections of the transport's
    /// BUNDLE group, in the offer's group order, the transport's section first. Empty when the
    /// offer bundles nothing or no section is accepted.
    public var bundleGroup: [String]
    /// The m-line index of the section that carries the transport (and our candidates), or nil
    /// when no section is accepted.
    public var transportMLineIndex: Int?
    /// The role this answerer takes: see ``IceDescription/answererRole(iceLite:)``.
    public var role: IceRole
    /// Whether the answer declares `a=ice-lite`.
    public var iceLite: Bool
    /// The offer's ICE values for the transport: the offer's section with the transport's mid
    /// (credentials, options, candidates, end-of-candidates), or nil when no section is accepted.
    /// Candidates the offer lists in other bundled sections are not the transport's and are left out.
    public var remoteTransport: IceDescription.Media?

    /// The transport's mid, when its section has one.
    public var transportMid: String? {
        transportMLineIndex.flatMap { media[$0].mid }
    }

    /// `a=group:BUNDLE <mids>\r\n` for ``bundleGroup``, or `""` when it is empty.
    public var groupLine: String {
        bundleGroup.isEmpty ? "" : "a=group:BUNDLE " + bundleGroup.joined(separator: " ") + "\r\n"
    }

    /// The session-level ICE lines, to write before the first `m=` line: `a=ice-lite` (when
    /// ``iceLite``), then ``groupLine``.
    public var sessionLines: String {
        (iceLite ? "a=ice-lite\r\n" : "") + groupLine
    }

    /// The ICE lines of the section with this mid (`""` when it is rejected), or nil when the
    /// offer has no such mid.
    public func attributeLines(mid: String) -> String? {
        media.first { $0.mid == mid }?.attributeLines
    }

    /// `candidate` with the transport's ``IceCandidate/sdpMid`` and ``IceCandidate/sdpMLineIndex``,
    /// as a local candidate is trickled to the offerer after the answer; nil when no section is
    /// accepted.
    public func trickled(_ candidate: IceCandidate) -> IceCandidate? {
        guard let transportMLineIndex else { return nil }
        var candidate = candidate
        candidate.sdpMid = media[transportMLineIndex].mid
        candidate.sdpMLineIndex = transportMLineIndex
        return candidate
    }

    /// Whether a remote (trickled) candidate is for the answer's transport.
    ///
    /// The candidate's section is found as W3C `addIceCandidate` does (by ``IceCandidate/sdpMid``,
    /// else by ``IceCandidate/sdpMLineIndex``). It is for the transport when that section is the
    /// transport's. A candidate for another section, bundled or rejected, is for a transport the
    /// offerer drops when it applies the answer (browsers with the `balanced` bundle policy gather
    /// per media type until then): ignore it.
    ///
    /// - Throws: ``IceError`` with code ``IceError/Code/invalidCandidate`` and field `"sdpMid"` or
    ///   `"sdpMLineIndex"` when the candidate names no section of the offer.
    public func isTransportCandidate(_ candidate: IceCandidate) throws(IceError) -> Bool {
        let index = try candidate.mediaIndex(in: media.map(\.mid))
        return index == transportMLineIndex
    }

    /// Writes the ICE part of the answer to `offer`.
    ///
    /// - Parameters:
    ///   - offer: The parsed offer.
    ///   - parameters: Our ufrag and password, shared by every accepted section.
    ///   - candidates: Our candidates so far, written into the transport's section.
    ///   - endOfCandidates: Whether `candidates` is complete (`a=end-of-candidates`).
    ///   - iceLite: Whether we are an ICE-lite agent (`a=ice-lite`; it also sets ``role``).
    ///   - options: Our `a=ice-options` tokens; the default announces trickle (RFC 8840).
    ///   - rejecting: Mids the caller rejects, for example media it does not handle.
    /// - Throws: ``IceError``: ``IceError/Code/invalidParameters`` (field `"ufrag"`, `"password"`
    ///   or `"options"`) or ``IceError/Code/invalidCandidate`` for our own values;
    ///   ``IceError/Code/invalidSDP`` with field `"a=group"` when the answer would reject a BUNDLE
    ///   group's tagged section but accept other sections of it, and with field `"a=ice-ufrag"`
    ///   or `"a=ice-pwd"` when the offer has no credentials for the transport.
    public init(
        offer: IceDescription,
        parameters: IceParameters,
        candidates: [IceCandidate] = [],
        endOfCandidates: Bool = false,
        iceLite: Bool = false,
        options: [String] = ["trickle"],
        rejecting: Set<String> = []
    ) throws(IceError) {
        try parameters.validate()
        for option in options where option.isEmpty || !option.utf8.allSatisfy(CandidateGrammar.isIceChar) {
            throw IceError(.invalidParameters, field: "options", reason: "ice-options must be ice-chars (ALPHA, DIGIT, \"+\", \"/\")")
        }
        for candidate in candidates {
            try candidate.validate()
        }

        // Linear in the size of the offer: a mid's section and BUNDLE group come from tables.
        var indexOfMid: [String: Int] = [:]
        for (index, section) in offer.media.enumerated() {
            if let mid = section.mid, indexOfMid[mid] == nil { indexOfMid[mid] = index }
        }
        var groupOfMid: [String: Int] = [:]
        for (group, mids) in offer.bundleGroups.enumerated() {
            for mid in mids where groupOfMid[mid] == nil { groupOfMid[mid] = group }
        }
        let acceptable = offer.media.map { section in
            guard !section.isRejected else { return false }
            guard let mid = section.mid else { return !section.bundleOnly }
            return !rejecting.contains(mid) && (!section.bundleOnly || groupOfMid[mid] != nil)
        }

        var accepted = [Bool](repeating: false, count: offer.media.count)
        var group: [String] = []
        var transport: Int?
        if let first = acceptable.firstIndex(of: true) {
            if let mid = offer.media[first].mid, let offered = groupOfMid[mid].map({ offer.bundleGroups[$0] }) {
                transport = try Self.tagIndex(of: offered, indexOfMid: indexOfMid, acceptable: acceptable, rejecting: rejecting, accepting: mid)
                for bundled in offered {
                    guard let index = indexOfMid[bundled], acceptable[index] else { continue }
                    accepted[index] = true
                    group.append(bundled)
                }
            } else {
                accepted[first] = true
                transport = first
            }
        }

        var remote: IceDescription.Media?
        if let transport {
            let section = offer.media[transport]
            let name = section.mid.map { "mid \(CandidateGrammar.excerpt(Array($0.utf8)[...]))" } ?? "m-line \(transport)"
            guard section.usernameFragment != nil else {
                throw IceError(.invalidSDP, field: "a=ice-ufrag", reason: "the offer's transport section (\(name)) has no a=ice-ufrag")
            }
            guard section.password != nil else {
                throw IceError(.invalidSDP, field: "a=ice-pwd", reason: "the offer's transport section (\(name)) has no a=ice-pwd")
            }
            remote = section
        }

        self.media = offer.media.enumerated().map { index, section in
            let lines = accepted[index]
                ? IceDescription.attributeLines(
                    ufrag: parameters.usernameFragment,
                    password: parameters.password,
                    options: options,
                    candidates: index == transport ? candidates : [],
                    endOfCandidates: index == transport && endOfCandidates
                )
                : ""
            return Media(mid: section.mid, mLineIndex: index, kind: section.kind, isAccepted: accepted[index], attributeLines: lines)
        }
        self.bundleGroup = group
        self.transportMLineIndex = transport
        self.role = offer.answererRole(iceLite: iceLite)
        self.iceLite = iceLite
        self.remoteTransport = remote
    }

    /// The m-line index of the tagged section of `group`, which must be acceptable since the
    /// answer accepts `accepting`, another section of the group.
    private static func tagIndex(
        of group: [String], indexOfMid: [String: Int], acceptable: [Bool], rejecting: Set<String>, accepting mid: String
    ) throws(IceError) -> Int {
        // `group` contains `mid`, so it is not empty. Parsing guarantees that its mids name
        // sections; a description built by hand may not.
        let tag = group[0]
        let quotedTag = CandidateGrammar.excerpt(Array(tag.utf8)[...])
        guard let index = indexOfMid[tag] else {
            throw IceError(.invalidSDP, field: "a=group", reason: "BUNDLE names mid \(quotedTag), but no media section has it")
        }
        guard !acceptable[index] else { return index }
        let quotedMid = CandidateGrammar.excerpt(Array(mid.utf8)[...])
        let why = rejecting.contains(tag) ? "is in rejecting" : "is rejected by the offer (port 0)"
        throw IceError(
            .invalidSDP,
            field: "a=group",
            reason: "the BUNDLE group's tagged section, mid \(quotedTag), \(why) while mid \(quotedMid) of the group "
                + "is accepted; an answer cannot reject the offerer-tagged section alone (RFC 8843 §7.3.3): "
                + "accept it or reject the whole group"
        )
    }
}
