/// SRTP master keys and salts derived from a DTLS handshake (RFC 5764 §4.2), for one profile.
///
/// **Secret.** The value never prints its bytes: `description`, `debugDescription` and its mirror
/// show the profile only, so logging it, `dump`ing it or a failed test expectation reveals nothing.
package struct DtlsSrtpKeys: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// One direction's keying: the write key and salt of the DTLS client or of the server.
    package struct Direction: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        package let key: [UInt8]
        package let salt: [UInt8]
        package var description: String { "<\(key.count)-byte key, \(salt.count)-byte salt: redacted>" }
        package var debugDescription: String { description }
        package var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .struct) }
    }

    package let profile: SrtpProfile
    /// What the DTLS client protects with (and the server unprotects with).
    package let client: Direction
    /// What the DTLS server protects with (and the client unprotects with).
    package let server: Direction

    /// Splits the exporter's output, laid out as client key | server key | client salt | server
    /// salt (RFC 5764 §4.2). Nil when `material` is not ``SrtpProfile/keyingMaterialLength`` long.
    package init?(profile: SrtpProfile, material: [UInt8]) {
        guard material.count == profile.keyingMaterialLength else { return nil }
        let k = profile.keyLength, s = profile.saltLength
        self.profile = profile
        client = Direction(key: Array(material[0..<k]), salt: Array(material[2 * k..<2 * k + s]))
        server = Direction(key: Array(material[k..<2 * k]), salt: Array(material[2 * k + s..<2 * k + 2 * s]))
    }

    /// The keys we protect with: the client's when we are the DTLS client (RFC 5764 §4.2).
    package func outbound(localIsClient: Bool) -> Direction { localIsClient ? client : server }
    /// The keys the peer protects with, which we unprotect with.
    package func inbound(localIsClient: Bool) -> Direction { localIsClient ? server : client }

    package var description: String { "DtlsSrtpKeys(\(profile.rawValue), redacted)" }
    package var debugDescription: String { description }
    package var customMirror: Mirror { Mirror(self, children: ["profile": profile], displayStyle: .struct) }
}
