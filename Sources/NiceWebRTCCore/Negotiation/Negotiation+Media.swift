import NiceICECore

/// Offers and answers with audio and video sections (Unified Plan, one BUNDLE group with the
/// data section when there is one): the answer plan a remote offer gets, the sections we write,
/// and what a completed exchange decided (``Negotiation/negotiatedMedia``).
extension Negotiation {
    /// One section of a description we write.
    enum WrittenSection {
        case data
        case media(MediaDescription)
        case rejected(kind: String, proto: String, formats: String, mid: String?)
    }

    // MARK: Offers

    /// Whether an offer needs the media writer: a transceiver has no section yet in the
    /// session, or the session has an accepted audio or video section.
    var needsMediaOffer: Bool {
        let layoutMids = Set(currentLocal?.mids.compactMap { $0 } ?? [])
        if transceivers.contains(where: { !$0.isStopped && ($0.mid.map { !layoutMids.contains($0) } ?? true) }) { return true }
        return currentLocal?.media.values.contains { !$0.isRejected } ?? false
    }

    /// createOffer with audio and video: the session's sections in order (accepted media written
    /// again from their transceivers, with the negotiated codecs; rejected ones as port 0), then
    /// a section per new transceiver; the data section last in a first offer (when
    /// ``offersDataSection``), appended after every other section when a later offer adds it to a
    /// media-only session. Throws `operationError` (field `m=`) when no section would have a
    /// transport.
    func createMediaOffer(ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool) throws(PeerConnectionError) -> SessionDescription {
        let dtls = DtlsParameters(role: dtlsRole ?? .auto, fingerprints: local.fingerprints)
        do {
            try SessionLines.validate(
                ice: ice, candidates: candidates, dtls: dtls, sctpPort: local.sctpPort, maxMessageSize: local.maxMessageSize)
            for transceiver in transceivers { try transceiver.settings.validate() }
        } catch {
            throw PeerConnectionError(.operationError, field: error.field, reason: "cannot write the offer: \(error.located)", sdpError: error)
        }
        let layout = currentLocal
        var used = Set(layout?.mids.compactMap { $0 } ?? []).union(transceivers.compactMap(\.mid))
        if let dataMid { used.insert(dataMid) }
        var sections: [WrittenSection] = []
        var layoutMids = Set<String>()
        if let layout {
            for index in layout.mediaLines.indices {
                let mid = layout.mids.indices.contains(index) ? layout.mids[index] : nil
                if let mid { layoutMids.insert(mid) }
                if index == layout.data?.mLineIndex {
                    sections.append(.data)
                } else if let media = layout.media[index], !media.isRejected, let mid,
                    let transceiver = transceivers.first(where: { $0.mid == mid && !$0.isStopped })
                {
                    let negotiated = negotiatedMedia.first { $0.mid == mid && !$0.isRejected }
                    sections.append(.media(offerSection(transceiver, mid: mid, negotiated: negotiated)))
                } else {
                    let line = layout.mediaLines[index]
                    sections.append(.rejected(kind: line.kind, proto: line.proto, formats: line.firstFormat, mid: mid))
                }
            }
        }
        for transceiver in transceivers where !transceiver.isStopped && !(transceiver.mid.map(layoutMids.contains) ?? false) {
            let mid = transceiver.mid ?? Self.nextMid(&used)
            sections.append(.media(offerSection(transceiver, mid: mid, negotiated: nil)))
        }
        if layout == nil, offersDataSection ?? true {
            sections.insert(.data, at: min(dataMLineIndex ?? sections.count, sections.count))
        } else if let layout, layout.data == nil, offersDataSection == true {
            sections.append(.data)  // added to a media-only session: a new section, last
        }
        let dataSectionMid = sections.contains { if case .data = $0 { true } else { false } } ? dataMid ?? Self.nextMid(&used) : ""
        let accepted = sections.compactMap { section -> String? in
            switch section {
            case .data: dataSectionMid
            case .media(let media): media.mid
            case .rejected: nil
            }
        }
        guard let tag = sections.firstIndex(where: { if case .rejected = $0 { false } else { true } }) else {
            throw PeerConnectionError(
                .operationError, field: "m=",
                reason: "cannot write the offer: it would have no section to carry the transport (no data section, as offersDataSection "
                    + "says, and no transceiver that is not stopped)")
        }
        var text = SessionLines.header(sessionId: sessionId, sessionVersion: sessionVersion) + (local.iceLite ? "a=ice-lite\r\n" : "")
        text += "a=group:BUNDLE \(accepted.joined(separator: " "))\r\na=msid-semantic: WMS\r\n"
        for (index, section) in sections.enumerated() {
            let iceLines = IceDescription.attributeLines(
                ufrag: ice.usernameFragment, password: ice.password, options: ["trickle"], candidates: index == tag ? candidates : [],
                endOfCandidates: index == tag && endOfCandidates)
            switch section {
            case .data:
                text += SessionLines.dataSection(
                    proto: "UDP/DTLS/SCTP", mid: dataSectionMid, iceLines: iceLines, dtls: dtls, sctpPort: local.sctpPort,
                    maxMessageSize: local.maxMessageSize)
            case .media(let media):
                text += media.sdpLines(transport: iceLines + DtlsDescription.attributeLines(dtls))
            case .rejected(let kind, let proto, let formats, let mid):
                text += MediaDescription.rejectedLines(kind: kind, proto: proto, formats: formats, mid: mid)
            }
        }
        return SessionDescription(type: .offer, sdp: text)
    }

