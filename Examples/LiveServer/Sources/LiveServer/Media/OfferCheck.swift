import NiceWebRTC

/// Reads a WHIP or WHEP offer before any PeerConnection sees it, so a client learns precisely
/// why it was refused: `.badRequest` naming the field when it does not parse, `.unprocessable`
/// when it parses but is not what the role sends.
enum OfferCheck {
    /// The codecs forwarded, by kind (names compared case-insensitively).
    static let forwardedCodecs: [MediaKind: [String]] = [.video: ["vp8", "h264"], .audio: ["opus"]]

    /// The audio and video sections (by m-line index) of an offer that parses.
    static func sections(of offer: String) throws(LiveError) -> [Int: MediaDescription] {
        guard offer.hasPrefix("v=0") else { throw .badRequest("sdp: not a session description (no v=0 line)") }
        do throws(IceError) {
            _ = try IceDescription(parsing: offer)
        } catch {
            throw .badRequest("\(error.field ?? "sdp"): \(error.reason)")
        }
        do throws(SdpError) {
            return try MediaDescription.sections(of: offer)
        } catch {
            let line = error.line.map { " (line \($0))" } ?? ""
            throw .badRequest("\(error.field ?? "sdp")\(line): \(error.reason)")
        }
    }

    /// The live (port ≠ 0) sections, in m-line order.
    static func live(_ sections: [Int: MediaDescription]) -> [MediaDescription] {
        sections.keys.sorted().compactMap { sections[$0] }.filter { $0.port != 0 }
    }

    /// A WHIP offer: audio and/or video, each sending (sendonly/sendrecv), each with a codec we
    /// forward. Returns the kinds offered.
    @discardableResult
    static func publisher(_ offer: String) throws(LiveError) -> Set<MediaKind> {
        let media = live(try sections(of: offer))
        guard !media.isEmpty else { throw .unprocessable("the offer has no audio or video section") }
        for section in media {
            let name = "m=\(section.kind.rawValue)" + (section.mid.map { " (mid \($0))" } ?? "")
            guard section.direction.sends else {
                throw .unprocessable("\(name) is \(section.direction.rawValue): a WHIP offer sends (sendonly or sendrecv)")
            }
            let wanted = forwardedCodecs[section.kind] ?? []
            guard section.codecs.contains(where: { wanted.contains($0.name.lowercased()) }) else {
                throw .unprocessable("\(name) offers no codec the server forwards (\(section.kind == .video ? "VP8, H.264" : "Opus"))")
            }
        }
        return Set(media.map(\.kind))
    }

    /// A WHEP offer against the stream's tracks (`mimeType` by kind): every section receives
    /// (recvonly/sendrecv); a section of a kind the stream sends offers its codec; at least one
    /// section receives something the stream sends.
    static func viewer(_ offer: String, streamCodecs: [MediaKind: String]) throws(LiveError) {
        let media = live(try sections(of: offer))
        guard !media.isEmpty else { throw .unprocessable("the offer has no audio or video section") }
        var served = false
        for section in media {
            let name = "m=\(section.kind.rawValue)" + (section.mid.map { " (mid \($0))" } ?? "")
            guard section.direction == .recvonly || section.direction == .sendrecv else {
                throw .unprocessable("\(name) is \(section.direction.rawValue): a WHEP offer receives (recvonly)")
            }
            guard let mime = streamCodecs[section.kind] else { continue }
            guard section.codecs.contains(where: { $0.mimeType(kind: section.kind).lowercased() == mime.lowercased() }) else {
                throw .unprocessable("\(name) does not offer \(mime), the stream's codec")
            }
            served = true
        }
        guard served else {
            let sent = streamCodecs.values.sorted().joined(separator: ", ")
            throw .unprocessable("the offer receives nothing the stream sends (\(sent))")
        }
    }
}
