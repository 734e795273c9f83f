// Mode 4 of the data-channel fuzzer: the JSEP core (Negotiation) driven by a script.
//
// Two Negotiation values, A and B, exchange descriptions; the script's bytes pick each step:
// offers (with or without an ICE restart), answers and pranswers, deliveries, rollbacks,
// restartIce(), close(), trickled candidates, audio and video transceivers (added with a kind,
// direction and SSRCs, redirected, stopped; B accepts remote media, A only with its own
// transceivers), offersDataSection set to nil, false or true on either side (so some sessions
// never have a data section, and some get one from a later offer), and hostile input: a delivered description
// mutated line by line with the script's own bytes, raw script text as a description of any
// type, fuzzed RTCIceCandidateInit values for route(). After every step both values must be
// consistent:
//   - the signalling state matches the pending descriptions (W3C), localDescription and
//     remoteDescription are pending ?? current, a completed exchange has both current ones;
//   - a decided DTLS role is client or server; the data mid and index are known together;
//     once a description is applied the ICE role is known;
//   - a call that throws leaves the value as it was (except W3C's implicit rollback of an
//     offer in have-local-offer), and throws InvalidStateError when closed;
//   - route() adds only candidates with the mid and index of a section of the transport's BUNDLE
//     group (the data section's, or in a media-only session the first audio/video section's);
//   - startSctp comes at most once per side, only from a completed exchange with a data
//     section; in stable, a data mid is known exactly when the current local description has a
//     data section;
//   - transceivers have distinct mids; negotiatedMedia has distinct mids, each accepted entry
//     with a codec and a transceiver;
//   - when both sides are stable on the same exchange (each one's current local description is
//     the other's current remote one), each side's remote credentials are the other's local
//     ones, the DTLS roles are opposite, and so are the ICE roles unless signalling lost an
//     answer on the way, or once it paired an answer with another offer than the one it
//     answered (then only ICE's role-conflict repair can tell); both have the same
//     media sections, accepted or rejected alike, with the same codecs and opposite directions.

import NiceICECore

#if canImport(Glibc)
import Glibc
#endif

private struct Observed: Equatable {
    var state: SignalingState
    var descriptions: [SessionDescription?]
    var iceRole: IceRole?
    var dtlsRole: DtlsRole?
    var mid: String?
    var index: Int?
    var remoteIce: IceParameters?
    var localIce: IceParameters
    var restartPending: Bool
    var transceivers: [MediaTransceiver]

    init(_ n: Negotiation) {
        state = n.signalingState
        descriptions = [n.currentLocalDescription, n.pendingLocalDescription, n.currentRemoteDescription, n.pendingRemoteDescription]
        iceRole = n.iceRole
        dtlsRole = n.dtlsRole
        mid = n.dataMid
        index = n.dataMLineIndex
        remoteIce = n.remoteIce
        localIce = n.local.ice
        restartPending = n.restartPending
        transceivers = n.transceivers
    }
}

private struct Script {
    var bytes: [UInt8]
    var position = 0
    var done: Bool { position >= bytes.count }
    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }
    /// A chunk of the script as text: a length byte, then that many bytes (lossy UTF-8).
    mutating func text() -> String {
        let count = min(Int(byte()), bytes.count - position)
        defer { position += count }
        return String(decoding: bytes[position..<position + count], as: UTF8.self)
    }
}

private func fingerprint(_ seed: UInt8) -> DtlsFingerprint? {
    try? DtlsFingerprint(algorithm: .sha256, digest: (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 11 &+ Int(seed)) })
}