    /// The smallest decimal mid not in `used` (then in it).
    static func nextMid(_ used: inout Set<String>) -> String {
        var number = 0
        while used.contains(String(number)) { number += 1 }
        used.insert(String(number))
        return String(number)
    }

    /// A transceiver's section in an offer: our codecs and extensions (those negotiated when
    /// the section was negotiated before, so payload types and ids stay), its direction and
    /// sender lines.
    func offerSection(_ transceiver: MediaTransceiver, mid: String, negotiated: NegotiatedMedia?) -> MediaDescription {
        var section = MediaDescription(
            kind: transceiver.kind, mid: mid, direction: transceiver.direction,
            codecs: negotiated?.codecs ?? capabilities.codecs(transceiver.kind),
            headerExtensions: negotiated?.headerExtensions ?? capabilities.headerExtensions(transceiver.kind), rtcpMux: true,
            rtcpReducedSize: true)
        addSender(transceiver, to: &section)
        return section
    }

    /// `a=msid` and the `a=ssrc` / `a=ssrc-group:FID` lines of what the transceiver sends, when
    /// the section's direction sends.
    func addSender(_ transceiver: MediaTransceiver, to section: inout MediaDescription) {
        guard section.direction.sends else { return }
        let settings = transceiver.settings
        let stream = settings.streamIds.first ?? "-"
        let track = settings.trackId ?? "nice-track-\(transceiver.id)"
        section.msid = [MediaStreamId(streamId: stream, trackId: track)]
        guard let ssrc = settings.ssrc else { return }
        let cname = settings.cname ?? "nice"
        var sources = [ssrc]
        if let rtx = settings.rtxSsrc, rtx != ssrc, section.codecs.contains(where: \.isRtx) {
            sources.append(rtx)
            section.ssrcGroups = [SsrcGroup(semantics: "FID", ssrcs: [ssrc, rtx])]
        }
        for source in sources {
            section.ssrcAttributes.append(SsrcAttribute(ssrc: source, name: "cname", value: cname))
            section.ssrcAttributes.append(SsrcAttribute(ssrc: source, name: "msid", value: "\(stream) \(track)"))
        }
    }

    // MARK: Answers

