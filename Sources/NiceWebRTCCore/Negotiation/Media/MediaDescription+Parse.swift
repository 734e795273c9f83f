import NiceICECore

/// One line of an SDP with its 1-based number (lines counted as NiceICE's `IceDescription`
/// counts them: split at LF, a trailing CR dropped).
struct SdpLine: Sendable, Hashable {
    var number: Int
    var text: Substring
}

extension MediaDescription {
    /// Reads one section: its text starts with its `m=` line.
    ///
    /// - Parameters:
    ///   - section: The section's lines (LF or CRLF).
    ///   - firstLineNumber: The number its `m=` line has in the whole description, for errors.
    /// - Throws: ``SdpError``: ``SdpError/Code/unsupported`` (field `m=`) for a section that is not
    ///   `audio` or `video`, and as ``sections(of:)`` says.
    public init(parsing section: String, firstLineNumber: Int = 1) throws(SdpError) {
        let lines = Self.split(section, firstLineNumber: firstLineNumber)
        try self.init(lines: lines[...])
    }

    /// Every audio and video section of a description, by m-line index (other sections, such as
    /// the data section, are not in the result).
    ///
    /// - Throws: ``SdpError``, field the attribute, line the 1-based line:
    ///   ``SdpError/Code/malformed`` for a line that does not parse (`m=`, `a=rtpmap`, `a=fmtp`,
    ///   `a=rtcp-fb`, `a=extmap`, `a=ssrc`, `a=ssrc-group`, `a=msid`, an attribute given twice, a
    ///   control character, field `sdp` for a text over `IceDescription.maximumLength`);
    ///   ``SdpError/Code/invalidValue`` for a value out of range (a payload type over 127 or
    ///   listed twice, an extmap id outside 1–255 or 15 or used twice, a mid that is not a token);
    ///   ``SdpError/Code/unsupported`` for more than a bound allows (``maximumFormats``, …) or
    ///   more than ``maximumSections`` sections.
    public static func sections(of sdp: String) throws(SdpError) -> [Int: MediaDescription] {
        guard sdp.utf8.count <= IceDescription.maximumLength else {
            throw SdpError(.malformed, field: "sdp", reason: "longer than \(IceDescription.maximumLength) bytes")
        }
        var result: [Int: MediaDescription] = [:]
        for (index, section) in try sectionLines(of: sdp).enumerated() {
            guard let first = section.first else { continue }
            let kind = first.text.dropFirst(2).prefix { $0 != " " }
            guard kind == "audio" || kind == "video" else { continue }
            result[index] = try MediaDescription(lines: section[...])
        }
        return result
    }

    /// At most this many `m=` sections in a description.
    public static let maximumSections = 64

    /// The lines of each `m=` section, in order (the session part left out).
    static func sectionLines(of sdp: String) throws(SdpError) -> [[SdpLine]] {
        var sections: [[SdpLine]] = []
        for line in split(sdp, firstLineNumber: 1) {
            if line.text.hasPrefix("m=") {
                guard sections.count < maximumSections else {
                    throw SdpError(.unsupported, field: "m=", line: line.number, reason: "more than \(maximumSections) m= sections")
                }
                sections.append([line])
            } else if !sections.isEmpty {
                sections[sections.count - 1].append(line)
            }
        }
        return sections
    }

