/// When to send the next RTCP report (RFC 3550 §6.2, simplified as browsers do: a fixed
/// interval — 1 s for video, 5 s for audio — scaled by a random factor in [0.5, 1.5), the
/// first one after half an interval). The caller passes the random value, so this stays pure.
public struct RtcpIntervalTimer: Sendable, Hashable {
    /// The mean interval, nanoseconds.
    public let interval: UInt64
    private var sentFirst = false

    /// A timer with mean `interval` nanoseconds (at least 1 ms).
    public init(interval: UInt64) {
        self.interval = max(interval, RtpClock.millisecond)
    }

    /// A timer with the usual mean interval for `kind`: 1 s video, 5 s audio.
    public init(kind: MediaKind) {
        self.init(interval: kind == .video ? RtpClock.second : 5 * RtpClock.second)
    }

    /// The deadline of the next report after `now`, given `random` (uniform over `UInt32`):
    /// `now + interval × (0.5 + random / 2^32)`, halved for the first report.
    public mutating func nextDeadline(after now: UInt64, random: UInt32) -> UInt64 {
        let factor = 0.5 + Double(random) / 4_294_967_296
        var delay = UInt64(Double(interval) * factor)
        if !sentFirst {
            delay /= 2
            sentFirst = true
        }
        return now &+ max(delay, 1)
    }
}