func checkNegotiation(_ input: [UInt8]) {
    guard let fa = fingerprint(1), let fb = fingerprint(2) else { violation("test fingerprints") }
    var peers = [
        Negotiation(local: LocalTransportValues(ice: IceParameters(usernameFragment: "AAAA", password: "aaaaaaaaaaaaaaaaaaaaaaaa"), fingerprints: [fa]), sessionId: 1),
        Negotiation(local: LocalTransportValues(ice: IceParameters(usernameFragment: "BBBB", password: "bbbbbbbbbbbbbbbbbbbbbbbb"), fingerprints: [fb]), sessionId: 2),
    ]
    peers[1].remoteMediaPolicy = .accept(direction: .sendrecv)
    var wire: [SessionDescription?] = [nil, nil]   // the last description each side sent
    // Answers a side applied that the other side has not: signalling lost them, so the two
    // sides may disagree on who offered last, and with it on the ICE role (ICE's role-conflict
    // repair, RFC 8445 §7.3.1.1, settles that at run time: no SDP attribute carries the role).
    var undelivered: [Set<String>] = [[], []]
    // The offer each side's answers answered (by SDP), and whether signalling ever paired an
    // answer with another offer than the one it answered (a lost offer, then an old answer
    // applied to a newer one): from then on the two sides may disagree on who restarted ICE
    // last, so on the ICE role, which again only ICE's role-conflict repair settles.
    var answered: [[String: String]] = [[:], [:]]
    var mispaired = false
    var sctpStarts = [0, 0]
    var generation = 0
    var script = Script(bytes: input)
    var steps = 0
    while !script.done, steps < 64 {
        steps += 1
        let op = script.byte()
        let side = Int(op & 1)
        let other = 1 - side
        let before = Observed(peers[side])
        func fresh() -> IceParameters {
            generation += 1
            let tag = String(generation)
            return IceParameters(usernameFragment: "G" + tag + "xxx", password: "p" + tag + String(repeating: "x", count: 24))
        }
        // Runs a call on `side`; a throw must leave it unchanged (or rolled back) and be
        // InvalidStateError when closed.
        func attempt(_ name: String, rollbackAllowed: Bool = false, _ body: (inout Negotiation) throws(PeerConnectionError) -> [NegotiationEffect]) {
            do {
                let effects = try body(&peers[side])
                for effect in effects {
                    guard case .startSctp = effect else { continue }
                    sctpStarts[side] += 1
                    if sctpStarts[side] > 1 { violation("\(name): a second startSctp") }
                    guard let remote = peers[side].currentRemoteDescription, let local = peers[side].currentLocalDescription,
                        (try? DataChannelDescription(parsing: remote.sdp)) != nil, (try? DataChannelDescription(parsing: local.sdp)) != nil,
                        peers[side].signalingState == .stable
                    else { violation("\(name): startSctp without a completed exchange with a data section") }
                }
            } catch {
                if before.state == .closed, error.code != .invalidState { violation("\(name) on a closed session threw \(error)") }
                let after = Observed(peers[side])
                if after != before {
                    let rolledBack = rollbackAllowed && before.state == .haveLocalOffer && after.state == .stable
                        && peers[side].pendingLocalDescription == nil
                    if !rolledBack { violation("\(name) threw \(error.code) but changed the state \(before.state) → \(after.state)") }
                }
            }
        }
        switch (op >> 1) % 13 {
        case 0:   // offer, maybe restarting, and apply it
            let restart = script.byte() & 1 == 1
            let ice = fresh()
            attempt("offer") { n throws(PeerConnectionError) in
                let offer = try n.createOffer(iceRestart: restart, newIce: ice)
                let effects = try n.setLocalDescription(offer)
                wire[side] = offer
                return effects
            }
        case 1:   // answer or pranswer, and apply it
            let type: SdpType = script.byte() & 1 == 1 ? .pranswer : .answer
            let ice = fresh()
            let offer = peers[side].pendingRemoteDescription?.sdp
            attempt("answer") { n throws(PeerConnectionError) in
                let answer = try n.createAnswer(newIce: ice)
                let description = SessionDescription(type: type, sdp: answer.sdp)
                let effects = try n.setLocalDescription(description)
                wire[side] = description
                undelivered[side].insert(description.sdp)
                if let offer { answered[side][description.sdp] = offer }
                return effects
            }
        case 2:   // deliver the other side's last description
            guard let description = wire[other] else { continue }
            let pendingOffer = peers[side].pendingLocalDescription?.sdp
            attempt("deliver", rollbackAllowed: true) { n throws(PeerConnectionError) in
                let effects = try n.setRemoteDescription(description)
                undelivered[other].remove(description.sdp)
                if description.type != .offer, answered[other][description.sdp] != pendingOffer { mispaired = true }
                return effects
            }
        case 3:   // rollback, local or remote
            let local = script.byte() & 1 == 1
            attempt("rollback") { n throws(PeerConnectionError) in
                let rollback = SessionDescription(type: .rollback, sdp: "")
                return try local ? n.setLocalDescription(rollback) : n.setRemoteDescription(rollback)
            }
        case 4:
            _ = peers[side].restartIce()
        case 5:   // the other side's last description, one line replaced, inserted or deleted
            guard let description = wire[other] else { continue }
            var lines = description.sdp.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            let at = Int(script.byte()) % max(lines.count, 1)
            let how = script.byte() % 3
            let text = script.text()
            if how == 0, lines.indices.contains(at) { lines[at] = text } else if how == 1 { lines.insert(text, at: min(at, lines.count)) } else if lines.indices.contains(at) { lines.remove(at: at) }
            let type = SdpType.allCases[Int(script.byte()) % SdpType.allCases.count]
            let mutated = SessionDescription(type: type, sdp: lines.joined(separator: "\r\n"))
            attempt("mutated \(type)", rollbackAllowed: true) { n throws(PeerConnectionError) in try n.setRemoteDescription(mutated) }
        case 6:   // raw script text as a remote or local description of any type
            let type = SdpType.allCases[Int(script.byte()) % SdpType.allCases.count]
            let local = script.byte() & 1 == 1
            let text = script.text()
            attempt("raw \(type)", rollbackAllowed: !local) { n throws(PeerConnectionError) in
                let description = SessionDescription(type: type, sdp: text)
                return try local ? n.setLocalDescription(description) : n.setRemoteDescription(description)
            }
        case 7:   // a fuzzed RTCIceCandidateInit
            let flags = script.byte()
            let candidate = flags & 1 == 1 ? script.text() : "candidate:1 1 udp 2122260223 192.0.2.\(script.byte()) 5000 typ host"
            let mid: String? = flags & 2 == 2 ? (flags & 4 == 4 ? script.text() : peers[side].dataMid) : nil
            let index: Int? = flags & 8 == 8 ? Int(script.byte()) - 2 : nil
            let ufrag: String? = flags & 16 == 16 ? (flags & 32 == 32 ? script.text() : peers[other].local.ice.usernameFragment) : nil
            checkRoute(peers[side], IceCandidateInit(candidate: candidate, sdpMid: mid, sdpMLineIndex: index, usernameFragment: ufrag))
        case 8:   // a local candidate trickled to the other side
            let host = "candidate:\(script.byte()) 1 udp 2122260223 198.51.100.\(script.byte()) 6000 typ host"
            guard let candidate = try? IceCandidate(parsing: host) else { violation("a valid host candidate did not parse") }
            let end = script.byte() & 1 == 1
            if let trickled = peers[side].trickled(end ? nil : candidate) {
                if let local = peers[side].localDescription, !isTransportSection(trickled.sdpMid, trickled.sdpMLineIndex, of: local.sdp) {
                    violation("a trickled candidate without the mid and index of the local description's transport")
                }
                checkRoute(peers[other], trickled)
            }
        case 10:  // a transceiver: kind, direction, SSRCs from the script
            let flags = script.byte()
            let kind: MediaKind = flags & 1 == 1 ? .video : .audio
            let direction = RtpTransceiverDirection.allCases[Int(flags >> 1) % 4]
            let ssrc: UInt32? = flags & 8 == 8 ? UInt32(script.byte()) + 1 : nil
            let settings = MediaTransceiverInit(
                kind: kind, direction: direction, streamIds: flags & 16 == 16 ? [script.text()] : [], ssrc: ssrc,
                rtxSsrc: flags & 32 == 32 ? ssrc.map { $0 + 1000 } : nil)
            attempt("addTransceiver") { n throws(PeerConnectionError) in
                _ = try n.addTransceiver(settings)
                return []
            }
        case 11:  // redirect or stop a transceiver
            let flags = script.byte()
            guard !peers[side].transceivers.isEmpty else { continue }
            let id = peers[side].transceivers[Int(flags >> 3) % peers[side].transceivers.count].id
            attempt("transceiver") { n throws(PeerConnectionError) in
                if flags & 4 == 4 { try n.stopTransceiver(id) } else { _ = try n.setDirection(RtpTransceiverDirection.allCases[Int(flags) % 4], ofTransceiver: id) }
                return []
            }
        case 12:  // offersDataSection: nil, false (media-only offers) or true (a data section added later)
            let choice = script.byte() % 3
            peers[side].offersDataSection = choice == 0 ? nil : choice == 2
        default:
            if script.byte() == 0xFF { peers[side].close() }
        }
        if tracing {
            trace("step \(steps) op \(op) side \(side) kind \((op >> 1) % 13): A \(peers[0].signalingState) \(peers[0].iceRole?.rawValue ?? "-") "
                + "\(peers[0].local.ice.usernameFragment)/\(peers[0].remoteIce?.usernameFragment ?? "-"), "
                + "B \(peers[1].signalingState) \(peers[1].iceRole?.rawValue ?? "-") \(peers[1].local.ice.usernameFragment)/\(peers[1].remoteIce?.usernameFragment ?? "-")")
        }
        for n in peers { checkConsistent(n) }
        checkAgreement(peers[0], peers[1], rolesKnownToBoth: undelivered[0].isEmpty && undelivered[1].isEmpty && !mispaired)
    }
}