    static func split(_ text: String, firstLineNumber: Int) -> [SdpLine] {
        var number = firstLineNumber - 1
        return text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).compactMap { raw in
            number += 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            return line.isEmpty ? nil : SdpLine(number: number, text: line)
        }
    }

    init(lines: ArraySlice<SdpLine>) throws(SdpError) {
        guard let mLine = lines.first, mLine.text.hasPrefix("m=") else {
            throw SdpError(.malformed, field: "m=", line: lines.first?.number, reason: "a media section starts with its m= line")
        }
        let fields = mLine.text.dropFirst(2).split(separator: " ")
        guard fields.count >= 4 else {
            throw SdpError(.malformed, field: "m=", line: mLine.number, reason: "an m= line has a kind, a port, a protocol and formats")
        }
        guard let kind = MediaKind(rawValue: String(fields[0])) else {
            throw SdpError(.unsupported, field: "m=", line: mLine.number, reason: "\(SessionLines.excerpt(String(fields[0]))) is not audio or video")
        }
        guard let port = UInt16(fields[1].prefix { $0 != "/" }) else {
            throw SdpError(.invalidValue, field: "m=", line: mLine.number, reason: "\(SessionLines.excerpt(String(fields[1]))) is not a port 0-65535")
        }
        guard fields.count - 3 <= Self.maximumFormats else {
            throw SdpError(.unsupported, field: "m=", line: mLine.number, reason: "more than \(Self.maximumFormats) payload types")
        }
        var codecs: [RtpCodecParameters] = []
        var position: [UInt8: Int] = [:]
        for format in fields[3...] {
            guard format.utf8.count <= 3, let payloadType = UInt8(format), payloadType < 128 else {
                throw SdpError(.invalidValue, field: "m=", line: mLine.number, reason: "\(SessionLines.excerpt(String(format))) is not a payload type 0-127")
            }
            guard position[payloadType] == nil else {
                throw SdpError(.invalidValue, field: "m=", line: mLine.number, reason: "payload type \(payloadType) is listed twice")
            }
            position[payloadType] = codecs.count
            codecs.append(RtpCodecParameters.staticCodec(payloadType) ?? RtpCodecParameters(payloadType: payloadType, name: "", clockRate: 0))
        }
        self.init(kind: kind, mid: nil, port: port, proto: String(fields[2]), rtcpMux: false)
        var reader = AttributeReader(position: position)
        for line in lines.dropFirst() {
            try reader.read(line, into: &self, codecs: &codecs)
        }
        for feedback in reader.wildcardFeedback {
            for index in codecs.indices where !codecs[index].isRtx && !codecs[index].rtcpFeedback.contains(feedback) {
                codecs[index].rtcpFeedback.append(feedback)
            }
        }
        self.codecs = codecs
    }
}

/// The attribute lines of one section, read one at a time.
private struct AttributeReader {
    var position: [UInt8: Int]
    var rtpmapSeen = Set<UInt8>()
    var fmtpSeen = Set<UInt8>()
    var directionSeen = false
    var midSeen = false
    var wildcardFeedback: [RtcpFeedback] = []
    var extmapIds = Set<UInt8>()

    /// ICE, DTLS and other transport attributes: the negotiation reads them, the media model does not keep them.
    static let transport: Set<Substring> = [
        "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "candidate", "end-of-candidates", "fingerprint", "setup", "rtcp",
        "bundle-only", "ice-pacing", "tls-id", "identity", "sctp-port", "max-message-size", "sctpmap", "remote-candidates",
    ]

