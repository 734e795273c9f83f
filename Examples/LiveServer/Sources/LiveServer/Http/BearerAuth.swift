// `Authorization: Bearer <token>` on WHIP and WHEP (RFC 9725 §4.5, RFC 6750).

/// Checks a request's `Authorization` against the configured token.
struct BearerAuth: Sendable {
    /// The token's bytes; empty = no token configured (every request allowed).
    private let expected: [UInt8]

    init(token: String?) {
        expected = Array((token ?? "").utf8)
    }

    enum Verdict: Equatable, Sendable {
        case allowed
        /// 401 with `WWW-Authenticate: Bearer`: no credentials (or not Bearer ones).
        case missing
        /// 403: a Bearer token that is not ours.
        case wrong
    }

    /// The verdict for the `Authorization` header values (one expected).
    func check(_ authorization: [String]) -> Verdict {
        guard !expected.isEmpty else { return .allowed }
        guard authorization.count == 1, let header = authorization.first else { return .missing }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .missing }
        var presented = parts[1]
        while let last = presented.last, last == " " || last == "\t" { presented = presented.dropLast() }
        return Self.constantTimeEqual(Array(presented.utf8), expected) ? .allowed : .wrong
    }

    /// Compares without an early exit: the time depends on the lengths only, not on where the
    /// first difference is.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(a.count ^ b.count)
        let count = max(a.count, b.count)
        for index in 0..<count {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
