// The request rate per remote address: a token bucket each, in a table of bounded size.
import Synchronization

/// Per-address token buckets for POST and PATCH (429 beyond). Thread-safe.
///
/// The table never holds more than `maxAddresses` entries: a bucket that has refilled is the
/// same as none and is dropped when room is needed; when every tracked bucket is still in use
/// (a flood from that many addresses at once), a new address is refused rather than tracked.
final class AddressRateLimiter: Sendable {
    /// Tokens added per second and address.
    let rate: Double
    /// A bucket's size (and its content at first sight).
    let burst: Double
    let maxAddresses: Int

    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }
    private let buckets: Mutex<[String: Bucket]>

    init(rate: Double, burst: Int, maxAddresses: Int) {
        self.rate = max(rate, 0.001)
        self.burst = Double(max(burst, 1))
        self.maxAddresses = max(maxAddresses, 1)
        buckets = Mutex([:])
    }

    /// Takes a token for `address` at `now`: nil if taken, else the seconds until one is there
    /// (for `Retry-After`, at least 1).
    func take(_ address: String, at now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { table -> Int? in
            if table[address] == nil, table.count >= maxAddresses {
                // Drop the buckets that have refilled (the same as untracked).
                table = table.filter { refilled($0.value, at: now) < burst }
                if table.count >= maxAddresses { return Int((1 / rate).rounded(.up)).clamped(1, 3600) }
            }
            var bucket = table[address] ?? Bucket(tokens: burst, last: now)
            bucket.tokens = refilled(bucket, at: now)
            bucket.last = max(bucket.last, now)
            guard bucket.tokens >= 1 else {
                table[address] = bucket
                return Int(((1 - bucket.tokens) / rate).rounded(.up)).clamped(1, 3600)
            }
            bucket.tokens -= 1
            table[address] = bucket
            return nil
        }
    }

    /// Addresses tracked now.
    var count: Int { buckets.withLock { $0.count } }

    private func refilled(_ bucket: Bucket, at now: ContinuousClock.Instant) -> Double {
        guard now > bucket.last else { return bucket.tokens }
        let (seconds, attoseconds) = (now - bucket.last).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        return min(burst, bucket.tokens + elapsed * rate)
    }
}

extension Int {
    fileprivate func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(self, low), high) }
}
