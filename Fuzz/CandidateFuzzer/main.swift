// libFuzzer entry point for the NiceICE text parsers.
//
// Built by Fuzz/run.sh together with the library sources (no module import: everything is one
// module), so internal helpers are visible. Invariants checked on every input:
// - no parser crashes, traps or hangs on any input;
// - a parsed candidate prints to a line that parses back to an equal candidate, and printing
//   that again gives the same bytes;
// - every media section of a parsed SDP, written with IceDescription.attributeLines and read
//   back, yields the same ICE values;
// - IceParameters.validate() never reveals the password in its error.

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    checkCandidate(text)
    checkDescription(text)
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
        let section = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
            + (media.mid.map { "a=mid:\($0)\r\n" } ?? "")
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
    #if canImport(Glibc)
    let line = "NiceICE fuzz invariant violated: " + message + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { buffer in
        write(2, buffer.baseAddress, buffer.count - 1)
    }
    #endif
    preconditionFailure(message)
}
