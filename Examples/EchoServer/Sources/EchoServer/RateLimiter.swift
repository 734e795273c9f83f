// The per-WebSocket signalling budget: at most `limit` messages in each one-second window, and
// at most one `rate` error per window for the messages dropped beyond it. And the server-wide
// budget of offers (ICE restarts included): a token bucket shared by every session.
import Synchronization

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

/// A token bucket shared by every session (`--offer-rate`, `--offer-burst`): at most `burst`
/// offers at once, refilled at `rate` per second. Thread-safe.
final class TokenBucket: Sendable {
    /// Tokens added per second.
    let rate: Double
    /// The bucket's size (and its content at start).
    let burst: Int
    private let state: Mutex<(tokens: Double, last: ContinuousClock.Instant?, refused: Int)>

    init(rate: Double, burst: Int) {
        self.rate = max(rate, 0)
        self.burst = max(burst, 1)
        state = Mutex((Double(max(burst, 1)), nil, 0))
    }

    /// Takes one token if there is one at `now`; false (and nothing taken) if the budget is spent.
    func take(at now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { s in
            if let last = s.last, now > last {
                let (seconds, attoseconds) = (now - last).components
                let elapsed = Double(seconds) + Double(attoseconds) / 1e18
                s.tokens = min(Double(burst), s.tokens + elapsed * rate)
            }
            if s.last.map({ now > $0 }) ?? true { s.last = now }
            guard s.tokens >= 1 else {
                s.refused += 1
                return false
            }
            s.tokens -= 1
            return true
        }
    }

    /// Offers refused so far (for the logs).
    var refused: Int { state.withLock { $0.refused } }
}
