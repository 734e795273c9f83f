/// The ICE role of an agent (W3C `RTCIceRole`, RFC 8445 §6.1.1), without W3C's `unknown`.
///
/// In offer/answer the role follows from who offers: see
/// ``IceDescription/answererRole(iceLite:)``.
public enum IceRole: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Nominates the candidate pair (in WebRTC, the offerer unless the offer has `a=ice-lite`).
    case controlling
    /// Follows the controlling agent's nomination (in WebRTC, the answerer, and every ICE-lite agent).
    case controlled

    public var description: String { rawValue }
}
