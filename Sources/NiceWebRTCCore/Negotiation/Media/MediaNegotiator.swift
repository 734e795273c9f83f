/// Codec and header-extension negotiation for one section (JSEP, RFC 8829 §5.3.1): what an
/// answer keeps of an offer, given our ``MediaCapabilities``.
///
/// - Codecs: every offered codec that matches one of ours, in the offer's order with the
///   offerer's payload types. A match has the same name (case-insensitive), clock rate and
///   channels; for H.264 (RFC 6184 §8.2.2) the same profile (``H264ProfileLevelId/Profile``) and
///   `packetization-mode` (0 when absent), and the answer's level is the lower of both unless
///   both allow level asymmetry (then ours). The answer's fmtp is ours (H.264: the offer's with
///   that profile-level-id); its `rtcp-fb` the entries both have.
/// - RTX: an offered RTX payload type is kept only if the codec its `apt` names is kept and we
///   have RTX for that codec.
/// - Header extensions: the offered ones whose URI we support, with the offerer's ids.
public enum MediaNegotiator {
    /// The codecs an answer to `offered` keeps (see the type's description); empty when none match.
    public static func answerCodecs(offered: [RtpCodecParameters], local: [RtpCodecParameters]) -> [RtpCodecParameters] {
        var kept: [UInt8: RtpCodecParameters] = [:]
        var localRtxFor = Set<UInt8>()  // local payload types that have RTX
        for codec in local where codec.isRtx {
            if let apt = codec.apt { localRtxFor.insert(apt) }
        }
        var matchedLocal: [UInt8: UInt8] = [:]  // offered payload type → local payload type
        for codec in offered where !codec.isRtx && !codec.name.isEmpty {
            for candidate in local where !candidate.isRtx {
                if let answer = negotiate(offered: codec, local: candidate) {
                    kept[codec.payloadType] = answer
                    matchedLocal[codec.payloadType] = candidate.payloadType
                    break
                }
            }
        }
        var result: [RtpCodecParameters] = []
        for codec in offered {
            if let answer = kept[codec.payloadType], !codec.isRtx {
                result.append(answer)
            } else if codec.isRtx, let apt = codec.apt, kept[apt] != nil, let localPayloadType = matchedLocal[apt],
                localRtxFor.contains(localPayloadType)
            {
                var rtx = codec
                rtx.rtcpFeedback = []
                result.append(rtx)
            }
        }
        return result
    }

    /// The answer's codec for `offered` when `local` matches it, nil otherwise.
    public static func negotiate(offered: RtpCodecParameters, local: RtpCodecParameters) -> RtpCodecParameters? {
        guard offered.sameEncoding(local) else { return nil }
        var answer = offered
        answer.rtcpFeedback = offered.rtcpFeedback.filter { local.rtcpFeedback.contains($0) }
        guard offered.name.lowercased() == "h264" else {
            answer.fmtp = local.fmtp
            return answer
        }
        guard (offered.parameter("packetization-mode") ?? "0") == (local.parameter("packetization-mode") ?? "0"),
            let theirs = H264ProfileLevelId(offered.parameter("profile-level-id") ?? H264ProfileLevelId.defaultText),
            let ours = H264ProfileLevelId(local.parameter("profile-level-id") ?? H264ProfileLevelId.defaultText),
            theirs.profile == ours.profile
        else { return nil }
        let asymmetry = offered.parameter("level-asymmetry-allowed") == "1" && local.parameter("level-asymmetry-allowed") == "1"
        let level = asymmetry ? ours.level : min(theirs.level, ours.level)
        let profileLevelId = theirs.text(level: level)
        if let index = answer.fmtp.firstIndex(where: { $0.name.lowercased() == "profile-level-id" }) {
            answer.fmtp[index].value = profileLevelId
        } else {
            answer.fmtp.append(FmtpParameter("profile-level-id", profileLevelId))
        }
        return answer
    }

    /// The header extensions an answer keeps: the offered ones whose URI is in `local`, with
    /// the offerer's ids (and no direction).
    public static func answerHeaderExtensions(
        offered: [RtpHeaderExtensionParameters], local: [RtpHeaderExtensionParameters]
    ) -> [RtpHeaderExtensionParameters] {
        let uris = Set(local.map(\.uri))
        return offered.filter { uris.contains($0.uri) && $0.direction != .inactive }.map { RtpHeaderExtensionParameters(id: $0.id, uri: $0.uri) }
    }
}
