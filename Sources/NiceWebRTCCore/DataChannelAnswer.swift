import NiceICECore

/// A complete SDP answer that accepts the data-channel section of a remote offer (a browser's,
/// aiortc's or a ``DataChannelOffer``) and rejects every other section.
///
/// ```swift
/// let answer = try DataChannelAnswer(offer: browserOffer, ice: local, candidates: gathered,
///                                    endOfCandidates: true,
///                                    dtls: DtlsParameters(role: .client, fingerprints: [ours]),
///                                    maxMessageSize: 262_144)
/// signal(answer.sdp)
/// answer.remoteIce, answer.remoteCandidates, answer.remoteDtls   // to start ICE and DTLS
/// answer.role                                                      // .controlled
/// signal(answer.trickled(laterCandidate))                          // carries the data mid
/// if try answer.isDataCandidate(remoteTrickled) { add(remoteTrickled) }
/// ```
///
/// What the answer contains:
/// - Session lines: `v=`, `o=`, `s=`, `t=`, `a=group:BUNDLE <data mid>` when the offer bundles the
///   data section, `a=msid-semantic: WMS`.
/// - One `m=` section per offered section, in order (RFC 3264 §6). Every section but the data
///   section is rejected: `m=<kind> 0 <proto> <first format>`, `c=IN IP4 0.0.0.0`, `a=mid` and
///   nothing else (JSEP, RFC 8829 §5.3.1; the kind, proto and a format of the offer).
/// - The data section: `m=application 9 <proto> webrtc-datachannel`, `c=`, `a=mid`, our ICE lines
///   (candidates and `a=end-of-candidates` here), `a=setup` and `a=fingerprint`, `a=sctp-port`,
///   `a=max-message-size`.
///
/// ## BUNDLE when the offer's tagged section is audio or video
///
/// A browser offering audio, video and data bundles them as `a=group:BUNDLE 0 1 2`, tagging the
/// audio section. An answer may not reject the tagged section and keep the others in its group
/// (RFC 8843 §7.3.3; ``IceAnswer`` refuses it). This answer rejects the other sections and makes
/// the data section a group of its own, `a=group:BUNDLE <data mid>`, on the ICE values of the data
/// section itself:
/// - Chrome accepts it: an answer's group must be a subset of an offered group whose first mid
///   is not rejected, rejected mids must not be in it, and with the `max-bundle` policy an answer
///   without any BUNDLE group is refused, so dropping the group would not do.
/// - Firefox accepts it: the first mid of the answer's group must name a section that is not
///   disabled.
/// - The offerer drops the tagged section's transport and keeps the data section's: with the
///   `balanced` policy it has one already, otherwise it creates it and gathers for it. Candidates
///   the offerer trickles for the rejected sections are not for our transport:
///   ``isDataCandidate(_:)`` says false for them.
///
/// A data section that is `a=bundle-only` (port 0) under a tagged audio or video section has no
/// transport of its own, so such an offer cannot be answered: that throws.
public struct DataChannelAnswer: Sendable, Hashable {
    /// The whole answer, CRLF line endings.
    public var sdp: String
    /// The offer's data-channel transport, as read by ``DataChannelRemoteDescription``.
    public var remote: DataChannelRemoteDescription
    /// The DTLS role and fingerprints the answer signals (`a=setup`, `a=fingerprint`).
    public var localDtls: DtlsParameters
    /// The mids of the sections the answer rejects, in offer order.
    public var rejectedMids: [String]
    /// The ICE part of the answer.
    private var iceAnswer: IceAnswer

    /// The offerer's ICE ufrag and password for the data transport.
    public var remoteIce: IceParameters { remote.ice }
    /// The offerer's candidates listed in the data section.
    public var remoteCandidates: [IceCandidate] { remote.candidates }
    /// Whether the offer's data section says `a=end-of-candidates`.
    public var remoteEndOfCandidates: Bool { remote.endOfCandidates }
    /// The offerer's DTLS role and fingerprints (media level over session level).
    public var remoteDtls: DtlsParameters { remote.dtls }
    /// The offerer's `a=sctp-port`.
    public var remoteSctpPort: UInt16 { remote.sctpPort }
    /// The offerer's `a=max-message-size` (0 for "no limit").
    public var remoteMaxMessageSize: Int { remote.maxMessageSize }
    /// The data section's mid.
    public var dataMid: String? { remote.mid }
    /// The data section's m-line index, the same in offer and answer.
    public var dataMLineIndex: Int { remote.mLineIndex }
    /// Our ICE role: controlled, unless the offer is ICE-lite (then controlling).
    public var role: IceRole { iceAnswer.role }
    /// The mids of the answer's `a=group:BUNDLE` line: the data mid, or empty when the offer did
    /// not bundle the data section.
    public var bundleGroup: [String] { iceAnswer.bundleGroup }

