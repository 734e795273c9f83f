import NiceICECore

/// The DTLS part of one SDP offer or answer, the sibling of `IceDescription`: each media section's
/// `a=setup` and `a=fingerprint` (RFC 8842, RFC 8122).
///
/// ```swift
/// let dtls = try DtlsDescription(parsing: offerSDP)
/// let remote = try dtls.parameters(forMid: "0")   // DtlsParameters: role .auto (actpass), 1 fingerprint
/// let answerLines = DtlsDescription.attributeLines(transport.localParameters)
/// ```
///
/// Reading rules: `a=fingerprint` and `a=setup` may appear at session level, media level or both; a
/// media section that has its own value uses it, otherwise the session-level one. Several
/// `a=fingerprint` lines may be given (the peer's certificate must match one of them); `a=setup` at
/// most once per level. A malformed value throws an ``SdpError`` with the line number; every other
/// line is ignored.
public struct DtlsDescription: Sendable, Hashable {
    /// One media section's DTLS values.
    public struct Media: Sendable, Hashable {
        public var mid: String?
        public var mLineIndex: Int
        /// `nil` when neither the section nor the session gave `a=setup`.
        public var role: DtlsRole?
        public var fingerprints: [DtlsFingerprint]

        public init(mid: String?, mLineIndex: Int, role: DtlsRole?, fingerprints: [DtlsFingerprint]) {
            self.mid = mid
            self.mLineIndex = mLineIndex
            self.role = role
            self.fingerprints = fingerprints
        }
    }

    /// Most `a=fingerprint` lines kept per level (browsers send one).
    public static let maximumFingerprints = 8

    public var media: [Media]

    public init(media: [Media]) { self.media = media }

    /// Reads the DTLS lines of a whole SDP (CRLF or LF line endings).
    ///
    /// - Throws: ``SdpError`` with field `a=setup` or `a=fingerprint` and the 1-based ``SdpError/line``:
    ///   ``SdpError/Code/invalidValue`` for a value that does not parse (the reason is that of
    ///   ``DtlsRole/init(setup:)`` or ``DtlsFingerprint/init(parsing:)``),
    ///   ``SdpError/Code/malformed`` for `a=setup` given twice at one level,
    ///   ``SdpError/Code/unsupported`` for more than ``maximumFingerprints`` fingerprints at one
    ///   level; ``SdpError/Code/malformed`` with field `sdp` for a text over
    ///   `IceDescription.maximumLength`.
    public init(parsing sdp: String) throws(SdpError) {
        guard sdp.utf8.count <= IceDescription.maximumLength else {
            throw SdpError(.malformed, field: "sdp", reason: "longer than \(IceDescription.maximumLength) bytes")
        }
        struct Level {
            var mid: String?
            var role: DtlsRole?
            var fingerprints: [DtlsFingerprint] = []
        }
        var session = Level()
        var sections: [Level] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on both forms.
        for line in sdp.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.hasPrefix("m=") {
                sections.append(Level())
                continue
            }
            guard line.hasPrefix("a=") else { continue }
            let attribute = line.dropFirst(2)
            let name = attribute.prefix { $0 != ":" }
            let value = attribute.dropFirst(name.count + 1)
            switch name {
            case "setup":
                let role: DtlsRole
                do { role = try DtlsRole(setup: value.trimmingSpaces) } catch { throw SdpError("a=setup", line: lineNumber, dtls: error) }
                let current = sections.isEmpty ? session.role : sections[sections.count - 1].role
                guard current == nil else {
                    throw SdpError(
                        .malformed, field: "a=setup", line: lineNumber,
                        reason: "given twice in one \(sections.isEmpty ? "session" : "media") section")
                }
                if sections.isEmpty { session.role = role } else { sections[sections.count - 1].role = role }
            case "fingerprint":
                let fingerprint: DtlsFingerprint
                do { fingerprint = try DtlsFingerprint(parsing: value) } catch {
                    throw SdpError("a=fingerprint", line: lineNumber, dtls: error)
                }
                let count = sections.isEmpty ? session.fingerprints.count : sections[sections.count - 1].fingerprints.count
                guard count < Self.maximumFingerprints else {
                    throw SdpError(
                        .unsupported, field: "a=fingerprint", line: lineNumber, reason: "more than \(Self.maximumFingerprints) fingerprints")
                }
                if sections.isEmpty { session.fingerprints.append(fingerprint) } else {
                    sections[sections.count - 1].fingerprints.append(fingerprint)
                }
            case "mid" where !sections.isEmpty:
                sections[sections.count - 1].mid = String(value.trimmingSpaces)
            default:
                continue
            }
        }
        media = sections.enumerated().map { index, level in
            Media(
                mid: level.mid, mLineIndex: index, role: level.role ?? session.role,
                fingerprints: level.fingerprints.isEmpty ? session.fingerprints : level.fingerprints)
        }
    }

    /// The parameters of the media section with `mid` (or the first section when `mid` is `nil`).
    ///
    /// - Parameter defaultRole: the role to assume when neither the section nor the session has
    ///   `a=setup` (RFC 8842 §5.3 lets an old offerer omit it, meaning `active`); `nil` refuses.
    /// - Throws: ``SdpError`` ``SdpError/Code/missing`` with field `a=mid` when there is no such
    ///   section, `a=fingerprint` when it has no fingerprint (RFC 8122: required for DTLS), or
    ///   `a=setup` when it has no `a=setup` and there is no `defaultRole`.
    public func parameters(forMid mid: String?, defaultRole: DtlsRole? = nil) throws(SdpError) -> DtlsParameters {
        guard let section = mid.map({ m in media.first { $0.mid == m } }) ?? media.first else {
            throw SdpError(.missing, field: "a=mid", reason: "no media section with mid \(SessionLines.excerpt(mid ?? ""))")
        }
        guard !section.fingerprints.isEmpty else {
            throw SdpError(.missing, field: "a=fingerprint", reason: "media section \(section.mLineIndex) has no fingerprint")
        }
        guard let role = section.role ?? defaultRole else {
            throw SdpError(.missing, field: "a=setup", reason: "media section \(section.mLineIndex) has no a=setup")
        }
        return DtlsParameters(role: role, fingerprints: section.fingerprints)
    }

    /// Writes `a=setup:…\r\n` and one `a=fingerprint:…\r\n` per fingerprint.
    public static func attributeLines(_ parameters: DtlsParameters) -> String {
        var lines = "a=setup:" + parameters.role.setupValue + "\r\n"
        for f in parameters.fingerprints { lines += "a=fingerprint:" + f.description + "\r\n" }
        return lines
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
