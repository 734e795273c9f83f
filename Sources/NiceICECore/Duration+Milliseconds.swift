extension Duration {
    /// Whole milliseconds, rounded up, clamped to `UInt32` (GLib timeouts, `poll` waits).
    package var milliseconds: UInt32 {
        let (s, atto) = components
        let ms = s * 1000 + (atto + 999_999_999_999_999) / 1_000_000_000_000_000
        return UInt32(clamping: max(0, ms))
    }
}
