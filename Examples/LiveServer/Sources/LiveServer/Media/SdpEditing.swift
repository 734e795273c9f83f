import NiceWebRTC

/// The few SDP text edits the server makes: its gathered candidates into an answer (the
/// library signals candidates after the description, a WHIP/WHEP answer carries them), and a
/// client's ICE restart (RFC 9725 §4.4.1.2) turned into a new remote offer.
enum SdpEditing {
    /// `sdp` with `candidates` (and `a=end-of-candidates` when `complete`) at the end of its
    /// first `m=` section (the BUNDLE transport's section: one transport whatever the policy).
    static func adding(candidates: [IceCandidateInit], complete: Bool, to sdp: String) -> String {
        var lines = sdp.split(omittingEmptySubsequences: false, whereSeparator: Self.isLineEnd).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        var mediaLines = lines.indices.filter { lines[$0].hasPrefix("m=") }
        guard !mediaLines.isEmpty else { return sdp }
        mediaLines.removeFirst()
        let end = mediaLines.first ?? lines.count
        var added = candidates.filter { !$0.isEndOfCandidates }.map { "a=" + $0.candidate }
        if complete { added.append("a=end-of-candidates") }
        lines.insert(contentsOf: added, at: end)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// `sdp` with every `a=ice-ufrag`/`a=ice-pwd` value replaced and no candidate or
    /// end-of-candidates line: the client's current description as it would offer it again with
    /// new credentials (its candidates then come by trickle).
    static func replacingCredentials(in sdp: String, ufrag: String, password: String) -> String {
        var out: [String] = []
        for raw in sdp.split(omittingEmptySubsequences: false, whereSeparator: Self.isLineEnd) {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.hasPrefix("a=candidate:") || line == "a=end-of-candidates" { continue }
            if line.hasPrefix("a=ice-ufrag:") {
                out.append("a=ice-ufrag:" + ufrag)
            } else if line.hasPrefix("a=ice-pwd:") {
                out.append("a=ice-pwd:" + password)
            } else {
                out.append(line)
            }
        }
        if out.last == "" { out.removeLast() }
        return out.joined(separator: "\r\n") + "\r\n"
    }

    /// LF or CRLF (a Swift `Character` of its own: splitting at "\n" alone would miss it).
    static func isLineEnd(_ c: Character) -> Bool { c == "\n" || c == "\r\n" }

    /// Whether `value` is a valid ufrag (4–256) or password (22–256) of ice-chars (RFC 8839 §5.4).
    static func isIceChars(_ value: String, minimum: Int) -> Bool {
        (minimum...256).contains(value.utf8.count)
            && value.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2B || c == 0x2F
            }
    }
}
