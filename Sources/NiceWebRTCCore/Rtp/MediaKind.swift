/// The kind of an RTP media stream or section: SDP's `m=audio` / `m=video`, W3C's track `kind`.
public enum MediaKind: String, Sendable, Hashable, CaseIterable {
    /// `m=audio`.
    case audio
    /// `m=video`.
    case video
}
