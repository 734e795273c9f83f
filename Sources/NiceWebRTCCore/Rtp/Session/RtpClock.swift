/// Time arithmetic shared by the media control plane. Nothing here reads a clock: callers pass
/// a monotonic time in nanoseconds (`now`) and, where RTCP needs it, a 64-bit NTP wall-clock
/// timestamp (seconds since 1900 in the high 32 bits, fraction in the low 32).
public enum RtpClock {
    /// Nanoseconds in one millisecond.
    public static let millisecond: UInt64 = 1_000_000
    /// Nanoseconds in one second.
    public static let second: UInt64 = 1_000_000_000

    /// The middle 32 bits of an NTP timestamp (the "compact" form RTCP's LSR/DLSR use, in
    /// 1/65536 s).
    public static func compactNtp(_ ntp: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ntp >> 16)
    }

    /// `nanoseconds` in 1/65536 s, saturating at `UInt32.max` (about 18 hours).
    public static func compact(nanoseconds: UInt64) -> UInt32 {
        let (high, low) = nanoseconds.multipliedFullWidth(by: 65_536)
        // high < 65536 < 10^9, so the quotient fits in 64 bits.
        let (quotient, _) = second.dividingFullWidth((high, low))
        return UInt32(clamping: quotient)
    }

    /// A compact-NTP duration (1/65536 s) in seconds.
    public static func seconds(compact: UInt32) -> Double {
        Double(compact) / 65_536
    }

    /// `nanoseconds` (signed) in RTP timestamp units of `clockRate` Hz, rounded to nearest.
    static func rtpUnits(nanoseconds: Int64, clockRate: UInt32) -> Int64 {
        let units = (Double(nanoseconds) * Double(clockRate) / 1e9).rounded()
        guard units.isFinite, units > -9.0e18, units < 9.0e18 else { return units < 0 ? Int64.min / 2 : Int64.max / 2 }
        return Int64(units)
    }

    /// `later - earlier` as a signed value, saturating instead of trapping.
    static func difference(_ later: UInt64, _ earlier: UInt64) -> Int64 {
        if later >= earlier { return Int64(clamping: later - earlier) }
        let back = earlier - later
        return back > UInt64(Int64.max) ? Int64.min : -Int64(back)
    }
}
