// libFuzzer entry point for the NiceICE text parsers.
//
// Built by Fuzz/run.sh together with the library sources (no module import: everything is one
// module), so internal helpers are visible. Invariants checked on every input:
// - no parser crashes, traps or hangs on any input;
// - a parsed candidate prints to a line that parses back to an equal candidate, and printing
//   that again gives the same bytes;
// - every media section of a parsed SDP, written (m= line, a=mid, a=bundle-only and
//   IceDescription.attributeLines) and read back, yields the same values;
// - a parsed SDP's BUNDLE groups are non-empty, name existing sections, share no mid, and every
//   bundled mid's transport is its group's first section; mids are unique;
// - an IceAnswer to a parsed SDP either throws a typed error or covers every m= line, with one
//   ufrag/password for every accepted section, candidates only in the transport's section, and
//   reads back with exactly its BUNDLE group; the offer's own candidates route to the transport
//   exactly when they are in its section;
// - IceParameters.validate() never reveals the password in its error.

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    checkCandidate(text)
    checkDescription(text)
    checkAnswer(text)
    checkParameters(text)
    return 0
}

private func checkCandidate(_ text: String) {
    guard let candidate = try? IceCandidate(parsing: text, sdpMid: "m", sdpMLineIndex: 1) else { return }
    let line = candidate.candidateLine
    guard let reparsed = try? IceCandidate(parsing: line, sdpMid: "m", sdpMLineIndex: 1) else {
        violation("printed candidate does not parse: \(line)")
    }
    guard reparsed == candidate, reparsed.hashValue == candidate.hashValue else {
        violation("candidate round-trip changed the value: \(line)")
    }
    guard reparsed.candidateLine == line else {
        violation("candidate printing is not stable: \(line)")
    }
    do {
        try candidate.validate()
    } catch {
        violation("parsed candidate fails validate(): \(error)")
    }
    _ = candidate.isMulticastDNS
    _ = candidate.addressFamily
}

private func checkDescription(_ text: String) {
    guard let description = try? IceDescription(parsing: text) else { return }
    for media in description.media {
        guard let ufrag = media.usernameFragment, let password = media.password else { continue }
        let section = "m=\(media.kind) \(media.port) UDP/DTLS/SCTP webrtc-datachannel\r\n"
            + (media.mid.map { "a=mid:\($0)\r\n" } ?? "")
            + (media.bundleOnly ? "a=bundle-only\r\n" : "")
            + IceDescription.attributeLines(
                ufrag: ufrag,
                password: password,
                options: media.options,
                candidates: media.candidates,
                endOfCandidates: media.endOfCandidates
            )
        guard let reread = try? IceDescription(parsing: section), reread.media.count == 1 else {
            violation("written media section does not parse")
        }
        var expected = media
        expected.mLineIndex = 0
        expected.candidates = media.candidates.map { candidate in
            var candidate = candidate
            candidate.sdpMLineIndex = 0
            return candidate
        }
        guard reread.media[0] == expected else {
            violation("media section write/read changed the values")
        }
    }
    checkBundle(description)
}

private func checkBundle(_ description: IceDescription) {
    let mids = description.media.compactMap(\.mid)
    guard Set(mids).count == mids.count else { violation("two media sections share a mid") }
    let bundled = description.bundleGroups.flatMap { $0 }
    guard Set(bundled).count == bundled.count else { violation("a mid is in two BUNDLE groups, or twice in one") }
    let known = Set(mids)
    var lookups = 0  // transportMedia(for:) is linear: spot-check a few mids, so big inputs stay fast
    for group in description.bundleGroups {
        guard let tag = group.first else { violation("an empty BUNDLE group is listed") }
        for mid in group {
            guard known.contains(mid) else { violation("a BUNDLE mid names no section") }
            lookups += 1
            if lookups <= 16, description.transportMedia(for: mid)?.mid != tag {
                violation("a bundled mid's transport is not its tag")
            }
        }
    }
    for media in description.media where media.isRejected != (media.port == 0 && !media.bundleOnly) {
        violation("isRejected disagrees with port and bundle-only")
    }
}

private let answerParameters = IceParameters(usernameFragment: "fuzz", password: "fuzzfuzzfuzzfuzzfuzzfu")
private let answerCandidate = IceCandidate(foundation: "1", priority: 2015363327, address: "192.0.2.1", port: 45678, type: .host)

