// The per-WebSocket signalling budget: at most `limit` messages in each one-second window, and
// at most one `rate` error per window for the messages dropped beyond it.

/// A fixed-window message counter for one WebSocket (docs/echo-signalling.md, "Limits"). Not
/// shared: the WebSocket's reader owns it.
struct RateLimiter: Sendable {
    /// What to do with one message.
    enum Verdict: Equatable, Sendable {
        /// Within the budget: handle it.
        case accept
        /// Over the budget: drop it and send the `rate` error (the first drop of this window).
        case dropAndReport
        /// Over the budget, reported already in this window: drop it silently.
        case drop
    }

    /// Messages accepted per window.
    let limit: Int
    /// The window's length.
    let window: Duration
    private var windowStart: ContinuousClock.Instant?
    private var accepted = 0
    private var reported = false
    /// Messages dropped so far (for the log when the socket closes).
    private(set) var dropped = 0

    init(limit: Int, window: Duration = .seconds(1)) {
        self.limit = limit
        self.window = window
    }

    /// Counts one message arriving at `now`.
    mutating func admit(at now: ContinuousClock.Instant = .now) -> Verdict {
        if let start = windowStart, now - start < window {
            // same window
        } else {
            windowStart = now
            accepted = 0
            reported = false
        }
        if accepted < limit {
            accepted += 1
            return .accept
        }
        dropped += 1
        if reported { return .drop }
        reported = true
        return .dropAndReport
    }
}
