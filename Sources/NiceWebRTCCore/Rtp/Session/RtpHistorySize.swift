/// The sizing rule both packet histories share (``RtpSendHistory``, a sender's own; and
/// ``RtpTrackHistory``, a track's shared ring): slots a power of two so a sequence number or
/// write index maps to its slot with a mask, clamped to 1…32,768; a byte budget of at least one
/// 1,500-byte packet.
enum RtpHistorySize {
    /// `capacity` clamped to 1…32,768 and rounded up to a power of two.
    static func slots(_ capacity: Int) -> Int {
        let wanted = min(max(capacity, 1), 32_768)
        var size = 1
        while size < wanted { size <<= 1 }
        return size
    }

    /// `maxBytes`, at least 1,500.
    static func bytes(_ maxBytes: Int) -> Int { max(maxBytes, 1_500) }
}
