extension MediaDescription {
    /// The section as SDP, CRLF line endings, in a fixed order: `m=`, `c=`, `a=mid`, then
    /// `transport` (the ICE and DTLS lines the negotiation writes), `a=extmap`, the direction,
    /// `a=msid`, `a=rtcp-mux`, `a=rtcp-rsize`, per codec `a=rtpmap` / `a=rtcp-fb` / `a=fmtp`, the
    /// other attributes (`a=rid`, `a=simulcast`, …), `a=ssrc-group`, `a=ssrc`.
    ///
    /// Reading what this writes gives the same value back (a dynamic payload type without a
    /// name is written without `a=rtpmap`; a section without codecs lists payload type 0).
    public func sdpLines(transport: String = "") -> String {
        let formats = codecs.isEmpty ? "0" : codecs.map { String($0.payloadType) }.joined(separator: " ")
        var text = "m=\(kind.rawValue) \(port) \(proto) \(formats)\r\nc=IN IP4 0.0.0.0\r\n"
        if let mid { text += "a=mid:\(mid)\r\n" }
        text += transport
        for ext in headerExtensions {
            text += "a=extmap:\(ext.id)" + (ext.direction.map { "/\($0.rawValue)" } ?? "") + " \(ext.uri)\r\n"
        }
        text += "a=\(direction.rawValue)\r\n"
        for id in msid {
            text += "a=msid:\(id.streamId)" + (id.trackId.map { " \($0)" } ?? "") + "\r\n"
        }
        if rtcpMux { text += "a=rtcp-mux\r\n" }
        if rtcpReducedSize { text += "a=rtcp-rsize\r\n" }
        for codec in codecs {
            if !codec.name.isEmpty { text += "a=rtpmap:\(codec.payloadType) \(codec.rtpmapValue)\r\n" }
            for feedback in codec.rtcpFeedback { text += "a=rtcp-fb:\(codec.payloadType) \(feedback.text)\r\n" }
            if !codec.fmtp.isEmpty { text += "a=fmtp:\(codec.payloadType) \(codec.fmtp.map(\.text).joined(separator: ";"))\r\n" }
        }
        for attribute in otherAttributes { text += "a=\(attribute)\r\n" }
        for group in ssrcGroups {
            text += "a=ssrc-group:\(group.semantics) " + group.ssrcs.map(String.init).joined(separator: " ") + "\r\n"
        }
        for line in ssrcAttributes {
            text += "a=ssrc:\(line.ssrc) \(line.name)" + (line.value.map { ":\($0)" } ?? "") + "\r\n"
        }
        return text
    }

    /// A rejected section as an answer or later offer writes it: `m=<kind> 0 <proto> <formats>`,
    /// `c=`, `a=mid`.
    static func rejectedLines(kind: String, proto: String, formats: String, mid: String?) -> String {
        "m=\(kind) 0 \(proto) \(formats)\r\nc=IN IP4 0.0.0.0\r\n" + (mid.map { "a=mid:\($0)\r\n" } ?? "")
    }
}
