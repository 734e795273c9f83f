/// A certificate fingerprint as signalled in SDP (`a=fingerprint`, RFC 8122) and in W3C
/// `RTCDtlsFingerprint`: a hash function and the digest of the DER certificate.
public struct DtlsFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// The hash functions a fingerprint may use. SHA-1 and MD5 are refused (RFC 8122 §5: MUST use
    /// the certificate's signature hash or stronger; browsers send SHA-256).
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case sha256 = "sha-256"
        case sha384 = "sha-384"
        case sha512 = "sha-512"

        /// The digest length in bytes.
        public var digestLength: Int {
            switch self {
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }
    }

    public var algorithm: Algorithm
    /// The digest bytes.
    public var digest: [UInt8]

    /// A fingerprint from its parts; the digest must have the algorithm's length.
    public init(algorithm: Algorithm, digest: [UInt8]) throws(DtlsError) {
        guard digest.count == algorithm.digestLength else {
            throw DtlsError(
                .invalidParameters, field: "fingerprint",
                reason: "a \(algorithm.rawValue) digest has \(algorithm.digestLength) bytes, not \(digest.count)")
        }
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Parses the value of an `a=fingerprint` attribute: `sha-256 AB:CD:…` (hash name in any case,
    /// hex pairs in any case, separated by colons; RFC 8122 §5).
    public init(parsing text: some StringProtocol) throws(DtlsError) {
        let limit = 512  // the longest valid value (sha-512) has 199 characters
        guard text.utf8.count <= limit else {
            throw DtlsError(.invalidParameters, field: "fingerprint", reason: "longer than \(limit) bytes")
        }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw DtlsError(.invalidParameters, field: "fingerprint", reason: "expected '<hash> <hex pairs>'")
        }
        let name = parts[0].lowercased()
        guard let algorithm = Algorithm(rawValue: name) else {
            throw DtlsError(
                .invalidParameters, field: "fingerprint",
                reason: "hash function '\(name.prefix(16))' is not one of sha-256, sha-384, sha-512")
        }
        var digest: [UInt8] = []
        for pair in parts[1].split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.utf8.count == 2, let byte = UInt8(pair, radix: 16) else {
                throw DtlsError(.invalidParameters, field: "fingerprint", reason: "'\(pair.prefix(8))' is not a hex pair")
            }
            digest.append(byte)
        }
        try self.init(algorithm: algorithm, digest: digest)
    }

    /// RFC 8122 form: `sha-256 AB:CD:…` (upper-case hex pairs joined by colons).
    public var description: String { "\(algorithm.rawValue) \(hexValue)" }

    /// The digest alone, in RFC 8122 form (`AB:CD:…`): W3C `RTCDtlsFingerprint.value`.
    public var hexValue: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 3)
        for (i, b) in digest.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ":")) }
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
