/// Rate-limits the keyframe requests a stream sends its publisher: pure, one per stream.
///
/// At most one request per ``interval``. A request inside the interval is not lost: the gate
/// answers ``Decision/sendAt(_:)`` once (the caller sends then and calls ``sent(at:)``), and
/// every further request until that one went is ``Decision/coalesced`` with it. So a viewer that
/// joins right after another still gets a keyframe asked for *after* it joined, within one
/// interval, while a flood of PLIs from many viewers becomes at most two requests per interval's
/// worth of time at the publisher (browsers send keyframes minutes apart unless asked).
struct KeyframeGate: Sendable {
    enum Decision: Sendable, Equatable {
        /// Send now (the gate counted it as sent at the request's time).
        case sendNow
        /// Send at this instant, then call ``KeyframeGate/sent(at:)``.
        case sendAt(ContinuousClock.Instant)
        /// One is already scheduled: nothing to do.
        case coalesced
    }

    let interval: Duration
    private(set) var lastSent: ContinuousClock.Instant?
    private(set) var scheduled = false

    init(interval: Duration = .milliseconds(500)) {
        self.interval = interval
    }

    /// A request (from a viewer's PLI/FIR, or a viewer that just connected) at `now`.
    mutating func request(at now: ContinuousClock.Instant) -> Decision {
        if scheduled { return .coalesced }
        if let lastSent, now < lastSent + interval {
            scheduled = true
            return .sendAt(lastSent + interval)
        }
        lastSent = now
        return .sendNow
    }

    /// The scheduled request went at `now`.
    mutating func sent(at now: ContinuousClock.Instant) {
        scheduled = false
        lastSent = now
    }
}
