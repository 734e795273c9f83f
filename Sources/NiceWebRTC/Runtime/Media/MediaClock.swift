import Dispatch
import Foundation
import Synchronization

/// The media runtime's two clocks, read only here: a monotonic one (nanoseconds since boot, for
/// every duration the RTCP state machines measure) and the wall clock as a 64-bit NTP timestamp
/// (seconds since 1900 in the high 32 bits, fraction in the low 32; for SR and LSR/DLSR).
///
/// Each ``RtcpEngine`` owns one. In production both read the system clocks as they are; a test
/// moves one engine's clocks forward with ``advance(by:)`` (past a keyframe-request interval, say)
/// instead of sleeping, without touching any other connection's time.
final class MediaClock: Sendable {
    /// Nanoseconds added to both clocks: zero unless a test advanced this clock.
    private let skew = Atomic<UInt64>(0)

    init() {}

    /// Monotonic nanoseconds.
    func monotonic() -> UInt64 { DispatchTime.now().uptimeNanoseconds &+ skew.load(ordering: .relaxed) }

    /// The wall clock now, as NTP.
    func ntp() -> UInt64 {
        let t = Date().timeIntervalSince1970 + 2_208_988_800 + Double(skew.load(ordering: .relaxed)) / 1e9
        guard t.isFinite, t > 0 else { return 0 }
        let seconds = t.rounded(.down)
        let fraction = UInt64(min((t - seconds) * 4_294_967_296, 4_294_967_295))
        return UInt64(seconds) << 32 | fraction
    }

    /// Moves both clocks forward by `duration` (tests only; a negative duration does nothing).
    func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return }
        let nanoseconds = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ UInt64(attoseconds / 1_000_000_000)
        skew.add(nanoseconds, ordering: .relaxed)
    }
}
