/// Local audio and video transceivers (W3C `addTransceiver`, `direction`, `stop()`).
extension Negotiation {
    /// At most this many transceivers in a session.
    public static let maximumTransceivers = 32

    /// W3C `addTransceiver(kind, init)`: a local transceiver; the next offer gives it a section
    /// (or a remote offer's section of its kind takes it).
    ///
    /// - Returns: Its ``MediaTransceiver/id``.
    /// - Throws: ``PeerConnectionError``: `invalidState` when closed; `typeError` for settings
    ///   that cannot go into SDP (field `streamIds`, `trackId`, `cname`) or more than
    ///   ``maximumTransceivers``.
    @discardableResult
    public mutating func addTransceiver(_ settings: MediaTransceiverInit) throws(PeerConnectionError) -> Int {
        guard signalingState != .closed else { throw Self.closedError("addTransceiver") }
        do { try settings.validate() } catch {
            throw PeerConnectionError(.typeError, field: error.field, reason: error.reason, sdpError: error)
        }
        guard transceivers.count < Self.maximumTransceivers else {
            throw PeerConnectionError(.typeError, reason: "more than \(Self.maximumTransceivers) transceivers")
        }
        return appendTransceiver(settings, createdByRemoteOffer: false, mid: nil)
    }

    /// W3C `transceiver.direction = …`: the direction the next offer or answer wants.
    ///
    /// - Returns: Whether negotiation is needed (the direction differs from the negotiated one
    ///   and the transceiver is not stopped).
    /// - Throws: ``PeerConnectionError/Code/invalidState`` when closed or the transceiver is
    ///   stopped; `typeError` for an unknown id.
    @discardableResult
    public mutating func setDirection(_ direction: RtpTransceiverDirection, ofTransceiver id: Int) throws(PeerConnectionError) -> Bool {
        let index = try transceiverIndex(id, "setDirection")
        guard !transceivers[index].isStopped else { throw PeerConnectionError(.invalidState, reason: "the transceiver is stopped") }
        transceivers[index].settings.direction = direction
        return transceivers[index].currentDirection != direction
    }

    /// W3C `transceiver.stop()`: its section is rejected by the next offer or answer.
    ///
    /// - Throws: ``PeerConnectionError``: `invalidState` when closed, `typeError` for an unknown id.
    public mutating func stopTransceiver(_ id: Int) throws(PeerConnectionError) {
        let index = try transceiverIndex(id, "stop")
        transceivers[index].isStopped = true
    }

    /// The transceiver whose section has `mid`.
    public func transceiver(mid: String) -> MediaTransceiver? {
        transceivers.first { $0.mid == mid }
    }

    func transceiverIndex(_ id: Int, _ call: String) throws(PeerConnectionError) -> Int {
        guard signalingState != .closed else { throw Self.closedError(call) }
        guard let index = transceivers.firstIndex(where: { $0.id == id }) else {
            throw PeerConnectionError(.typeError, field: "id", reason: "no transceiver has id \(id)")
        }
        return index
    }

    mutating func appendTransceiver(_ settings: MediaTransceiverInit, createdByRemoteOffer: Bool, mid: String?) -> Int {
        let id = nextTransceiverId
        nextTransceiverId += 1
        transceivers.append(
            MediaTransceiver(
                id: id, settings: settings, mid: mid, currentDirection: nil, isStopped: false, createdByRemoteOffer: createdByRemoteOffer))
        return id
    }

    /// A local offer applied: each of its audio and video sections whose mid no transceiver has
    /// goes to the first transceiver of its kind without a mid (as createOffer laid them out).
    mutating func associateTransceivers(with offer: AppliedDescription) {
        for index in offer.media.keys.sorted() {
            guard let section = offer.media[index], let mid = section.mid, !section.isRejected,
                !transceivers.contains(where: { $0.mid == mid }),
                let free = transceivers.firstIndex(where: { $0.mid == nil && !$0.isStopped && $0.kind == section.kind })
            else { continue }
            transceivers[free].mid = mid
        }
    }

    /// A rollback: the transceivers of the stable state get their mids back; those a rolled-back
    /// remote offer created go; those added since lose the mid the offer gave them.
    mutating func restoreTransceivers(_ saved: [MediaTransceiver]) {
        transceivers = transceivers.compactMap { transceiver in
            var transceiver = transceiver
            if let old = saved.first(where: { $0.id == transceiver.id }) {
                transceiver.mid = old.mid
                return transceiver
            }
            guard !transceiver.createdByRemoteOffer else { return nil }
            transceiver.mid = nil
            return transceiver
        }
    }
}