    /// A remote offer applied: which of its audio and video sections our answer accepts, and
    /// with which transceiver. A section is accepted when it is in the transport's BUNDLE group
    /// (the data section's, else the first audio or video section's with a port; that section
    /// alone when it is not bundled), not disabled by the offerer, has `a=rtcp-mux` and a codec
    /// we support, and a transceiver takes it: the one with its mid, else the first free one of
    /// its kind, else a new one when ``remoteMediaPolicy`` accepts. The transport is then the
    /// first mid of the group among the accepted sections and the data section.
    mutating func planAnswer(_ offer: inout AppliedDescription) {
        var plan: [Int: Int] = [:]
        let group = offer.transportMids
        for index in offer.media.keys.sorted() {
            guard let section = offer.media[index], let mid = section.mid, group.contains(mid), offer.ice.media.indices.contains(index),
                !offer.ice.media[index].isRejected, section.rtcpMux,
                MediaNegotiator.answerCodecs(offered: section.codecs, local: capabilities.codecs(section.kind)).contains(where: { !$0.isRtx })
            else { continue }
            if let existing = transceivers.firstIndex(where: { $0.mid == mid }) {
                if transceivers[existing].kind == section.kind, !transceivers[existing].isStopped { plan[index] = transceivers[existing].id }
            } else if let free = transceivers.firstIndex(where: { $0.mid == nil && !$0.isStopped && $0.kind == section.kind }) {
                transceivers[free].mid = mid
                plan[index] = transceivers[free].id
            } else if case .accept(let direction) = remoteMediaPolicy, transceivers.count < Self.maximumTransceivers {
                plan[index] = appendTransceiver(MediaTransceiverInit(kind: section.kind, direction: direction), createdByRemoteOffer: true, mid: mid)
            }
        }
        offer.answerPlan = plan
        offer.transportIndex = offer.bundleTag(of: Set(plan.keys)) ?? (offer.data == nil ? plan.keys.min() : nil) ?? offer.anchorIndex
    }

    /// createAnswer when the plan accepts audio or video: every accepted section in one BUNDLE
    /// group with the data section (when the offer has one), in the offer's order; the others
    /// rejected with their mid. Every accepted section has our ICE lines, `a=fingerprint` and
    /// `a=setup`; candidates go into the first (the transport).
    func createMediaAnswer(
        to offer: AppliedDescription, ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool
    ) throws(PeerConnectionError) -> SessionDescription {
        do {
            return SessionDescription(type: .answer, sdp: try mediaAnswerText(to: offer, ice: ice, candidates: candidates, endOfCandidates: endOfCandidates))
        } catch {
            throw PeerConnectionError(.operationError, field: error.field, reason: "cannot write the answer: \(error.located)", sdpError: error)
        }
    }

    private func mediaAnswerText(
        to offer: AppliedDescription, ice: IceParameters, candidates: [IceCandidate], endOfCandidates: Bool
    ) throws(SdpError) -> String {
        var dtls = DtlsParameters(role: dtlsRole ?? .auto, fingerprints: local.fingerprints)
        try SessionLines.validate(ice: ice, candidates: candidates, dtls: dtls, sctpPort: local.sctpPort, maxMessageSize: local.maxMessageSize)
        let dataIndex = offer.data?.mLineIndex
        let anchorLine = offer.mediaLines.indices.contains(offer.anchorIndex) ? offer.mediaLines[offer.anchorIndex].line : nil
        if dtls.role == .auto {
            dtls.role = DtlsRole.answering(offer.dtls.role)
        } else if dtls.role == offer.dtls.role {
            throw SdpError(
                .unsupported, field: "a=setup", line: anchorLine,
                reason: "the offer is a=setup:\(offer.dtls.role.setupValue) and so cannot be answered with a=setup:\(dtls.role.setupValue)")
        }
        var sections: [Int: MediaDescription] = [:]
        for (index, id) in offer.answerPlan {
            guard let offered = offer.media[index], let transceiver = transceivers.first(where: { $0.id == id }), !transceiver.isStopped else { continue }
            let codecs = MediaNegotiator.answerCodecs(offered: offered.codecs, local: capabilities.codecs(offered.kind))
            guard codecs.contains(where: { !$0.isRtx }) else { continue }
            var section = MediaDescription(
                kind: offered.kind, mid: offered.mid, proto: offered.proto,
                direction: RtpTransceiverDirection.answering(offered.direction, local: transceiver.direction), codecs: codecs,
                headerExtensions: MediaNegotiator.answerHeaderExtensions(
                    offered: offered.headerExtensions, local: capabilities.headerExtensions(offered.kind)),
                rtcpMux: true, rtcpReducedSize: offered.rtcpReducedSize)
            addSender(transceiver, to: &section)
            sections[index] = section
        }
        guard dataIndex != nil || !sections.isEmpty else {
            throw SdpError(
                .unsupported, field: "m=", line: anchorLine,
                reason: "the answer would accept no section (no data section, and the transceivers that took the offer's sections are stopped): nothing carries the transport")
        }
        var iceOffer = offer.ice
        var rejecting = Set<String>()
        for index in iceOffer.media.indices where index != dataIndex && sections[index] == nil {
            iceOffer.media[index].port = 0
            iceOffer.media[index].bundleOnly = false
            if let mid = iceOffer.media[index].mid { rejecting.insert(mid) }
        }
        let group = (offer.transportGroup ?? []).filter { mid in
            offer.mids.firstIndex(of: mid).map { $0 == dataIndex || sections[$0] != nil } ?? false
        }
        iceOffer.bundleGroups = group.isEmpty ? [] : [group]
        let iceAnswer: IceAnswer
        do {
            iceAnswer = try IceAnswer(
                offer: iceOffer, parameters: ice, candidates: candidates, endOfCandidates: endOfCandidates, iceLite: local.iceLite,
                rejecting: rejecting)
        } catch {
            throw SdpError(ice: error)
        }
        guard offer.mediaLines.count == iceAnswer.media.count else {
            throw SdpError(.malformed, field: "m=", reason: "the offer's m= lines were not all read")
        }
        var text = SessionLines.header(sessionId: sessionId, sessionVersion: sessionVersion) + iceAnswer.sessionLines + "a=msid-semantic: WMS\r\n"
        for (index, answer) in iceAnswer.media.enumerated() {
            let line = offer.mediaLines[index]
            if index == dataIndex {
                text += SessionLines.dataSection(
                    proto: line.proto, mid: answer.mid, iceLines: answer.attributeLines, dtls: dtls, sctpPort: local.sctpPort,
                    maxMessageSize: local.maxMessageSize)
            } else if let section = sections[index], answer.isAccepted {
                text += section.sdpLines(transport: answer.attributeLines + DtlsDescription.attributeLines(dtls))
            } else {
                text += MediaDescription.rejectedLines(kind: line.kind, proto: line.proto, formats: line.firstFormat, mid: answer.mid)
            }
        }
        return text
    }

