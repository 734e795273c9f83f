/// The kind of an RTP media section or track: `m=audio` or `m=video` (W3C `MediaStreamTrack.kind`).
public enum MediaKind: String, Sendable, Hashable, CaseIterable {
    /// `m=audio`.
    case audio
    /// `m=video`.
    case video
}
