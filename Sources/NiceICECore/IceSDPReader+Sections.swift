/// The `m=` and `a=group` lines: where media sections start and how they are bundled.
extension IceSDPReader {
    private static let space = UInt8(ascii: " ")

    /// Reads `m=<media> <port>[/<count>] <proto> <fmt> …` (RFC 8866 §5.14) and starts a section.
    /// Fields may be separated by more than one space; each must follow the grammar.
    mutating func readMediaLine(_ line: ArraySlice<UInt8>) throws(IceError) {
        let fields = line.dropFirst(2).split(separator: Self.space)
        guard fields.count >= 4 else {
            throw mediaFailure("expected \"m=<media> <port> <proto> <fmt> …\", got \(fields.count) field\(fields.count == 1 ? "" : "s")")
        }
        let kind = fields[0]
        guard kind.count <= 32, kind.allSatisfy(CandidateGrammar.isTokenChar) else {
            throw mediaFailure("media: \(CandidateGrammar.excerpt(kind)) is not a token of at most 32 characters")
        }
        let portField = fields[1]
        let slash = portField.firstIndex(of: UInt8(ascii: "/"))
        let portBytes = slash.map { portField[..<$0] } ?? portField
        guard let port = CandidateGrammar.decimal(portBytes, maxDigits: 5), port <= UInt64(UInt16.max) else {
            throw mediaFailure("port: \(CandidateGrammar.excerpt(portField)) is not a port number (0 to 65535)")
        }
        if let slash {
            let count = portField[(slash + 1)...]
            guard let number = CandidateGrammar.decimal(count, maxDigits: 5), number >= 1 else {
                throw mediaFailure("port: the number of ports in \(CandidateGrammar.excerpt(portField)) must be a positive integer")
            }
        }
        let proto = fields[2]
        let protoParts = proto.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard protoParts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(CandidateGrammar.isTokenChar) }) else {
            throw mediaFailure("proto: \(CandidateGrammar.excerpt(proto)) is not tokens separated by \"/\"")
        }
        for format in fields[3...] where !format.allSatisfy(CandidateGrammar.isTokenChar) {
            throw mediaFailure("fmt: \(CandidateGrammar.excerpt(format)) is not a token")
        }
        media.append(Section(kind: CandidateGrammar.string(kind), port: UInt16(port)))
    }

    /// Reads the value of `a=group:<semantics> *(SP <mid>)` (RFC 5888 §5) and keeps BUNDLE groups.
    mutating func readGroup(_ value: ArraySlice<UInt8>?) throws(IceError) {
        let name = "group"
        guard media.isEmpty else {
            throw failure(name, "a=group belongs at session level, before the first m= line (RFC 5888)")
        }
        let text = try requireValue(value, name)
        let fields = text.utf8.split(separator: Self.space)
        guard let semantics = fields.first, semantics.allSatisfy(CandidateGrammar.isTokenChar) else {
            throw failure(name, "semantics must be a token, e.g. BUNDLE")
        }
        var mids: [String] = []
        var seen: Set<String> = []
        for tag in fields.dropFirst() {
            let mid = String(Substring(tag))
            guard tag.allSatisfy(CandidateGrammar.isTokenChar) else {
                throw failure(name, "mids must be tokens (RFC 5888), not \(CandidateGrammar.excerpt(Array(tag)[...]))")
            }
            guard seen.insert(mid).inserted else {
                throw failure(name, "mid \(CandidateGrammar.excerpt(Array(tag)[...])) appears twice in the group")
            }
            mids.append(mid)
        }
        // ABNF strings are case-insensitive; browsers write "BUNDLE".
        if String(Substring(semantics)).uppercased() == "BUNDLE", !mids.isEmpty {
            bundleGroups.append((mids, lineNumber))
        }
    }

    /// Checks what needs the whole SDP: every BUNDLE mid names a section, and only one group.
    func finish() throws(IceError) {
        var groupOfMid: [String: Int] = [:]
        for (index, group) in bundleGroups.enumerated() {
            for mid in group.mids {
                guard mediaIndexByMid[mid] != nil else {
                    throw failure("group", "BUNDLE names mid \(Self.quoted(mid)), but no media section has it", line: group.line)
                }
                if let other = groupOfMid.updateValue(index, forKey: mid) {
                    throw failure(
                        "group",
                        "mid \(Self.quoted(mid)) is already in the BUNDLE group of line \(bundleGroups[other].line) (RFC 8843)",
                        line: group.line
                    )
                }
            }
        }
    }

    private func mediaFailure(_ reason: String) -> IceError {
        IceError(.invalidSDP, field: "m=", reason: "line \(lineNumber): \(reason)")
    }

    private static func quoted(_ mid: String) -> String {
        CandidateGrammar.excerpt(Array(mid.utf8)[...])
    }
}
