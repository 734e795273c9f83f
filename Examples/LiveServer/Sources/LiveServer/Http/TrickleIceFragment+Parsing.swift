// RFC 8840 `application/trickle-ice-sdpfrag` bodies (the WHIP/WHEP PATCH, RFC 9725 §4.4): parsing
// a client's fragment into ``TrickleIceFragment`` and writing the server's (the 200 body of an ICE
// restart).
import NiceWebRTC

extension TrickleIceFragment {
    /// The most lines a fragment may have (a browser sends a handful; each candidate is one).
    static let maxLines = 512
    /// The longest line accepted (a candidate line is well under 300 bytes).
    static let maxLineBytes = 1024

    /// Parses an sdpfrag body.
    ///
    /// Accepted: `a=ice-ufrag` / `a=ice-pwd` at session level or in media sections (they must
    /// agree), `m=` lines opening media sections, `a=mid`, `a=candidate`, `a=end-of-candidates`;
    /// other `a=` attributes (`ice-options`, `group`…) and other line types are ignored. CRLF or
    /// LF. Each candidate gets its section's mid and index and the ufrag in effect; a candidate
    /// before any `m=` line belongs to the first section (index 0, no mid).
    ///
    /// - Throws: ``LiveError/badRequest(_:)`` naming the line and the field that is wrong.
    init(parsing text: String) throws(LiveError) {
        var sessionUfrag: String?
        var sessionPwd: String?
        var mediaUfrag: String?
        var mediaPwd: String?
        // Per section: its index, mid, and the candidate texts under it.
        var sections: [(mid: String?, candidates: [String])] = []
        var endOfCandidates = false
        var lineNumber = 0

        // "\r\n" is one Character in Swift: split on it, on "\n" and on a lone "\r".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" })
        if lines.last == "" { lines.removeLast() }
        guard lines.count <= Self.maxLines else {
            throw .badRequest("sdpfrag: \(lines.count) lines, at most \(Self.maxLines)")
        }
        for raw in lines {
            lineNumber += 1
            let line = raw
            if line.isEmpty { continue }
            guard line.utf8.count <= Self.maxLineBytes else {
                throw .badRequest("sdpfrag line \(lineNumber): longer than \(Self.maxLineBytes) bytes")
            }
            let bytes = Array(line.utf8)
            guard bytes.count >= 2, bytes[1] == UInt8(ascii: "="), (0x61...0x7A).contains(bytes[0]) else {
                throw .badRequest("sdpfrag line \(lineNumber): not <type>=<value>")
            }
            let value = line.dropFirst(2)
            switch bytes[0] {
            case UInt8(ascii: "m"):
                let fields = value.split(separator: " ")
                guard fields.count >= 3, ["audio", "video", "application", "text", "message"].contains(String(fields[0])) else {
                    throw .badRequest("sdpfrag line \(lineNumber): m= needs <media> <port> <proto> …")
                }
                sections.append((nil, []))
            case UInt8(ascii: "a"):
                let name: Substring
                let attributeValue: Substring?
                if let colon = value.firstIndex(of: ":") {
                    name = value[..<colon]
                    attributeValue = value[value.index(after: colon)...]
                } else {
                    name = value
                    attributeValue = nil
                }
                let inMedia = !sections.isEmpty
                switch name {
                case "ice-ufrag":
                    let ufrag = try Self.iceCredential(attributeValue, field: "a=ice-ufrag", lengths: 4...256, line: lineNumber)
                    if inMedia {
                        try Self.agree(&mediaUfrag, ufrag, field: "a=ice-ufrag", line: lineNumber)
                    } else {
                        try Self.agree(&sessionUfrag, ufrag, field: "a=ice-ufrag", line: lineNumber)
                    }
                case "ice-pwd":
                    let pwd = try Self.iceCredential(attributeValue, field: "a=ice-pwd", lengths: 22...256, line: lineNumber)
                    if inMedia {
                        try Self.agree(&mediaPwd, pwd, field: "a=ice-pwd", line: lineNumber)
                    } else {
                        try Self.agree(&sessionPwd, pwd, field: "a=ice-pwd", line: lineNumber)
                    }
                case "mid":
                    guard inMedia else { throw .badRequest("sdpfrag line \(lineNumber): a=mid before any m= line") }
                    guard let mid = attributeValue, (1...32).contains(mid.utf8.count), mid.allSatisfy(Self.isTokenCharacter) else {
                        throw .badRequest("sdpfrag line \(lineNumber): a=mid must be 1-32 token characters")
                    }
                    guard sections[sections.count - 1].mid == nil else {
                        throw .badRequest("sdpfrag line \(lineNumber): a second a=mid in one media section")
                    }
                    sections[sections.count - 1].mid = String(mid)
                case "candidate":
                    guard let candidate = attributeValue else { throw .badRequest("sdpfrag line \(lineNumber): a=candidate has no value") }
                    try Self.checkCandidate(candidate, line: lineNumber)
                    if sections.isEmpty { sections.append((nil, [])) }
                    sections[sections.count - 1].candidates.append("candidate:" + candidate)
                case "end-of-candidates":
                    endOfCandidates = true
                default:
                    continue
                }
            default:
                continue
            }
        }
        // Media-level credentials must agree with session-level ones when both are present.
        if let sessionUfrag, let mediaUfrag, sessionUfrag != mediaUfrag {
            throw .badRequest("sdpfrag: a=ice-ufrag differs between session level and media level")
        }
        if let sessionPwd, let mediaPwd, sessionPwd != mediaPwd {
            throw .badRequest("sdpfrag: a=ice-pwd differs between session level and media level")
        }
        let ufrag = sessionUfrag ?? mediaUfrag
        iceUfrag = ufrag
        icePwd = sessionPwd ?? mediaPwd
        candidates = sections.enumerated().flatMap { index, section in
            section.candidates.map { IceCandidateInit(candidate: $0, sdpMid: section.mid, sdpMLineIndex: index, usernameFragment: ufrag) }
        }
        self.endOfCandidates = endOfCandidates
    }

