/// Wrap-aware arithmetic on 16-bit RTP sequence numbers (RFC 3550 §A.1; serial number
/// arithmetic as RFC 1982): `b` is newer than `a` when it lies less than half the space ahead.
public enum RtpSequenceNumber {
    /// Whether `a` comes after `b`. Exactly half the space apart (0x8000), the numerically larger
    /// one is newer, so exactly one of `isNewer(a, than: b)` and `isNewer(b, than: a)` holds for
    /// `a != b` (as libwebrtc's `IsNewerSequenceNumber`).
    public static func isNewer(_ a: UInt16, than b: UInt16) -> Bool {
        let d = a &- b
        if d == 0x8000 { return a > b }
        return d != 0 && d < 0x8000
    }

    /// The signed steps from `a` to `b` (-32768…32768): `b == a &+ UInt16(truncatingIfNeeded:)`
    /// of it, positive exactly when `b` is newer than `a`.
    public static func distance(from a: UInt16, to b: UInt16) -> Int {
        let d = b &- a
        if d == 0x8000 { return b > a ? 32_768 : -32_768 }
        return Int(Int16(bitPattern: d))
    }
}

/// Extends 16-bit sequence numbers to 64 bits across wrap-arounds (as libwebrtc's
/// `SeqNumUnwrapper`): each number is placed at the signed distance from the previous one, so a
/// reordered packet from before a wrap unwraps below it. The first number unwraps to itself;
/// numbers before it are negative.
public struct RtpSequenceUnwrapper: Sendable, Hashable {
    private var last: Int64?

    /// An unwrapper that has seen no number yet.
    public init() {}

    /// The last unwrapped value, if any.
    public var lastUnwrapped: Int64? { last }

    /// Unwraps `sequenceNumber` and remembers it as the latest.
    public mutating func unwrap(_ sequenceNumber: UInt16) -> Int64 {
        let value = peek(sequenceNumber)
        last = value
        return value
    }

    /// What ``unwrap(_:)`` would return, without remembering it.
    public func peek(_ sequenceNumber: UInt16) -> Int64 {
        guard let last else { return Int64(sequenceNumber) }
        // Each step moves at most 2^15, so 2^47 calls would be needed to leave Int64.
        return last + Int64(RtpSequenceNumber.distance(from: UInt16(truncatingIfNeeded: last), to: sequenceNumber))
    }
}
