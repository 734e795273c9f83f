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
/// most once per level. A malformed value throws with the line number; every other line is ignored.
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
    /// - Throws: ``DtlsError`` `invalidParameters`, field `a=setup` or `a=fingerprint` (or `sdp` for a
    ///   text over `IceDescription.maximumLength`), the reason starting with the 1-based line number.
    public init(parsing sdp: String) throws(DtlsError) {
        guard sdp.utf8.count <= IceDescription.maximumLength else {
            throw DtlsError(.invalidParameters, field: "sdp", reason: "longer than \(IceDescription.maximumLength) bytes")
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
            func fail(_ field: String, _ error: DtlsError) -> DtlsError {
                DtlsError(.invalidParameters, field: field, reason: "line \(lineNumber): \(error.reason)")
            }
            switch name {
            case "setup":
                let role: DtlsRole
                do { role = try DtlsRole(setup: value.trimmingSpaces) } catch { throw fail("a=setup", error) }
                if sections.isEmpty {
                    guard session.role == nil else { throw fail("a=setup", DtlsError(.invalidParameters, reason: "given twice")) }
                    session.role = role
                } else {
                    guard sections[sections.count - 1].role == nil else {
                        throw fail("a=setup", DtlsError(.invalidParameters, reason: "given twice"))
                    }
                    sections[sections.count - 1].role = role
                }
            case "fingerprint":
                let fingerprint: DtlsFingerprint
                do { fingerprint = try DtlsFingerprint(parsing: value) } catch { throw fail("a=fingerprint", error) }
                let count = sections.isEmpty ? session.fingerprints.count : sections[sections.count - 1].fingerprints.count
                guard count < Self.maximumFingerprints else {
                    throw fail("a=fingerprint", DtlsError(.invalidParameters, reason: "more than \(Self.maximumFingerprints) fingerprints"))
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
    /// - Throws: ``DtlsError`` `invalidParameters` when there is no such section, it has no
    ///   fingerprint (RFC 8122: required for DTLS), or no `a=setup` and no `defaultRole`.
    public func parameters(forMid mid: String?, defaultRole: DtlsRole? = nil) throws(DtlsError) -> DtlsParameters {
        guard let section = mid.map({ m in media.first { $0.mid == m } }) ?? media.first else {
            throw DtlsError(.invalidParameters, field: "a=mid", reason: "no media section with mid '\(mid ?? "")'")
        }
        guard !section.fingerprints.isEmpty else {
            throw DtlsError(.invalidParameters, field: "a=fingerprint", reason: "media section \(section.mLineIndex) has no fingerprint")
        }
        guard let role = section.role ?? defaultRole else {
            throw DtlsError(.invalidParameters, field: "a=setup", reason: "media section \(section.mLineIndex) has no a=setup")
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