    /// The fragment as an sdpfrag body (CRLF lines): session-level `a=ice-ufrag` / `a=ice-pwd`,
    /// then one `m=` section per mid (in the order the candidates name them) with its
    /// `a=mid`, `a=candidate` lines and, if ``endOfCandidates``, `a=end-of-candidates`.
    /// The `m=` lines are placeholders (`m=audio 9 UDP/TLS/RTP/SAVPF 0`), as RFC 8840 allows: a
    /// client matches sections by `a=mid`.
    var sdpFragment: String {
        var lines: [String] = []
        if let iceUfrag { lines.append("a=ice-ufrag:" + iceUfrag) }
        if let icePwd { lines.append("a=ice-pwd:" + icePwd) }
        var order: [String?] = []
        var byMid: [String: [IceCandidateInit]] = [:]
        var noMid: [IceCandidateInit] = []
        for candidate in candidates where !candidate.isEndOfCandidates {
            if let mid = candidate.sdpMid {
                if byMid[mid] == nil { order.append(mid) }
                byMid[mid, default: []].append(candidate)
            } else {
                if noMid.isEmpty { order.append(nil) }
                noMid.append(candidate)
            }
        }
        if order.isEmpty {
            if endOfCandidates { lines.append("a=end-of-candidates") }
        }
        for mid in order {
            lines.append("m=audio 9 UDP/TLS/RTP/SAVPF 0")
            if let mid { lines.append("a=mid:" + mid) }
            for candidate in mid.flatMap({ byMid[$0] }) ?? noMid {
                lines.append(candidate.candidate.hasPrefix("candidate:") ? "a=" + candidate.candidate : "a=candidate:" + candidate.candidate)
            }
            if endOfCandidates { lines.append("a=end-of-candidates") }
        }
        return lines.map { $0 + "\r\n" }.joined()
    }

    // MARK: Field checks

    /// RFC 8839 `ice-char`: ALPHA / DIGIT / "+" / "/".
    private static func isIceCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "+" || c == "/")
    }

    /// RFC 4566 `token-char` (what a mid and a candidate's foundation are made of).
    private static func isTokenCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "!#$%&'*+-.^_`{|}~".contains(c))
    }

    private static func iceCredential(_ value: Substring?, field: String, lengths: ClosedRange<Int>, line: Int) throws(LiveError) -> String {
        guard let value, !value.isEmpty else { throw .badRequest("sdpfrag line \(line): \(field) has no value") }
        guard value.allSatisfy(isIceCharacter) else {
            throw .badRequest("sdpfrag line \(line): \(field) has a character other than A-Z a-z 0-9 + /")
        }
        guard lengths.contains(value.utf8.count) else {
            throw .badRequest("sdpfrag line \(line): \(field) must be \(lengths.lowerBound)-\(lengths.upperBound) characters, not \(value.utf8.count)")
        }
        return String(value)
    }

    private static func agree(_ slot: inout String?, _ value: String, field: String, line: Int) throws(LiveError) {
        if let existing = slot, existing != value {
            throw .badRequest("sdpfrag line \(line): a second, different \(field)")
        }
        slot = value
    }

    /// `foundation component transport priority address port typ type [extensions]` (RFC 8839 §5.1).
    private static func checkCandidate(_ value: Substring, line: Int) throws(LiveError) {
        let fields = value.split(separator: " ", omittingEmptySubsequences: true)
        func fail(_ what: String) -> LiveError { .badRequest("sdpfrag line \(line): a=candidate \(what)") }
        guard fields.count >= 8 else { throw fail("needs foundation, component, transport, priority, address, port, typ and a type") }
        guard (1...32).contains(fields[0].utf8.count), fields[0].allSatisfy(isIceCharacter) else { throw fail("foundation must be 1-32 ice-chars") }
        guard let component = Int(fields[1]), (1...256).contains(component) else { throw fail("component must be 1-256") }
        guard (1...32).contains(fields[2].utf8.count), fields[2].allSatisfy(isTokenCharacter) else { throw fail("transport is no token") }
        guard fields[3].utf8.count <= 10, let priority = UInt64(fields[3]), priority <= UInt64(UInt32.max) else {
            throw fail("priority must be 0-4294967295")
        }
        guard (1...255).contains(fields[4].utf8.count), fields[4].allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw fail("address is empty or not ASCII")
        }
        guard let port = Int(fields[5]), (0...65_535).contains(port) else { throw fail("port must be 0-65535") }
        guard fields[6] == "typ" else { throw fail("has no 'typ' after the port") }
        guard ["host", "srflx", "prflx", "relay"].contains(String(fields[7])) else { throw fail("type must be host, srflx, prflx or relay") }
    }
}
