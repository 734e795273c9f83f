/// ICE credentials: the username fragment and password of one side (RFC 8839 §5.4).
///
/// Printing a value never reveals the password:
///
/// ```swift
/// let p = IceParameters(usernameFragment: "abcd", password: "0123456789abcdefghijkl")
/// "\(p)" // "IceParameters(ufrag: abcd, password: <redacted>)"
/// ```
public struct IceParameters: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The allowed `ice-ufrag` lengths; libnice generates 4 characters, the minimum.
    public static let usernameFragmentLengths = 4...256
    /// The allowed `ice-pwd` lengths; libnice generates 22 characters, the minimum.
    public static let passwordLengths = 22...256

    /// The username fragment (`a=ice-ufrag`).
    public var usernameFragment: String
    /// The password (`a=ice-pwd`). Never printed.
    public var password: String

    /// Creates parameters without validating them; call ``validate()`` on remote input.
    public init(usernameFragment: String, password: String) {
        self.usernameFragment = usernameFragment
        self.password = password
    }

    /// Checks RFC 8839 §5.4: a ufrag of 4 to 256 and a password of 22 to 256 ice-chars
    /// (ALPHA, DIGIT, `+`, `/`).
    ///
    /// - Throws: ``IceError`` with code ``IceError/Code/invalidParameters`` and field `"ufrag"` or
    ///   `"password"`. The reason never contains the password.
    public func validate() throws(IceError) {
        if let reason = Self.problem(usernameFragment: usernameFragment) {
            throw IceError(.invalidParameters, field: "ufrag", reason: reason)
        }
        if let reason = Self.problem(password: password) {
            throw IceError(.invalidParameters, field: "password", reason: reason)
        }
    }

    /// `IceParameters(ufrag: <ufrag>, password: <redacted>)`.
    public var description: String {
        "IceParameters(ufrag: \(usernameFragment), password: <redacted>)"
    }

    /// The same as ``description``: the password is redacted.
    public var debugDescription: String { description }

    /// A mirror that shows the password as `<redacted>`, so `dump` does not reveal it either.
    public var customMirror: Mirror {
        Mirror(self, children: ["usernameFragment": usernameFragment, "password": "<redacted>"])
    }

    /// Why `value` is not a valid `ice-ufrag`, or nil when it is.
    static func problem(usernameFragment value: String) -> String? {
        problem(value, lengths: usernameFragmentLengths, name: "ufrag")
    }

    /// Why `value` is not a valid `ice-pwd`, or nil when it is. Never quotes the value.
    static func problem(password value: String) -> String? {
        problem(value, lengths: passwordLengths, name: "password")
    }

    private static func problem(_ value: String, lengths: ClosedRange<Int>, name: String) -> String? {
        guard value.utf8.allSatisfy(CandidateGrammar.isIceChar) else {
            return "\(name) may contain only ALPHA, DIGIT, \"+\" and \"/\""
        }
        let count = value.utf8.count
        guard lengths.contains(count) else {
            return "\(name) must be \(lengths.lowerBound) to \(lengths.upperBound) characters long, not \(count)"
        }
        return nil
    }
}

extension IceParameters {
    /// Fresh random local parameters: an 8-character ufrag and a 24-character password (RFC 8839
    /// ice-chars, 144 bits of entropy from the system's secure generator).
    package static func random() -> IceParameters {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")
        var rng = SystemRandomNumberGenerator()
        func draw(_ n: Int) -> String { String((0..<n).map { _ in alphabet[Int(rng.next() % 64)] }) }
        return IceParameters(usernameFragment: draw(8), password: draw(24))
    }
}
