// SDP inputs through the audio/video layer of NiceWebRTCCore (Negotiation/Media):
//   - MediaDescription.sections(of:) never crashes; it throws only SdpErrors with a field, a
//     reason and (for malformed lines and invalid values) a line of the text;
//   - every section it reads writes back to text that reads to the same value and writes again
//     to the same text (the writer is deterministic);
//   - a Negotiation that accepts remote media either refuses the text as an offer with a typed
//     error or answers it, and then the answer reads back: its audio/video sections parse, every
//     accepted one has a codec with a payload type of the offer and is in the answer's BUNDLE
//     group, and negotiatedMedia agrees with the answer.

import NiceICECore

func checkMediaSDP(_ sdp: String) {
    let sections: [Int: MediaDescription]
    do {
        sections = try MediaDescription.sections(of: sdp)
    } catch {
        guard error.field != nil, !error.reason.isEmpty else { violation("a media SdpError without a field or reason: \(error)") }
        if error.code == .malformed || error.code == .invalidValue, error.field != "sdp", error.line == nil {
            violation("a media SdpError \(error.code) without a line: \(error)")
        }
        return
    }
    for (index, section) in sections {
        let text = section.sdpLines()
        guard let again = try? MediaDescription(parsing: text) else { violation("section \(index) written does not read back:\n\(text)") }
        if again != section { violation("section \(index) does not round-trip:\n\(text)") }
        if again.sdpLines() != text { violation("section \(index) writes differently the second time") }
    }
    checkMediaAnswer(sdp)
}

private func checkMediaAnswer(_ sdp: String) {
    guard let fingerprint = try? DtlsFingerprint(algorithm: .sha256, digest: [UInt8](repeating: 7, count: 32)) else { violation("fingerprint") }
    var n = Negotiation(
        local: LocalTransportValues(ice: IceParameters(usernameFragment: "MMMM", password: "mmmmmmmmmmmmmmmmmmmmmmmm"), fingerprints: [fingerprint]),
        sessionId: 9)
    n.remoteMediaPolicy = .accept(direction: .sendrecv)
    do {
        _ = try n.setRemoteDescription(SessionDescription(type: .offer, sdp: sdp))
    } catch {
        if n.signalingState != .stable || !n.transceivers.isEmpty { violation("a refused offer changed the negotiation") }
        return
    }
    let answer: SessionDescription
    do {
        answer = try n.createAnswer()
        _ = try n.setLocalDescription(answer)
    } catch {
        return  // an offer whose data section cannot be answered (our DTLS role, …): typed
    }
    guard let offered = try? MediaDescription.sections(of: sdp), let answered = try? MediaDescription.sections(of: answer.sdp),
        let ice = try? IceDescription(parsing: answer.sdp)
    else { violation("our answer's media sections do not read:\n\(answer.sdp)") }
    let group = Set(ice.bundleGroups.first ?? [])
    for (index, section) in answered where !section.isRejected {
        guard let offer = offered[index] else { violation("the answer accepts m-line \(index), which is not audio/video in the offer") }
        let types = Set(offer.codecs.map(\.payloadType))
        if !section.codecs.contains(where: { !$0.isRtx }) || !section.codecs.allSatisfy({ types.contains($0.payloadType) }) {
            violation("accepted section \(index) has no codec or a payload type the offer lacks")
        }
        guard let mid = section.mid, mid == offer.mid, group.contains(mid) else { violation("accepted section \(index) is not bundled under its mid") }
        guard let media = n.negotiatedMedia.first(where: { $0.mid == mid }), !media.isRejected, media.codecs == section.codecs else {
            violation("negotiatedMedia disagrees with the answer for mid \(mid)")
        }
    }
    for media in n.negotiatedMedia where !media.isRejected {
        if answered[media.mLineIndex]?.isRejected ?? true { violation("negotiatedMedia accepts mid \(media.mid), which the answer rejects") }
    }
}
