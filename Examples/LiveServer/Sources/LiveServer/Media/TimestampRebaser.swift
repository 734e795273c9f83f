/// Keeps the RTP timestamps a stream's viewers receive continuous when the source behind the
/// stream changes (a new publisher session, or the publisher's SSRC changing): pure, one per
/// stream and kind.
///
/// Viewers keep one sender (one SSRC, sequence numbers continuous: the library rewrites them
/// per sender) for the stream's lifetime, while each publisher starts its timestamps at a random
/// value. Without rebasing a viewer would see its timestamps jump by up to 2³², which jitter
/// buffers take for a stall of hours. The first packet of a new source therefore continues from
/// the last packet written plus the wall-clock gap between them, in clock units (at least one
/// tick); every later packet of that source keeps its distance to that first one.
///
/// ```swift
/// var rebaser = TimestampRebaser(clockRate: 90_000)
/// packet.timestamp = rebaser.rebase(packet.timestamp, source: .init(generation: 1, ssrc: packet.ssrc), at: .now)
/// ```
struct TimestampRebaser: Sendable {
    /// Which publisher session and SSRC a packet came from.
    struct Source: Sendable, Hashable {
        /// The publisher session's number on its stream (a new publisher: a new generation).
        var generation: UInt64
        var ssrc: UInt32
    }

    let clockRate: UInt32
    private var source: Source?
    /// Added (wrapping) to the current source's timestamps.
    private(set) var offset: UInt32 = 0
    private var last: (timestamp: UInt32, at: ContinuousClock.Instant)?

    init(clockRate: UInt32) {
        self.clockRate = max(1, clockRate)
    }

    /// The timestamp to write for a packet of `source` with timestamp `timestamp`, read at `now`.
    mutating func rebase(_ timestamp: UInt32, source: Source, at now: ContinuousClock.Instant) -> UInt32 {
        if source != self.source {
            if let last {
                let ticks = max(1, Self.ticks(now - last.at, clockRate: clockRate))
                offset = last.timestamp &+ ticks &- timestamp
            } else {
                offset = 0  // the stream's first source goes through unchanged
            }
            self.source = source
        }
        let out = timestamp &+ offset
        // Only a packet newer than the last (mod 2³²) moves the reference: a reordered older
        // one must not pull it back.
        if let last, Int32(bitPattern: out &- last.timestamp) < 0 {
            return out
        }
        last = (out, now)
        return out
    }

    /// `gap` in clock units, clamped to 2³¹ − 1 (a gap of more than half the timestamp space
    /// cannot be told from a step backwards).
    static func ticks(_ gap: Duration, clockRate: UInt32) -> UInt32 {
        guard gap > .zero else { return 0 }
        let (seconds, attoseconds) = gap.components
        let whole = Double(seconds) + Double(attoseconds) / 1e18
        let value = whole * Double(clockRate)
        return value >= Double(Int32.max) ? UInt32(Int32.max) : UInt32(value)
    }
}
