/// An H.264 `profile-level-id` (RFC 6184 §8.1: profile_idc, profile-iop, level_idc as six hex
/// digits) reduced to what negotiation compares: the profile (as libwebrtc classifies it) and the
/// level.
public struct H264ProfileLevelId: Sendable, Hashable {
    /// The H.264 profiles WebRTC offers.
    public enum Profile: String, Sendable, Hashable {
        /// Constrained Baseline (42e0…, 4d80…, 58c0…): what browsers always offer.
        case constrainedBaseline
        /// Baseline (4200…, 5880…).
        case baseline
        /// Main (4d00…).
        case main
        /// Constrained High (640c…).
        case constrainedHigh
        /// High (6400…).
        case high
    }

    /// The profile.
    public var profile: Profile
    /// `level_idc` (31 for 3.1); level 1b is 9.
    public var level: UInt8
    /// The profile_idc and profile-iop bytes as written.
    var profileBytes: (UInt8, UInt8)

    /// The default when `profile-level-id` is absent: 42000a (baseline, level 1).
    public static let defaultText = "42000a"

    /// Reads six hex digits; nil when they do not name a known profile.
    public init?(_ text: String) {
        guard text.utf8.count == 6, let value = UInt32(text, radix: 16) else { return nil }
        let idc = UInt8(truncatingIfNeeded: value >> 16)
        let iop = UInt8(truncatingIfNeeded: value >> 8)
        var level = UInt8(truncatingIfNeeded: value)
        func matches(_ mask: UInt8, _ expected: UInt8) -> Bool { iop & mask == expected }
        let profile: Profile
        switch idc {
        case 0x42 where matches(0x4F, 0x40): profile = .constrainedBaseline
        case 0x4D where matches(0x8F, 0x80): profile = .constrainedBaseline
        case 0x58 where matches(0xCF, 0xC0): profile = .constrainedBaseline
        case 0x42 where matches(0x4F, 0x00): profile = .baseline
        case 0x58 where matches(0xCF, 0x80): profile = .baseline
        case 0x4D where matches(0xAF, 0x00): profile = .main
        case 0x64 where iop == 0x0C: profile = .constrainedHigh
        case 0x64 where iop == 0x00: profile = .high
        default: return nil
        }
        if level == 11, iop & 0x10 != 0, profile != .high, profile != .constrainedHigh { level = 9 }
        self.profile = profile
        self.level = level
        self.profileBytes = (idc, iop)
    }

    /// The six hex digits with `level` instead of ours.
    func text(level: UInt8) -> String {
        let written: UInt8 = level == 9 ? 11 : level
        return [profileBytes.0, profileBytes.1, written].map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.profile == rhs.profile && lhs.level == rhs.level && lhs.profileBytes.0 == rhs.profileBytes.0 && lhs.profileBytes.1 == rhs.profileBytes.1
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(profile)
        hasher.combine(level)
        hasher.combine(profileBytes.0)
        hasher.combine(profileBytes.1)
    }
}