/// NEGOTIATION_TRACE=1 prints each step of a replayed input on stderr.
private let tracing = getenv("NEGOTIATION_TRACE") != nil

private func trace(_ message: String) {
    writeToStandardError(message + "\n")
}

private func checkRoute(_ n: Negotiation, _ candidate: IceCandidateInit) {
    do {
        let route = try n.route(candidate)
        if case .add(let added) = route {
            guard let remote = n.remoteDescription else { violation("route added a candidate without a remote description") }
            guard isTransportSection(added.sdpMid, added.sdpMLineIndex, of: remote.sdp) else { violation("route added a candidate with another mid or index") }
        }
    } catch {
        if n.signalingState == .closed, error.code != .invalidState { violation("route on a closed session threw \(error)") }
        if n.remoteDescription == nil, n.signalingState != .closed, error.code != .invalidState, error.code != .typeError {
            violation("route without a remote description threw \(error.code)")
        }
    }
}

/// Whether `mid` and `index` name the anchor section of `sdp` (its data section, or without one
/// the first audio/video section with a port of its BUNDLE group) or a section of the anchor's
/// BUNDLE group.
private func isTransportSection(_ mid: String?, _ index: Int?, of sdp: String) -> Bool {
    guard let applied = try? AppliedDescription(SessionDescription(type: .offer, sdp: sdp)) else { return false }
    if mid == applied.mids[applied.anchorIndex], index == applied.anchorIndex { return true }
    guard let mid, let index, applied.mids.indices.contains(index), applied.mids[index] == mid else { return false }
    return applied.transportMids.contains(mid)
}

