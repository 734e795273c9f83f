extension IceCandidate {
    /// The longest `candidate:` line ``init(parsing:sdpMid:sdpMLineIndex:)`` accepts, in UTF-8 bytes.
    public static let maximumLineLength = 4096

    /// Parses a `candidate:…` or `a=candidate:…` attribute, with or without a trailing `\r\n`.
    ///
    /// - Parameters:
    ///   - line: The attribute as sent by the remote peer.
    ///   - sdpMid: The media stream identification, attached as metadata.
    ///   - sdpMLineIndex: The m-line index, attached as metadata.
    /// - Throws: ``IceError`` with code ``IceError/Code/invalidCandidate`` whose
    ///   ``IceError/field`` names the offending part (`"port"`, `"priority"`, `"raddr"`, …).
    public init(parsing line: String, sdpMid: String? = nil, sdpMLineIndex: Int? = nil) throws(IceError) {
        if line.utf8.count > Self.maximumLineLength {
            throw Self.invalid("candidate", "longer than \(Self.maximumLineLength) bytes")
        }
        var bytes = ArraySlice(line.utf8)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        if CandidateGrammar.hasPrefix(bytes, "a=") { bytes.removeFirst(2) }
        guard CandidateGrammar.hasPrefix(bytes, "candidate:") else {
            throw Self.invalid("candidate", "must start with \"candidate:\"")
        }
        bytes.removeFirst(10)
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw Self.invalid("candidate", "contains control characters")
        }

        let tokens = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        let fixedNames = ["foundation", "component", "transport", "priority", "address", "port", "typ", "typ"]
        for (index, token) in tokens.enumerated() where token.isEmpty {
            let field = index < fixedNames.count ? fixedNames[index] : "extension"
            throw Self.invalid(field, "empty; fields are separated by exactly one space")
        }
        guard tokens.count >= fixedNames.count else {
            throw Self.invalid(fixedNames[tokens.count], "missing")
        }

        let foundation = tokens[0]
        guard (1...32).contains(foundation.count), foundation.allSatisfy(CandidateGrammar.isIceChar) else {
            throw Self.invalid("foundation", "must be 1 to 32 characters of ALPHA, DIGIT, \"+\" or \"/\"")
        }
        guard let component = CandidateGrammar.decimal(tokens[1], maxDigits: 3), (1...256).contains(component) else {
            throw Self.invalid("component", "must be a number from 1 to 256")
        }
        let transportText = CandidateGrammar.string(tokens[2])
        guard let transport = Transport(rawValue: transportText.lowercased()) else {
            throw Self.invalid("transport", "unknown transport \(CandidateGrammar.excerpt(tokens[2])); expected UDP or TCP")
        }
        guard let priority = CandidateGrammar.decimal(tokens[3], maxDigits: 10),
              (1...UInt64(UInt32.max)).contains(priority) else {
            throw Self.invalid("priority", "must be a number from 1 to 4294967295")
        }
        guard CandidateGrammar.addressFamily(tokens[4]) != nil else {
            throw Self.invalid("address", "\(CandidateGrammar.excerpt(tokens[4])) is not an IPv4 address, IPv6 address or host name")
        }
        guard let port = CandidateGrammar.port(tokens[5]) else {
            throw Self.invalid("port", "must be a number from 0 to 65535")
        }
        guard CandidateGrammar.equals(tokens[6], "typ") else {
            throw Self.invalid("typ", "expected \"typ\" after the port, found \(CandidateGrammar.excerpt(tokens[6]))")
        }
        guard let type = CandidateType(rawValue: CandidateGrammar.string(tokens[7])) else {
            throw Self.invalid("typ", "unknown candidate type \(CandidateGrammar.excerpt(tokens[7])); expected host, srflx, prflx or relay")
        }

        self.init(
            foundation: CandidateGrammar.string(foundation),
            component: Int(component),
            transport: transport,
            priority: UInt32(priority),
            address: CandidateGrammar.string(tokens[4]),
            port: port,
            type: type,
            sdpMid: sdpMid,
            sdpMLineIndex: sdpMLineIndex
        )
        transportSpelling = transportText
        try parseAttributes(tokens[8...])
        try checkConsistency()
    }

    /// Reads the name/value pairs after `typ <type>`.
    private mutating func parseAttributes(_ tokens: ArraySlice<ArraySlice<UInt8>>) throws(IceError) {
        var seen: Set<String> = ["typ"]
        var index = tokens.startIndex
        while index < tokens.endIndex {
            let nameBytes = tokens[index]
            let name = CandidateGrammar.string(nameBytes)
            guard index + 1 < tokens.endIndex else {
                let field = CandidateGrammar.knownAttributes.contains(name) ? name : "extension"
                throw Self.invalid(field, "attribute \(CandidateGrammar.excerpt(nameBytes)) has no value")
            }
            let valueBytes = tokens[index + 1]
            index += 2
            let isKnown = CandidateGrammar.knownAttributes.contains(name)
            guard seen.insert(name).inserted else {
                throw Self.invalid(isKnown ? name : "extension", "attribute \(CandidateGrammar.excerpt(nameBytes)) appears more than once")
            }
            switch name {
            case "raddr":
                guard CandidateGrammar.addressFamily(valueBytes) != nil else {
                    throw Self.invalid("raddr", "\(CandidateGrammar.excerpt(valueBytes)) is not an IPv4 address, IPv6 address or host name")
                }
                relatedAddress = CandidateGrammar.string(valueBytes)
            case "rport":
                guard let value = CandidateGrammar.port(valueBytes) else {
                    throw Self.invalid("rport", "must be a number from 0 to 65535")
                }
                relatedPort = value
            case "tcptype":
                guard let value = TcpType(rawValue: CandidateGrammar.string(valueBytes)) else {
                    throw Self.invalid("tcptype", "unknown tcptype \(CandidateGrammar.excerpt(valueBytes)); expected active, passive or so")
                }
                tcpType = value
            default:
                try Self.checkExtension(name: name, nameBytes: nameBytes, value: valueBytes)
                extensions.append(Extension(name: name, value: CandidateGrammar.string(valueBytes)))
            }
        }
    }

    private static func checkExtension(name: String, nameBytes: ArraySlice<UInt8>, value: ArraySlice<UInt8>) throws(IceError) {
        switch name {
        case "generation", "network-id", "network-cost":
            guard let number = CandidateGrammar.decimal(value, maxDigits: 10), number <= UInt64(UInt32.max) else {
                throw invalid(name, "must be a number from 0 to 4294967295")
            }
        case "ufrag":
            guard (1...256).contains(value.count), value.allSatisfy(CandidateGrammar.isIceChar) else {
                throw invalid("ufrag", "must be 1 to 256 characters of ALPHA, DIGIT, \"+\" or \"/\"")
            }
        default:
            guard nameBytes.allSatisfy(CandidateGrammar.isTokenChar) else {
                throw invalid("extension", "attribute name \(CandidateGrammar.excerpt(nameBytes)) contains characters not allowed in a token")
            }
            let text = CandidateGrammar.string(value)
            if text.unicodeScalars.contains(where: CandidateGrammar.isForbiddenScalar) {
                throw invalid("extension", "value of \(CandidateGrammar.excerpt(nameBytes)) contains control characters")
            }
        }
    }

    /// Checks the rules that involve more than one field.
    private func checkConsistency() throws(IceError) {
        if relatedAddress != nil, relatedPort == nil {
            throw Self.invalid("rport", "raddr given without rport")
        }
        if relatedPort != nil, relatedAddress == nil {
            throw Self.invalid("raddr", "rport given without raddr")
        }
        switch transport {
        case .udp:
            if tcpType != nil {
                throw Self.invalid("tcptype", "only TCP candidates have a tcptype")
            }
        case .tcp:
            if tcpType == nil {
                throw Self.invalid("tcptype", "TCP candidates need a tcptype (RFC 6544)")
            }
        }
        if port == 0, tcpType != .active {
            throw Self.invalid("port", "port 0 is allowed only for TCP active candidates")
        }
    }

    private static func invalid(_ field: String, _ reason: String) -> IceError {
        IceError(.invalidCandidate, field: field, reason: reason)
    }
}

