/// The kind of an RTP media stream, as SDP's `m=audio` / `m=video` and W3C's track `kind`.
public enum MediaKind: String, Sendable, Hashable, CaseIterable {
    case audio
    case video
}