    mutating func read(_ line: SdpLine, into media: inout MediaDescription, codecs: inout [RtpCodecParameters]) throws(SdpError) {
        let text = line.text
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw SdpError(.malformed, field: "sdp", line: line.number, reason: "the line has a control character")
        }
        guard text.hasPrefix("a=") else { return }  // c=, b=, i=, k=: not part of the model
        let attribute = text.dropFirst(2)
        let name = attribute.prefix { $0 != ":" }
        let hasValue = attribute.count > name.count
        let value = attribute.dropFirst(name.count + 1)
        let field = "a=\(name.prefix(32))"
        func fail(_ code: SdpError.Code, _ reason: String) -> SdpError {
            SdpError(code, field: field, line: line.number, reason: reason)
        }
        func malformed(_ reason: String) -> SdpError { fail(.malformed, reason) }
        if Self.transport.contains(name) { return }
        switch name {
        case "mid":
            guard !midSeen else { throw malformed("a=mid is given twice") }
            guard SessionLines.isToken(String(value)) else { throw fail(.invalidValue, "\(SessionLines.excerpt(String(value))) is not a token of 1 to 32 characters") }
            midSeen = true
            media.mid = String(value)
        case "sendrecv", "sendonly", "recvonly", "inactive":
            guard !hasValue else { throw malformed("a direction attribute has no value") }
            guard !directionSeen else { throw malformed("the section has two direction attributes") }
            directionSeen = true
            media.direction = RtpTransceiverDirection(rawValue: String(name)) ?? .sendrecv
        case "rtcp-mux":
            media.rtcpMux = true
        case "rtcp-rsize":
            media.rtcpReducedSize = true
        case "rtpmap":
            let (payloadType, rest) = try payloadTypeAndRest(value, fail)
            guard !rtpmapSeen.contains(payloadType) else { throw malformed("payload type \(payloadType) has two a=rtpmap lines") }
            rtpmapSeen.insert(payloadType)
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[0].utf8.count <= 32,
                parts[1].utf8.count <= 10, let rate = UInt32(parts[1]), rate > 0
            else {
                throw malformed("'\(rest.prefix(40))' is not encoding/clock-rate[/channels]")
            }
            var channels: UInt8?
            if parts.count == 3 {
                guard parts[2].utf8.count <= 3, let count = UInt8(parts[2]), count > 0 else { throw malformed("'\(parts[2].prefix(8))' is not a channel count 1-255") }
                channels = count
            }
            guard let index = position[payloadType] else { return }
            codecs[index].name = String(parts[0])
            codecs[index].clockRate = rate
            codecs[index].channels = channels
        case "fmtp":
            let (payloadType, rest) = try payloadTypeAndRest(value, fail)
            guard !fmtpSeen.contains(payloadType) else { throw malformed("payload type \(payloadType) has two a=fmtp lines") }
            fmtpSeen.insert(payloadType)
            let items = rest.split(separator: ";").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
            guard items.count <= MediaDescription.maximumCodecAttributes else {
                throw fail(.unsupported, "more than \(MediaDescription.maximumCodecAttributes) fmtp parameters")
            }
            let parameters = items.map { item in
                let key = item.prefix { $0 != "=" }
                return FmtpParameter(String(key), key.count < item.count ? String(item.dropFirst(key.count + 1)) : nil)
            }
            guard let index = position[payloadType] else { return }
            codecs[index].fmtp = parameters
        case "rtcp-fb":
            let parts = value.split(separator: " ")
            guard parts.count == 2 || parts.count == 3 else { throw malformed("a=rtcp-fb is a payload type or *, a type and an optional parameter") }
            let feedback = RtcpFeedback(String(parts[1]), parts.count == 3 ? String(parts[2]) : nil)
            if parts[0] == "*" {
                guard wildcardFeedback.count < MediaDescription.maximumCodecAttributes else { throw fail(.unsupported, "too many a=rtcp-fb:* lines") }
                if !wildcardFeedback.contains(feedback) { wildcardFeedback.append(feedback) }
                return
            }
            guard parts[0].utf8.count <= 3, let payloadType = UInt8(parts[0]), payloadType < 128 else {
                throw malformed("'\(parts[0].prefix(8))' is not a payload type 0-127 or *")
            }
            guard let index = position[payloadType], !codecs[index].rtcpFeedback.contains(feedback) else { return }
            guard codecs[index].rtcpFeedback.count < MediaDescription.maximumCodecAttributes else {
                throw fail(.unsupported, "more than \(MediaDescription.maximumCodecAttributes) a=rtcp-fb lines for payload type \(payloadType)")
            }
            codecs[index].rtcpFeedback.append(feedback)
        case "extmap":
            guard media.headerExtensions.count < MediaDescription.maximumHeaderExtensions else {
                throw fail(.unsupported, "more than \(MediaDescription.maximumHeaderExtensions) a=extmap lines")
            }
            let parts = value.split(separator: " ")
            guard parts.count >= 2 else { throw malformed("a=extmap is an id[/direction] and a URI") }
            let idText = parts[0].prefix { $0 != "/" }
            var direction: RtpTransceiverDirection?
            if idText.count < parts[0].count {
                guard let parsed = RtpTransceiverDirection(rawValue: String(parts[0].dropFirst(idText.count + 1))) else {
                    throw fail(.invalidValue, "'\(parts[0].prefix(24))' has no valid direction")
                }
                direction = parsed
            }
            guard idText.utf8.count <= 3, let id = UInt8(idText), id >= 1, id != 15 else {
                throw fail(.invalidValue, "'\(idText.prefix(8))' is not an extension id 1-14 or 16-255 (RFC 8285)")
            }
            guard extmapIds.insert(id).inserted else { throw fail(.invalidValue, "extension id \(id) is used twice") }
            guard parts[1].utf8.count <= 256 else { throw malformed("the extension URI is longer than 256 bytes") }
            media.headerExtensions.append(RtpHeaderExtensionParameters(id: id, uri: String(parts[1]), direction: direction))
        case "msid":
            let parts = value.split(separator: " ")
            guard parts.count == 1 || parts.count == 2, parts[0].utf8.count <= 64, parts.last.map({ $0.utf8.count <= 64 }) ?? true else {
                throw malformed("a=msid is a stream id and an optional track id, each at most 64 bytes")
            }
            guard media.msid.count < 4 else { throw fail(.unsupported, "more than 4 a=msid lines") }
            media.msid.append(MediaStreamId(streamId: String(parts[0]), trackId: parts.count == 2 ? String(parts[1]) : nil))
        case "ssrc":
            try checkSsrcRoom(media, fail)
            let ssrcText = value.prefix { $0 != " " }
            guard ssrcText.utf8.count <= 10, let ssrc = UInt32(ssrcText) else { throw malformed("'\(ssrcText.prefix(12))' is not an SSRC 0-4294967295") }
            let rest = value.dropFirst(ssrcText.count + 1)
            let attributeName = rest.prefix { $0 != ":" }
            guard !attributeName.isEmpty, !attributeName.contains(" ") else { throw malformed("a=ssrc is an SSRC and an attribute[:value]") }
            let attributeValue = attributeName.count < rest.count ? String(rest.dropFirst(attributeName.count + 1)) : nil
            media.ssrcAttributes.append(SsrcAttribute(ssrc: ssrc, name: String(attributeName), value: attributeValue))
        case "ssrc-group":
            try checkSsrcRoom(media, fail)
            let parts = value.split(separator: " ")
            guard parts.count >= 2, parts.count <= 17 else { throw malformed("a=ssrc-group is semantics and 1 to 16 SSRCs") }
            var ssrcs: [UInt32] = []
            for part in parts.dropFirst() {
                guard part.utf8.count <= 10, let ssrc = UInt32(part) else { throw malformed("'\(part.prefix(12))' is not an SSRC 0-4294967295") }
                ssrcs.append(ssrc)
            }
            media.ssrcGroups.append(SsrcGroup(semantics: String(parts[0]), ssrcs: ssrcs))
        default:
            guard media.otherAttributes.count < MediaDescription.maximumOtherAttributes else {
                throw fail(.unsupported, "more than \(MediaDescription.maximumOtherAttributes) other attributes")
            }
            guard attribute.utf8.count <= 1024 else { throw malformed("the attribute is longer than 1024 bytes") }
            media.otherAttributes.append(String(attribute))
        }
    }

    private func checkSsrcRoom(_ media: MediaDescription, _ fail: (SdpError.Code, String) -> SdpError) throws(SdpError) {
        guard media.ssrcAttributes.count + media.ssrcGroups.count < MediaDescription.maximumSsrcLines else {
            throw fail(.unsupported, "more than \(MediaDescription.maximumSsrcLines) a=ssrc and a=ssrc-group lines")
        }
    }

    private func payloadTypeAndRest(_ value: Substring, _ fail: (SdpError.Code, String) -> SdpError) throws(SdpError) -> (UInt8, Substring) {
        let text = value.prefix { $0 != " " }
        guard text.utf8.count <= 3, let payloadType = UInt8(text), payloadType < 128, text.count < value.count else {
            throw fail(.malformed, "'\(value.prefix(24))' does not start with a payload type 0-127 and a value")
        }
        return (payloadType, value.dropFirst(text.count + 1))
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var text = self
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