    // MARK: Completed exchanges

    /// An answer applied (ours or the peer's): ``negotiatedMedia`` and every transceiver's
    /// current direction. A section the answer rejects, or accepts with no codec of the offer,
    /// is rejected and stops its transceiver (W3C).
    mutating func settleMedia(offer: AppliedDescription, answer: AppliedDescription, localIsOfferer: Bool) {
        var result: [NegotiatedMedia] = []
        for index in answer.media.keys.sorted() {
            guard let answered = answer.media[index], let offered = offer.media[index], let mid = answered.mid ?? offered.mid else { continue }
            let transceiver = transceivers.firstIndex { $0.mid == mid }
            let disabled = answered.isRejected && !(answer.ice.media.indices.contains(index) && answer.ice.media[index].bundleOnly)
            let offeredTypes = Set(offered.codecs.map(\.payloadType))
            let codecs = answered.codecs.filter { offeredTypes.contains($0.payloadType) && !$0.name.isEmpty }
            let rejected = disabled || !codecs.contains { !$0.isRtx } || (localIsOfferer && transceiver == nil)
            let offeredIds = Set(offered.headerExtensions.map { "\($0.id) \($0.uri)" })
            let extensions = answered.headerExtensions.filter { offeredIds.contains("\($0.id) \($0.uri)") }
            let direction = rejected ? .inactive : localIsOfferer ? answered.direction.reversed : answered.direction
            result.append(
                NegotiatedMedia(
                    mid: mid, mLineIndex: index, kind: answered.kind, transceiverId: transceiver.map { transceivers[$0].id }, isRejected: rejected,
                    direction: direction, codecs: rejected ? [] : codecs, headerExtensions: rejected ? [] : extensions,
                    rtcpReducedSize: answered.rtcpReducedSize && offered.rtcpReducedSize, local: localIsOfferer ? offered : answered,
                    remote: localIsOfferer ? answered : offered))
            if let transceiver {
                transceivers[transceiver].currentDirection = rejected ? nil : direction
                if rejected { transceivers[transceiver].isStopped = true }
            }
        }
        negotiatedMedia = result
    }
}
