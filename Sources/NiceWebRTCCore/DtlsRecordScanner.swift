/// Checks the record framing of a datagram before it reaches OpenSSL (RFC 6347 §4.1).
///
/// A DTLS datagram holds one or more records, each a 13-byte header (content type, version, epoch,
/// sequence number, length) and `length` bytes. RFC 6347 §4.1.2.7 says invalid records SHOULD be
/// discarded silently — but OpenSSL 3.0 answers one malformed header (a length beyond its read
/// buffer, or a protected record shorter than its cipher's nonce and tag) with a fatal
/// `internal_error` alert that ends a working session, so one forged datagram from the peer's
/// address could tear the connection down (found by this repository's hostile-input test). The
/// scanner drops such datagrams whole; what passes is framed correctly and left to OpenSSL's own
/// checks (MAC, epoch, replay window).
public enum DtlsRecordScanner {
    /// The largest record body: 2^14 plaintext plus 2,048 bytes of expansion (RFC 6347 §4.1.1,
    /// TLSCiphertext.length).
    public static let maximumRecordLength = 16_384 + 2048
    /// The most records one datagram may carry.
    public static let maximumRecordsPerDatagram = 64
    /// The longest datagram taken: one maximal record and its header (OpenSSL reads a datagram into
    /// one record buffer of about this size; a longer one would be split into bogus "datagrams").
    public static let maximumDatagramLength = 13 + maximumRecordLength

    /// Why a datagram was refused.
    public enum Defect: Sendable, Hashable {
        case empty
        case truncatedHeader
        case contentType(UInt8)
        case version(UInt8, UInt8)
        case length(Int)
        /// A record of epoch 1 or later too short to hold the cipher's nonce and tag.
        case shortProtectedRecord(Int)
        case truncatedBody
        case tooManyRecords
        case datagramTooLong(Int)
    }

    /// `nil` when every record of `datagram` is framed correctly; otherwise the first defect.
    ///
    /// - Parameter minimumProtectedLength: the shortest body a record of epoch 1 or later can have
    ///   (24 for AES-GCM: 8-byte explicit nonce and 16-byte tag; 16 for ChaCha20-Poly1305).
    public static func defect(in datagram: UnsafeRawBufferPointer, minimumProtectedLength: Int = 16) -> Defect? {
        guard !datagram.isEmpty else { return .empty }
        guard datagram.count <= maximumDatagramLength else { return .datagramTooLong(datagram.count) }
        var offset = 0
        var records = 0
        while offset < datagram.count {
            records += 1
            guard records <= maximumRecordsPerDatagram else { return .tooManyRecords }
            guard datagram.count - offset >= 13 else { return .truncatedHeader }
            let type = datagram[offset]
            // change_cipher_spec, alert, handshake, application_data (heartbeat and CID: not ours)
            guard (20...23).contains(type) else { return .contentType(type) }
            let major = datagram[offset + 1]
            let minor = datagram[offset + 2]
            // DTLS 1.0 (FE FF, allowed in a ClientHello's record) or 1.2 (FE FD).
            guard major == 0xFE, minor == 0xFF || minor == 0xFD else { return .version(major, minor) }
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            guard length <= maximumRecordLength else { return .length(length) }
            let epoch = Int(datagram[offset + 3]) << 8 | Int(datagram[offset + 4])
            guard epoch == 0 || length >= minimumProtectedLength else { return .shortProtectedRecord(length) }
            guard datagram.count - offset - 13 >= length else { return .truncatedBody }
            offset += 13 + length
        }
        return nil
    }
}
