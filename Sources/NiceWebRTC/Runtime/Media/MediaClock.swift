import Dispatch
import Foundation

/// The media runtime's two clocks, read only here: a monotonic one (nanoseconds since boot, for
/// every duration the RTCP state machines measure) and the wall clock as a 64-bit NTP timestamp
/// (seconds since 1900 in the high 32 bits, fraction in the low 32; for SR and LSR/DLSR).
enum MediaClock {
    /// Monotonic nanoseconds.
    static func monotonic() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The wall clock now, as NTP.
    static func ntp() -> UInt64 {
        let t = Date().timeIntervalSince1970 + 2_208_988_800
        guard t.isFinite, t > 0 else { return 0 }
        let seconds = t.rounded(.down)
        let fraction = UInt64(min((t - seconds) * 4_294_967_296, 4_294_967_295))
        return UInt64(seconds) << 32 | fraction
    }
}