private func checkConsistent(_ n: Negotiation) {
    let mids = n.transceivers.compactMap(\.mid)
    if Set(mids).count != mids.count { violation("two transceivers with one mid") }
    if Set(n.negotiatedMedia.map(\.mid)).count != n.negotiatedMedia.count { violation("negotiatedMedia lists a mid twice") }
    for media in n.negotiatedMedia where !media.isRejected {
        if !media.codecs.contains(where: { !$0.isRtx }) || media.transceiverId == nil { violation("accepted media \(media.mid) without a codec or transceiver") }
    }
    let pendingLocal = n.pendingLocalDescription != nil
    let pendingRemote = n.pendingRemoteDescription != nil
    switch n.signalingState {
    case .stable: if pendingLocal || pendingRemote { violation("stable with a pending description") }
    case .haveLocalOffer: if !pendingLocal || pendingRemote { violation("have-local-offer without exactly a pending local offer") }
    case .haveRemoteOffer: if pendingLocal || !pendingRemote { violation("have-remote-offer without exactly a pending remote offer") }
    case .haveLocalPranswer, .haveRemotePranswer: if !pendingLocal || !pendingRemote { violation("a pranswer state without both pending descriptions") }
    case .closed: break
    }
    if n.localDescription != (n.pendingLocalDescription ?? n.currentLocalDescription) { violation("localDescription is not pending ?? current") }
    if n.remoteDescription != (n.pendingRemoteDescription ?? n.currentRemoteDescription) { violation("remoteDescription is not pending ?? current") }
    if (n.currentLocalDescription == nil) != (n.currentRemoteDescription == nil) { violation("one current description without the other") }
    if n.dtlsRole == .auto { violation("the DTLS role is decided as auto") }
    if (n.dataMid == nil) != (n.dataMLineIndex == nil) && n.dataMLineIndex == nil { violation("a data mid without an index") }
    if n.localDescription != nil || n.remoteDescription != nil, n.iceRole == nil { violation("a description applied but no ICE role") }
    if n.currentLocalDescription != nil, n.dtlsRole == nil { violation("a completed exchange without a DTLS role") }
    if n.signalingState == .stable, let local = n.currentLocalDescription,
        ((try? DataChannelDescription(parsing: local.sdp)) == nil) != (n.dataMLineIndex == nil)
    {
        violation("stable: data index \(n.dataMLineIndex.map(String.init) ?? "nil") but the local description \(n.dataMLineIndex == nil ? "has" : "lacks") a data section")
    }
}

