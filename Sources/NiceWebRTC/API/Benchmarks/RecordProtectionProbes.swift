import NiceWebRTCCore

/// **Benchmarks only** (`@_spi(Benchmarks)`, not API): an outbound and an inbound ``SrtpSession``
/// with one random key, so `Benchmarks/` can time what the media layer pays per packet (libsrtp's
/// protect and unprotect through the library's own funnel) without a network in the way.
///
/// Not `Sendable`: the sessions are not (see ``SrtpSession``); one thread uses a probe.
@_spi(Benchmarks) public final class SrtpPacketProbe {
    /// The DTLS-SRTP profile names (`SRTP_AEAD_AES_128_GCM`, …) libsrtp round-tripped here, in
    /// the order the library offers them.
    public static var supportedProfiles: [String] {
        SrtpProfile.offerOrder.filter(Srtp.supportedProfiles.contains).map(\.rawValue)
    }

    /// How many bytes a protected RTP packet may grow by (reserve it to keep protect allocation-free).
    public static var trailerCapacity: Int { SrtpSession.rtpTrailerCapacity }

    private let outbound: SrtpSession
    private let inbound: SrtpSession

    /// Both sessions for `profile` (a name from ``supportedProfiles``), keyed with random bytes.
    ///
    /// - Throws: the library's SRTP error for an unknown or unsupported profile.
    public init(profile name: String) throws {
        guard let profile = SrtpProfile(rawValue: name) else {
            throw SrtpError(.unsupportedProfile, reason: "unknown SRTP profile \(name)")
        }
        let key = (0..<profile.keyLength).map { _ in UInt8.random(in: 0...255) }
        let salt = (0..<profile.saltLength).map { _ in UInt8.random(in: 0...255) }
        outbound = try SrtpSession(profile: profile, key: key, salt: salt, direction: .outbound)
        inbound = try SrtpSession(profile: profile, key: key, salt: salt, direction: .inbound)
    }

    /// Protects one RTP packet in place (``SrtpCore``'s send path without the network).
    public func protect(_ packet: inout [UInt8]) throws { try outbound.protectRtp(&packet) }

    /// Unprotects one SRTP packet in place (the receive path without the network). Each packet's
    /// index must be new to the replay window.
    public func unprotect(_ packet: inout [UInt8]) throws { try inbound.unprotectRtp(&packet) }
}

/// **Benchmarks only** (`@_spi(Benchmarks)`, not API): two ``DtlsSession``s (fresh certificates)
/// handshaken in memory, so `Benchmarks/` can time one application record's protect (`SSL_write`
/// through the datagram writer) and unprotect (`SSL_read` through the datagram reader) next to
/// SRTP's, through the same funnel ``DtlsCore`` uses.
///
/// Not `Sendable`: the sessions are not; one thread uses a probe.
@_spi(Benchmarks) public final class DtlsRecordProbe {
    /// Where each session's output goes: the datagrams of one operation, in order.
    private final class Outbox {
        var datagrams: [[UInt8]] = []
    }

    private let client: DtlsSession
    private let server: DtlsSession
    private let toServer = Outbox()
    private let toClient = Outbox()

    /// The negotiated cipher suite (OpenSSL's name).
    public var cipherSuite: String? { client.cipherName }

    /// Creates both sessions and runs the handshake to `connected` on both sides.
    ///
    /// - Throws: the library's DTLS error when a certificate or session cannot be made or the
    ///   handshake does not complete in 32 exchanges.
    public init() throws {
        let c = try Certificate.generate(), s = try Certificate.generate()
        client = try DtlsSession(identity: c.identity, role: .client, expected: [s.fingerprint])
        server = try DtlsSession(identity: s.identity, role: .server, expected: [c.fingerprint])
        let toServer = toServer, toClient = toClient
        client.output = { toServer.datagrams.append(Array($0)) }
        server.output = { toClient.datagrams.append(Array($0)) }
        _ = client.start()
        for _ in 0..<32 where client.phase != .connected || server.phase != .connected {
            let a = toServer.datagrams, b = toClient.datagrams
            toServer.datagrams = []
            toClient.datagrams = []
            for d in a { _ = d.withUnsafeBytes { server.receive($0) { _ in } } }
            for d in b { _ = d.withUnsafeBytes { client.receive($0) { _ in } } }
        }
        guard client.phase == .connected, server.phase == .connected else {
            throw DtlsError(.cryptoFailure, field: "probe", reason: "the in-memory handshake did not complete")
        }
        toServer.datagrams = []
        toClient.datagrams = []
    }

    /// Encrypts `plaintext` as one record (client → server) and appends the record to `records`.
    /// Returns false when OpenSSL refused it.
    public func protect(_ plaintext: UnsafeRawBufferPointer, into records: inout [[UInt8]]) -> Bool {
        guard client.write(plaintext) else { return false }
        records.append(contentsOf: toServer.datagrams)
        toServer.datagrams.removeAll(keepingCapacity: true)
        return true
    }

    /// Decrypts one record at the server; returns the plaintext bytes delivered.
    public func unprotect(_ record: [UInt8]) -> Int {
        var delivered = 0
        _ = record.withUnsafeBytes { server.receive($0) { delivered += $0.count } }
        return delivered
    }
}