private func checkAnswer(_ text: String) {
    guard let offer = try? IceDescription(parsing: text) else { return }
    let answer: IceAnswer
    do {
        answer = try IceAnswer(offer: offer, parameters: answerParameters, candidates: [answerCandidate], endOfCandidates: true)
    } catch {
        guard error.code == .invalidSDP, ["a=group", "a=ice-ufrag", "a=ice-pwd"].contains(error.field ?? "") else {
            violation("IceAnswer threw an unexpected error: \(error)")
        }
        return
    }
    guard answer.media.count == offer.media.count,
          answer.media.map(\.mid) == offer.media.map(\.mid),
          answer.media.enumerated().allSatisfy({ $0.offset == $0.element.mLineIndex })
    else { violation("the answer does not cover every m= line in order") }
    let accepted = answer.media.filter(\.isAccepted)
    guard accepted.isEmpty == (answer.transportMLineIndex == nil),
          answer.transportMLineIndex.map({ answer.media[$0].isAccepted }) ?? true,
          accepted.allSatisfy({ !offer.media[$0.mLineIndex].isRejected }),
          answer.media.allSatisfy({ $0.isAccepted || $0.attributeLines.isEmpty }),
          answer.bundleGroup.allSatisfy({ mid in accepted.contains { $0.mid == mid } }),
          answer.bundleGroup.isEmpty || answer.bundleGroup.first == answer.transportMid
    else { violation("accepted sections, transport and BUNDLE group disagree") }

    var sdp = "v=0\r\n" + answer.sessionLines
    for section in answer.media {
        sdp += "m=\(section.kind) \(section.isAccepted ? 9 : 0) UDP/TLS/RTP/SAVPF 0\r\n"
            + (section.mid.map { "a=mid:\($0)\r\n" } ?? "") + section.attributeLines
    }
    guard let reread = try? IceDescription(parsing: sdp) else { violation("the spliced answer does not parse") }
    guard reread.bundleGroups == (answer.bundleGroup.isEmpty ? [] : [answer.bundleGroup]) else {
        violation("the answer's BUNDLE group does not read back")
    }
    for (index, media) in reread.media.enumerated() {
        let isTransport = index == answer.transportMLineIndex
        if answer.media[index].isAccepted {
            guard media.parameters == answerParameters, media.options == ["trickle"],
                  media.candidates.map(\.candidateLine) == (isTransport ? [answerCandidate.candidateLine] : []),
                  media.endOfCandidates == isTransport
            else { violation("an accepted section's ICE lines do not read back") }
        } else {
            guard media.isRejected, media.parameters == nil, media.candidates.isEmpty else {
                violation("a rejected section reads back with ICE values")
            }
        }
    }
    for media in offer.media {
        for candidate in media.candidates {
            guard let routed = try? answer.isTransportCandidate(candidate) else {
                violation("an offered candidate names no section")
            }
            guard routed == (media.mLineIndex == answer.transportMLineIndex) else {
                violation("an offered candidate is routed to the wrong transport")
            }
        }
    }
    if let transport = answer.transportMLineIndex {
        guard let trickled = answer.trickled(answerCandidate),
              trickled.sdpMLineIndex == transport, trickled.sdpMid == answer.media[transport].mid,
              (try? answer.isTransportCandidate(trickled)) == true
        else { violation("a trickled local candidate does not name the transport") }
    }
}

private func checkParameters(_ text: String) {
    // Split the input at its first newline: ufrag before, password after.
    let bytes = Array(text.utf8)
    let split = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
    let ufrag = String(decoding: bytes[..<split], as: UTF8.self)
    let password = String(decoding: bytes[min(split + 1, bytes.count)...], as: UTF8.self)
    let parameters = IceParameters(usernameFragment: ufrag, password: password)
    do {
        try parameters.validate()
    } catch {
        if password.utf8.count >= 8, error.field == "password", error.reason.contains(password) {
            violation("validate() leaked the password")
        }
    }
    guard parameters.description == "IceParameters(ufrag: " + ufrag + ", password: <redacted>)" else {
        violation("description is not redacted")
    }
}

/// Reports a broken invariant on stderr (unbuffered, so it survives the trap) and traps,
/// which libFuzzer records as a crash with its reproducer.
private func violation(_ message: String) -> Never {
    invariantViolated("NiceICE", message)
}