private func checkAgreement(_ a: Negotiation, _ b: Negotiation, rolesKnownToBoth: Bool) {
    guard a.signalingState == .stable, b.signalingState == .stable,
          let aLocal = a.currentLocalDescription, aLocal == b.currentRemoteDescription,
          let bLocal = b.currentLocalDescription, bLocal == a.currentRemoteDescription
    else { return }
    if a.remoteIce != b.local.ice || b.remoteIce != a.local.ice { violation("stable on one exchange but the credentials disagree") }
    if rolesKnownToBoth, a.iceRole == b.iceRole { violation("stable on one exchange but both ICE \(a.iceRole?.rawValue ?? "nil")") }
    if a.dtlsRole == b.dtlsRole { violation("stable on one exchange but both DTLS \(a.dtlsRole?.rawValue ?? "nil")") }
    if a.dataMid != b.dataMid || a.dataMLineIndex != b.dataMLineIndex { violation("stable on one exchange but the data mids differ") }
    if a.negotiatedMedia.map(\.mid) != b.negotiatedMedia.map(\.mid) || a.negotiatedMedia.map(\.isRejected) != b.negotiatedMedia.map(\.isRejected) {
        violation("stable on one exchange but the media sections differ")
    }
    for (x, y) in zip(a.negotiatedMedia, b.negotiatedMedia) where !x.isRejected {
        if x.codecs.map(\.payloadType) != y.codecs.map(\.payloadType) { violation("mid \(x.mid): the payload types differ") }
        if x.direction != y.direction.reversed { violation("mid \(x.mid): directions \(x.direction) and \(y.direction) are not opposite") }
    }
}