/// Character classes and textual address checks for ICE grammar, on UTF-8 bytes.
enum CandidateGrammar {
    /// Attribute names after `typ` whose duplicates are reported under their own name.
    static let knownAttributes: Set<String> = [
        "raddr", "rport", "tcptype", "generation", "ufrag", "network-id", "network-cost", "typ",
    ]

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    /// RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/".
    static func isIceChar(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
    }

    /// RFC 8866 token-char.
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x21, 0x23...0x27, 0x2A...0x2B, 0x2D...0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: true
        default: false
        }
    }

    /// Scalars that may not appear in an extension value: controls and line or paragraph separators.
    static func isForbiddenScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes quoted for an error message, shortened to 40 bytes.
    static func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.count <= 40 {
            return "\"" + string(bytes) + "\""
        }
        return "\"" + string(bytes.prefix(40)) + "…\""
    }

    static func equals(_ bytes: ArraySlice<UInt8>, _ text: StaticString) -> Bool {
        bytes.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    static func hasPrefix(_ bytes: ArraySlice<UInt8>, _ text: StaticString) -> Bool {
        let prefix = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        return bytes.count >= prefix.count && bytes.prefix(prefix.count).elementsEqual(prefix)
    }

    /// A non-empty run of at most `maxDigits` decimal digits, or nil.
    static func decimal(_ bytes: ArraySlice<UInt8>, maxDigits: Int) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= maxDigits, maxDigits <= 18 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard isDigit(byte) else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// A port number, `1*5DIGIT` in `0...65535`.
    static func port(_ bytes: ArraySlice<UInt8>) -> UInt16? {
        guard let value = decimal(bytes, maxDigits: 5), value <= UInt64(UInt16.max) else { return nil }
        return UInt16(value)
    }

    /// The family of a valid connection address, or nil when the text is not one.
    static func addressFamily(_ bytes: ArraySlice<UInt8>) -> IceCandidate.AddressFamily? {
        if bytes.contains(UInt8(ascii: ":")) {
            return isIPv6(bytes) ? .ipv6 : nil
        }
        if bytes.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            return isIPv4(bytes) ? .ipv4 : nil
        }
        return isHostname(bytes) ? .hostname : nil
    }

    /// A dotted quad with decimal octets `0...255` and no leading zeros.
    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        let octets = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        for octet in octets {
            guard let value = decimal(octet, maxDigits: 3), value <= 255 else { return false }
            if octet.count > 1, octet.first == UInt8(ascii: "0") { return false }
        }
        return true
    }

    /// RFC 4291 §2.2 text: eight groups of 1–4 hex digits, one optional `::`, and an optional
    /// dotted-quad tail. No brackets and no zone identifier.
    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.count <= 45 else { return false }
        let colon = UInt8(ascii: ":")
        var doubleColon: Int?
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == colon, bytes[index + 1] == colon {
                if doubleColon != nil { return false }
                doubleColon = index
                index += 2
                if index < bytes.endIndex, bytes[index] == colon { return false }
            } else {
                index += 1
            }
        }
        if let doubleColon {
            let head = bytes[bytes.startIndex..<doubleColon]
            let tail = bytes[(doubleColon + 2)...]
            guard let headCount = groupCount(head, allowIPv4Tail: false),
                  let tailCount = groupCount(tail, allowIPv4Tail: true) else { return false }
            return headCount + tailCount <= 7
        }
        return groupCount(bytes, allowIPv4Tail: true) == 8
    }

    /// The number of 16-bit groups in colon-separated hex text (an IPv4 tail counts as two).
    private static func groupCount(_ bytes: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> Int? {
        if bytes.isEmpty { return 0 }
        let groups = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var count = 0
        for (offset, group) in groups.enumerated() {
            let isLast = offset == groups.count - 1
            if isLast, allowIPv4Tail, group.contains(UInt8(ascii: ".")) {
                guard isIPv4(group) else { return nil }
                count += 2
            } else {
                guard (1...4).contains(group.count), group.allSatisfy(isHexDigit) else { return nil }
                count += 1
            }
        }
        return count
    }

    /// Dot-separated labels of 1–63 letters, digits and hyphens, not starting or ending with a
    /// hyphen, at most 253 bytes in all, with a final label that is not all digits.
    static func isHostname(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard (1...253).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count),
                  label.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "-") }),
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
        }
        if let last = labels.last, last.allSatisfy(isDigit) { return false }
        return true
    }
}