    /// Answers `sdp`.
    ///
    /// - Parameters:
    ///   - sdp: The remote offer.
    ///   - ice: Our ufrag and password.
    ///   - candidates: Our candidates so far, written into the data section.
    ///   - endOfCandidates: Whether `candidates` is complete (`a=end-of-candidates`).
    ///   - dtls: Our fingerprints and DTLS role: ``DtlsRole/client`` (`a=setup:active`, as
    ///     browsers answer) or ``DtlsRole/server``, which must be the opposite of a role the offer
    ///     decided; ``DtlsRole/auto`` takes ``DtlsRole/answering(_:)`` of the offer's role.
    ///   - sctpPort: Our `a=sctp-port`.
    ///   - maxMessageSize: The largest message we receive (`a=max-message-size`; 0 = no limit).
    ///   - sessionId: The `o=` session id; random below 2⁶³ by default.
    ///   - sessionVersion: The `o=` session version.
    /// - Throws: ``SdpError``: for the offer, as ``DataChannelRemoteDescription/init(parsing:)``
    ///   (``SdpError/Code/unsupported`` with field `m=application` when it has no data section);
    ///   for our values, ``SdpError/Code/invalidValue`` with field `ufrag`, `password`, a
    ///   candidate field, `fingerprint`, `sctpPort` or `maxMessageSize`;
    ///   ``SdpError/Code/unsupported`` with field `a=setup` when our role cannot answer the
    ///   offer's.
    public init(
        offer sdp: String,
        ice: IceParameters,
        candidates: [IceCandidate] = [],
        endOfCandidates: Bool = false,
        dtls: DtlsParameters,
        sctpPort: UInt16 = 5000,
        maxMessageSize: Int,
        sessionId: UInt64 = .random(in: 1...UInt64(Int64.max)),
        sessionVersion: UInt64 = 2
    ) throws(SdpError) {
        try self.init(
            offer: sdp, ice: ice, candidates: candidates, endOfCandidates: endOfCandidates, dtls: dtls, sctpPort: sctpPort,
            maxMessageSize: maxMessageSize, sessionId: sessionId, sessionVersion: sessionVersion, iceLite: false)
    }

    /// Answers `sdp` as ``init(offer:ice:candidates:endOfCandidates:dtls:sctpPort:maxMessageSize:sessionId:sessionVersion:)``;
    /// `iceLite` writes `a=ice-lite` (we are an ICE-lite agent).
    init(
        offer sdp: String, ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool, dtls: DtlsParameters,
        sctpPort: UInt16, maxMessageSize: Int, sessionId: UInt64, sessionVersion: UInt64, iceLite: Bool
    ) throws(SdpError) {
        try SessionLines.validate(ice: ice, candidates: candidates, dtls: dtls, sctpPort: sctpPort, maxMessageSize: maxMessageSize)
        let parsed = try DataChannelRemoteDescription.read(sdp)
        let remote = parsed.remote
        let dataIndex = remote.mLineIndex

        var localDtls = dtls
        if localDtls.role == .auto {
            localDtls.role = DtlsRole.answering(remote.dtls.role)
        } else if localDtls.role == remote.dtls.role {
            throw SdpError(
                .unsupported, field: "a=setup", line: parsed.dataLine,
                reason: "the offer is a=setup:\(remote.dtls.role.setupValue) and so cannot be answered with a=setup:\(localDtls.role.setupValue)")
        }

        // Only the data section can be accepted: every other one is rejected, and the data
        // section is a BUNDLE group of its own when the offer bundles it.
        var offer = parsed.ice
        for index in offer.media.indices where index != dataIndex {
            offer.media[index].port = 0
            offer.media[index].bundleOnly = false
        }
        offer.bundleGroups = remote.mid.flatMap { offer.bundleGroup(containing: $0) == nil ? nil : [[$0]] } ?? []
        let rejected = offer.media.indices.filter { $0 != dataIndex }.compactMap { offer.media[$0].mid }
        let iceAnswer: IceAnswer
        do {
            iceAnswer = try IceAnswer(
                offer: offer, parameters: ice, candidates: candidates, endOfCandidates: endOfCandidates, iceLite: iceLite,
                rejecting: Set(rejected))
        } catch {
            throw SdpError(ice: error)
        }
        guard iceAnswer.transportMLineIndex == dataIndex, parsed.mediaLines.count == offer.media.count else {
            throw SdpError(
                .unsupported, field: "m=application", line: parsed.dataLine, reason: "the data-channel section cannot carry the answer's transport")
        }

        var text = SessionLines.header(sessionId: sessionId, sessionVersion: sessionVersion)
            + iceAnswer.sessionLines + "a=msid-semantic: WMS\r\n"
        for (index, section) in iceAnswer.media.enumerated() {
            let line = parsed.mediaLines[index]
            if index == dataIndex {
                text += SessionLines.dataSection(
                    proto: line.proto, mid: section.mid, iceLines: section.attributeLines, dtls: localDtls,
                    sctpPort: sctpPort, maxMessageSize: maxMessageSize)
            } else {
                text += "m=\(line.kind) 0 \(line.proto) \(line.firstFormat)\r\nc=IN IP4 0.0.0.0\r\n"
                if let mid = section.mid { text += "a=mid:\(mid)\r\n" }
            }
        }
        self.sdp = text
        self.remote = remote
        self.localDtls = localDtls
        self.rejectedMids = rejected
        self.iceAnswer = iceAnswer
    }

    /// `candidate` with the data section's ``IceCandidate/sdpMid`` and
    /// ``IceCandidate/sdpMLineIndex``, as a local candidate is trickled after the answer.
    public func trickled(_ candidate: IceCandidate) -> IceCandidate {
        if let trickled = iceAnswer.trickled(candidate) { return trickled }
        var candidate = candidate
        candidate.sdpMid = dataMid
        candidate.sdpMLineIndex = dataMLineIndex
        return candidate
    }

    /// Whether a remote trickled candidate is for the data transport. One for a rejected section
    /// (the audio or video transport of a `balanced` browser) is for a transport the offerer
    /// drops when it applies the answer: ignore it. See ``IceAnswer/isTransportCandidate(_:)``.
    ///
    /// - Throws: ``SdpError`` ``SdpError/Code/invalidValue`` with field `sdpMid` or
    ///   `sdpMLineIndex` when the candidate names no section of the offer.
    public func isDataCandidate(_ candidate: IceCandidate) throws(SdpError) -> Bool {
        do { return try iceAnswer.isTransportCandidate(candidate) } catch { throw SdpError(ice: error) }
    }
}
