import NiceWebRTCCore

/// The media side of the session's glue: transceiver objects, the ``MediaSession``'s bindings
/// after each description, the `track` event, negotiation-needed for transceivers.
extension PeerConnectionCore {
    func addTransceiver(_ kind: MediaKind, direction: RtpTransceiverDirection, streamIds: [String], track: LocalTrack?) throws(PeerConnectionError) -> RtpTransceiver {
        let ssrc = UInt32.random(in: 1...UInt32.max)
        let settings = MediaTransceiverInit(
            kind: kind, direction: direction, streamIds: streamIds, trackId: track?.id, ssrc: ssrc, cname: cname)
        let result = state.withLock { s -> Result<Int, PeerConnectionError> in
            guard !s.closed else { return .failure(PeerConnectionError(.invalidState, reason: "the PeerConnection is closed")) }
            // W3C: an offer has a data section only once a data channel was created; a session
            // that starts with media offers media alone (a WHIP publisher, a WHEP viewer).
            if !s.createdChannel && s.negotiation.offersDataSection == nil { s.negotiation.offersDataSection = false }
            return Result { () throws(PeerConnectionError) in try s.negotiation.addTransceiver(settings) }
        }
        let id = try result.get()
        let transceiver = RtpTransceiver(id: id, kind: kind, ssrc: ssrc, core: self)
        media.add(transceiver, ssrc: ssrc, track: track)
        checkNegotiationNeeded()
        return transceiver
    }

    func addTrack(_ track: LocalTrack, streamIds: [String]) throws(PeerConnectionError) -> RtpSender {
        let existing = media.transceivers()
        if existing.contains(where: { $0.sender.track === track }) {
            throw PeerConnectionError(.invalidAccess, field: "track", reason: "a sender has this track already")
        }
        // W3C: reuse a transceiver of the kind with no track that never sent.
        let negotiated = negotiation { $0.transceivers }
        if let free = existing.first(where: { t in
            t.kind == track.kind && t.sender.track == nil
                && negotiated.contains { $0.id == t.id && !$0.isStopped && $0.createdByRemoteOffer && !($0.currentDirection?.sends ?? false) }
        }) {
            try free.sender.replaceTrack(track)
            let wanted = free.direction
            try setDirection(RtpTransceiverDirection(send: true, receive: wanted.receives), transceiver: free.id)
            return free.sender
        }
        return try addTransceiver(track.kind, direction: .sendrecv, streamIds: streamIds, track: track).sender
    }

    func setDirection(_ direction: RtpTransceiverDirection, transceiver id: Int) throws(PeerConnectionError) {
        let result = state.withLock { s -> Result<Bool, PeerConnectionError> in
            Result { () throws(PeerConnectionError) in try s.negotiation.setDirection(direction, ofTransceiver: id) }
        }
        _ = try result.get()
        checkNegotiationNeeded()
    }

    func stopTransceiver(_ id: Int) throws(PeerConnectionError) {
        let result = state.withLock { s -> Result<Void, PeerConnectionError> in
            Result { () throws(PeerConnectionError) in try s.negotiation.stopTransceiver(id) }
        }
        try result.get()
        checkNegotiationNeeded()
    }

    /// Whether a transceiver waits for an offer (W3C "check if negotiation is needed", the media
    /// part): one without a section, one whose wanted direction differs from the negotiated one,
    /// one stopped whose section is still accepted.
    static func mediaNeedsNegotiation(_ n: Negotiation) -> Bool {
        n.transceivers.contains { t in
            if t.isStopped {
                return t.mid.map { mid in n.negotiatedMedia.contains { $0.mid == mid && !$0.isRejected } } ?? false
            }
            guard let mid = t.mid, n.negotiatedMedia.contains(where: { $0.mid == mid }) else { return true }
            return t.currentDirection.map { $0 != t.direction } ?? false
        }
    }

    /// After a description was applied (operation chain, no lock held): transceiver objects for
    /// those a remote offer created (and none for those a rollback removed), the bindings from
    /// what the last completed exchange negotiated, then — for a remote description — the `track`
    /// events of sections that now receive.
    func syncMedia(remote: Bool) {
        let (transceivers, negotiated, remoteSdp) = state.withLock { s in
            (s.negotiation.transceivers, s.negotiation.negotiatedMedia, s.negotiation.remoteDescription?.sdp)
        }
        for t in transceivers where media.transceiver(t.id) == nil {
            let ssrc = t.settings.ssrc ?? UInt32.random(in: 1...UInt32.max)
            media.add(RtpTransceiver(id: t.id, kind: t.kind, ssrc: ssrc, core: self), ssrc: ssrc, track: nil)
        }
        media.retain(ids: Set(transceivers.map(\.id)))
        media.update(negotiated)
        guard remote, let remoteSdp, let sections = try? MediaDescription.sections(of: remoteSdp) else { return }
        var byMid: [String: MediaDescription] = [:]
        for section in sections.values { if let mid = section.mid, byMid[mid] == nil { byMid[mid] = section } }
        for t in transceivers where !t.isStopped {
            guard let mid = t.mid, let section = byMid[mid], !section.isRejected, section.direction.sends, t.direction.receives,
                let transceiver = media.transceiver(t.id)
            else { continue }
            let msid = section.msid.first
            let streamIds = msid.map { $0.streamId == "-" ? [] : [$0.streamId] } ?? []
            let made = media.announceRemoteTrack(t.id) {
                RemoteTrack(kind: t.kind, id: msid?.trackId ?? "remote-\(mid)", streamIds: streamIds, session: media, transceiverId: t.id)
            }
            guard let track = made else { continue }
            hub.emit(.track(TrackEvent(receiver: transceiver.receiver, track: track, streamIds: streamIds, transceiver: transceiver)))
        }
    }
}
