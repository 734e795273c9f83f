internal import COpenSSL
import NiceWebRTCCore

/// One DTLS 1.2 session over OpenSSL, sans I/O: datagrams in through `receive`, datagrams out
/// through `output`, timers through `timeout` / `handleTimeout`. It knows nothing of ICE, threads or
/// clocks; ``DtlsCore`` owns it and calls it under its lock, so OpenSSL never sees two threads at
/// once on one `SSL`.
///
/// Between OpenSSL and the network sit two custom BIOs. The *datagram reader* lends OpenSSL the
/// received datagram in place for the duration of `receive` (no copy into a memory BIO, no
/// allocation) and says "retry" once it is consumed. The *datagram writer* gets each record OpenSSL
/// writes: during the handshake it packs the records of one operation into datagrams of at most
/// ``mtu`` bytes (a whole flight usually fits one or two, which matters under loss: every datagram
/// of a flight must arrive) and hands each to `output` when the operation ends; an application
/// record (`write`) goes to `output` at once, without a copy.
final class DtlsSession {
    enum Role { case client, server }

    /// What an operation changed.
    enum Outcome: Equatable {
        case none
        /// The handshake completed and the peer's certificate matched.
        case connected
        /// The session is over with an error (fatal alert sent or received, mismatch, …).
        case failed(DtlsTransportStateReason)
        /// The peer sent close_notify.
        case closedByPeer
    }

    enum Phase { case handshaking, connected, closed, failed }

    /// The datagram size during the handshake (RFC 8261 §5 leaves it to us; 1,200 fits every path
    /// WebRTC is used on, IPv6 and TURN included). No path-MTU query.
    static let mtu = 1200
    /// The largest plaintext of one datagram after the handshake (TLS's record limit, 2^14).
    static let maximumPlaintext = 16_384
    /// The first retransmission timeout, doubled after each loss up to `maximumTimeout`. OpenSSL's
    /// own policy (1 s, doubling to 60 s) can take over 30 s to get a handshake through 20 % loss;
    /// this one retries every second at most, so 20 % loss costs seconds (libwebrtc caps at 3 s
    /// from an RTT-based start). On paths with a longer round trip it is only chattier: a
    /// handshake flight is one or two datagrams.
    static let initialTimeoutMicroseconds: UInt32 = 250_000
    static let maximumTimeoutMicroseconds: UInt32 = 1_000_000

    let role: Role
    private(set) var phase: Phase = .handshaking
    /// The fingerprints the peer's certificate must match (one is enough).
    let expected: [DtlsFingerprint]
    /// The sha-256 fingerprint of the certificate the peer presented, once it did.
    private(set) var presented: DtlsFingerprint?
    private(set) var verified = false
    private var mismatch = false
    /// Set when the peer's certificate matched but its key is below the security level: why.
    private var weakKey: String?
    /// The last fatal alert the peer sent.
    private var peerAlert: String?

    /// Datagrams dropped before OpenSSL because their record framing was wrong.
    private(set) var malformedDropped = 0

    /// Receives each outgoing datagram; the bytes are valid during the call only.
    var output: (UnsafeRawBufferPointer) -> Void = { _ in }

    private let ssl: OpaquePointer
    private var pending: [UInt8] = []
    private var packLimit = DtlsSession.mtu
    /// The datagram being read (valid during `receive` only) and how much OpenSSL has taken.
    private var input: UnsafeRawBufferPointer?
    private var inputOffset = 0
    /// Set during `write`: the record goes straight to `output`.
    private var direct = false

    init(identity: CertificateIdentity, role: Role, expected: [DtlsFingerprint]) throws(DtlsError) {
        OpenSSL.clearErrors()
        guard let ssl = SSL_new(identity.context.raw) else {
            throw DtlsError(.cryptoFailure, field: "session", reason: OpenSSL.lastErrorReason(or: "SSL_new failed"))
        }
        guard let reader = BIO_new(Self.readerMethod), let writer = BIO_new(Self.writerMethod) else {
            SSL_free(ssl)
            throw DtlsError(.cryptoFailure, field: "session", reason: "BIO_new failed")
        }
        self.ssl = ssl
        self.role = role
        self.expected = expected
        pending.reserveCapacity(Self.mtu)
        SSL_set_bio(ssl, reader, writer)  // the SSL owns both BIOs from here on
        // Unretained back-pointers: the session owns the SSL and frees it in deinit, so neither can
        // outlive it.
        let me = Unmanaged.passUnretained(self).toOpaque()
        BIO_set_data(writer, me)
        BIO_set_data(reader, me)
        SSL_set_ex_data(ssl, OpenSSL.sessionSlot, me)
        _ = cnssl_set_mtu(ssl, Self.mtu)
        SSL_set_info_callback(ssl, Self.infoCallback)
        DTLS_set_timer_cb(ssl, Self.timerCallback)
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    // MARK: Operations (the owner's lock held)

    /// Starts the handshake: the client sends its ClientHello; the server waits.
    func start() -> Outcome {
        guard role == .client else { return .none }
        return handshake()
    }

    /// One datagram from the peer. Application data is handed to `deliver` (valid during the call).
    ///
    /// Returns what changed, in order: usually nothing; `.connected` when the datagram finished the
    /// handshake — followed by `.closedByPeer` or `.failed` when a later record of the same
    /// datagram ended the session at once (a close_notify or alert packed behind the Finished;
    /// found by the DTLS fuzzer). An empty result allocates nothing.
    func receive(_ datagram: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) -> Void) -> [Outcome] {
        let (first, then) = receiveOne(datagram, deliver: deliver)
        if first == .none { return then == .none ? [] : [then] }
        return then == .none ? [first] : [first, then]
    }

    private func receiveOne(_ datagram: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) -> Void) -> (Outcome, Outcome) {
        guard phase == .handshaking || phase == .connected else { return (.none, .none) }
        if DtlsRecordScanner.defect(in: datagram, minimumProtectedLength: minimumProtectedLength) != nil {
            malformedDropped += 1
            return (.none, .none)
        }
        input = datagram
        inputOffset = 0
        defer { input = nil }  // OpenSSL keeps no pointer into it: read_ahead copies into its buffer
        var outcome = Outcome.none
        if phase == .handshaking {
            outcome = handshake()
            guard phase == .connected else { return (outcome, .none) }
        }
        return (outcome, readAll(deliver))
    }

    /// The retransmission timer fired.
    func handleTimeout() -> Outcome {
        guard phase == .handshaking || phase == .connected else { return .none }
        OpenSSL.clearErrors()
        let r = cnssl_handle_timeout(ssl)
        flush()
        if r < 0 {
            phase = .failed
            return .failed(.handshakeTimeout)  // OpenSSL gave up retransmitting
        }
        return .none
    }

    /// Time to the next retransmission, in microseconds; `nil` when no timer runs.
    var timeoutMicroseconds: Int64? {
        var us: Int64 = 0
        return cnssl_get_timeout_us(ssl, &us) == 1 ? us : nil
    }

    /// Encrypts one datagram and sends it as one record.
    func write(_ plaintext: UnsafeRawBufferPointer) -> Bool {
        guard phase == .connected else { return false }
        OpenSSL.clearErrors()
        direct = true
        let n = SSL_write(ssl, plaintext.baseAddress, Int32(plaintext.count))
        direct = false
        flush()
        return n == plaintext.count
    }

    /// Sends close_notify (once) and ends the session.
    func close() {
        guard phase == .handshaking || phase == .connected else { return }
        OpenSSL.clearErrors()
        _ = SSL_shutdown(ssl)
        OpenSSL.clearErrors()
        flush()
        phase = .closed
    }

    /// RFC 5705 keying material (for DTLS-SRTP, RFC 5764: label "EXTRACTOR-dtls_srtp", no context).
    func exportKeyingMaterial(label: String, context: [UInt8]?, length: Int) -> [UInt8]? {
        guard phase == .connected, length > 0, length <= 1024 else { return nil }
        var out = [UInt8](repeating: 0, count: length)
        OpenSSL.clearErrors()
        let ok = label.withCString { l in
            out.withUnsafeMutableBufferPointer { o in
                (context ?? []).withUnsafeBufferPointer { c in
                    SSL_export_keying_material(
                        ssl, o.baseAddress, length, l, strlen(l), c.baseAddress, c.count, context == nil ? 0 : 1)
                }
            }
        }
        OpenSSL.clearErrors()
        return ok == 1 ? out : nil
    }

    /// The negotiated cipher suite's OpenSSL name, once connected.
    var cipherName: String? {
        guard phase == .connected, let c = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(c) else { return nil }
        return String(cString: name)
    }

    /// The negotiated DTLS-SRTP profile's name, if the peer took one.
    var srtpProfileName: String? {
        guard phase == .connected, let p = SSL_get_selected_srtp_profile(ssl), let name = p.pointee.name else { return nil }
        return String(cString: name)
    }

    /// The DTLS-SRTP keys (RFC 5764 §4.2) for the profile the handshake selected: nil before
    /// `connected`, when the peer took no profile, or when it took one we do not know.
    func srtpKeys() -> DtlsSrtpKeys? {
        guard let name = srtpProfileName, let profile = SrtpProfile(rawValue: name) else { return nil }
        guard var material = exportKeyingMaterial(label: "EXTRACTOR-dtls_srtp", context: nil, length: profile.keyingMaterialLength)
        else { return nil }
        defer { for i in material.indices { material[i] = 0 } }  // best effort: the split copies it
        return DtlsSrtpKeys(profile: profile, material: material)
    }

    /// The signature algorithm the peer signed its handshake with (ServerKeyExchange from a
    /// server, CertificateVerify from a client), as "ECDSA+SHA256", "RSA-PSS+SHA256", "RSA+SHA256".
    var peerSignatureAlgorithm: String? {
        var type: Int32 = 0
        var digest: Int32 = 0
        guard SSL_get_peer_signature_type_nid(ssl, &type) == 1, cnssl_get_peer_signature_digest_nid(ssl, &digest) == 1,
            let digestName = OBJ_nid2sn(digest)
        else { return nil }
        let typeName: String =
            switch type {
            case EVP_PKEY_EC: "ECDSA"
            case EVP_PKEY_RSA_PSS: "RSA-PSS"
            case EVP_PKEY_RSA: "RSA"
            default: OBJ_nid2sn(type).map { String(cString: $0) } ?? "\(type)"
            }
        return "\(typeName)+\(String(cString: digestName))"
    }

    // MARK: Inside

    /// The shortest body a record of epoch 1 or later can have under the negotiated (or pending)
    /// cipher: AES-GCM's 8-byte explicit nonce and 16-byte tag; ChaCha20-Poly1305's tag alone.
    private var minimumProtectedLength: Int {
        guard let cipher = SSL_get_current_cipher(ssl) ?? SSL_get_pending_cipher(ssl) else { return 16 }
        return SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305 ? 16 : 24
    }

    private func handshake() -> Outcome {
        OpenSSL.clearErrors()
        let r = SSL_do_handshake(ssl)
        if r == 1 {
            flush()
            guard verified else {
                phase = .failed
                return .failed(.noPeerCertificate)
            }
            phase = .connected
            // Records after the handshake may be up to TLS's limit; the writer still packs to 1,200.
            _ = cnssl_set_mtu(ssl, Self.maximumPlaintext + 256)
            return .connected
        }
        let error = SSL_get_error(ssl, r)
        flush()  // a flight, or the alert of a failure
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .none
        default:
            phase = .failed
            return .failed(failureReason(error))
        }
    }

    private func failureReason(_ sslError: Int32) -> DtlsTransportStateReason {
        if mismatch, let presented { return .fingerprintMismatch(presented: presented.description) }
        if let weakKey { return .protocolError(weakKey) }
        if let peerAlert { return .peerAlert(peerAlert) }
        if sslError == SSL_ERROR_ZERO_RETURN { return .closedByPeer }
        return .protocolError(OpenSSL.lastErrorReason(or: "SSL error \(sslError)"))
    }

    private func readAll(_ deliver: (UnsafeRawBufferPointer) -> Void) -> Outcome {
        withUnsafeTemporaryAllocation(byteCount: Self.maximumPlaintext, alignment: 16) { buffer in
            OpenSSL.clearErrors()  // a successful SSL_read queues no error: once is enough
            // Bounded: a datagram holds at most DtlsRecordScanner.maximumRecordsPerDatagram records.
            for _ in 0..<256 {
                let n = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
                if n > 0 {
                    deliver(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(n)]))
                    // The datagram's last record read: skip the SSL_read that would only say
                    // "want read" (a third of OpenSSL's time per datagram).
                    if SSL_has_pending(ssl) == 0 && inputRemaining == 0 { return .none }
                    continue
                }
                let error = SSL_get_error(ssl, n)
                flush()  // a retransmitted flight answered, an alert
                switch error {
                case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                    return .none
                case SSL_ERROR_ZERO_RETURN:
                    phase = .closed
                    return .closedByPeer
                default:
                    // DTLS discards bad records silently (RFC 6347 §4.1.2.7) and OpenSSL does too;
                    // what reaches here is fatal (a fatal alert was sent or received).
                    phase = .failed
                    return .failed(failureReason(error))
                }
            }
            return .none
        }
    }

    /// Called by the writer BIO with each record OpenSSL produces.
    fileprivate func append(_ record: UnsafeRawBufferPointer) {
        if direct && pending.isEmpty {
            output(record)
            return
        }
        if !pending.isEmpty && pending.count + record.count > packLimit { flush() }
        pending.append(contentsOf: record)
    }

    private var inputRemaining: Int { (input?.count ?? 0) - inputOffset }

    /// Called by the reader BIO: hands OpenSSL what is left of the datagram (all of it, normally:
    /// with read_ahead OpenSSL asks for a whole buffer), or -1 ("retry") once it is consumed.
    fileprivate func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        guard let input, inputOffset < input.count, capacity > 0 else { return -1 }
        let n = min(capacity, input.count - inputOffset)
        buffer.copyMemory(from: input.baseAddress! + inputOffset, byteCount: n)  // count > offset ≥ 0: non-empty
        inputOffset += n
        return n
    }

    /// Sends what the last operation produced.
    private func flush() {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { output($0) }
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: Callbacks (OpenSSL calls them inside the operations above, on the same thread)

    fileprivate func verify(_ store: OpaquePointer) -> Bool {
        guard X509_STORE_CTX_get_error_depth(store) == 0 else { return true }  // only the leaf is ours to judge
        guard let cert = X509_STORE_CTX_get_current_cert(store) else { return false }
        presented = OpenSSL.fingerprint(of: cert, .sha256)
        for f in expected where OpenSSL.fingerprint(of: cert, f.algorithm) == f {
            // The fingerprint overrides OpenSSL's own chain errors (a self-signed leaf), the
            // security level's key-size error among them, so the key is checked here.
            let needed = OpenSSL.minimumKeyBits(securityLevel: SSL_get_security_level(ssl))
            let key = X509_get0_pubkey(cert)
            let bits = key.map { EVP_PKEY_get_security_bits($0) } ?? 0
            guard bits >= needed else {
                let size = key.map { EVP_PKEY_get_bits($0) } ?? 0
                weakKey = "the peer's certificate key is too weak: \(size) bits give \(bits)-bit security, at least \(needed) needed"
                X509_STORE_CTX_set_error(store, X509_V_ERR_EE_KEY_TOO_SMALL)
                return false
            }
            verified = true
            return true
        }
        mismatch = true
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED)
        return false
    }

    fileprivate func alert(received: Bool, value: Int32) {
        // value = level << 8 | description; level 2 is fatal.
        guard received, value >> 8 == 2, let text = SSL_alert_desc_string_long(value) else { return }
        peerAlert = String(cString: text)
    }

    static let verifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { _, store in
        guard let store,
            let sslRaw = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
            let me = SSL_get_ex_data(OpaquePointer(sslRaw), OpenSSL.sessionSlot)
        else { return 0 }
        return Unmanaged<DtlsSession>.fromOpaque(me).takeUnretainedValue().verify(store) ? 1 : 0
    }

    static let infoCallback: @convention(c) (OpaquePointer?, Int32, Int32) -> Void = { ssl, where_, value in
        guard where_ & SSL_CB_ALERT != 0, let ssl, let me = SSL_get_ex_data(ssl, OpenSSL.sessionSlot) else { return }
        Unmanaged<DtlsSession>.fromOpaque(me).takeUnretainedValue().alert(received: where_ & SSL_CB_READ != 0, value: value)
    }

    static let timerCallback: @convention(c) (OpaquePointer?, UInt32) -> UInt32 = { _, previous in
        previous == 0 ? initialTimeoutMicroseconds : min(previous * 2, maximumTimeoutMicroseconds)
    }

    /// The writer BIO's method table (one per process, never freed).
    nonisolated(unsafe) static let writerMethod: OpaquePointer = {
        // nonisolated(unsafe): a lazily initialised global (Swift runs the initialiser once,
        // thread-safely) that is only read afterwards.
        guard let m = cnssl_new_datagram_bio_method("NiceWebRTC datagram writer") else { preconditionFailure("BIO_meth_new failed") }
        BIO_meth_set_write(m) { bio, data, length in
            guard let bio, let data, length > 0, let me = BIO_get_data(bio) else { return length == 0 ? 0 : -1 }
            Unmanaged<DtlsSession>.fromOpaque(me).takeUnretainedValue()
                .append(UnsafeRawBufferPointer(start: data, count: Int(length)))
            return length
        }
        BIO_meth_set_ctrl(m) { _, command, _, _ in
            if cnssl_bio_ctrl_is_flush(command) == 1 { return 1 }
            return 0  // pending: nothing buffered in OpenSSL's view; MTU queries: none (we set it)
        }
        BIO_meth_set_create(m) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
        BIO_meth_set_destroy(m) { _ in 1 }
        return m
    }()

    /// The reader BIO's method table (one per process, never freed).
    nonisolated(unsafe) static let readerMethod: OpaquePointer = {
        // nonisolated(unsafe): as `writerMethod`.
        guard let m = cnssl_new_datagram_bio_method("NiceWebRTC datagram reader") else { preconditionFailure("BIO_meth_new failed") }
        BIO_meth_set_read(m) { bio, buffer, capacity in
            guard let bio, let buffer, let me = BIO_get_data(bio) else { return -1 }
            cnssl_bio_clear_retry(bio)
            let n = Unmanaged<DtlsSession>.fromOpaque(me).takeUnretainedValue().read(into: buffer, capacity: Int(capacity))
            if n < 0 { cnssl_bio_set_retry_read(bio) }
            return Int32(n)
        }
        BIO_meth_set_ctrl(m) { bio, command, _, _ in
            if cnssl_bio_ctrl_is_flush(command) == 1 { return 1 }
            if cnssl_bio_ctrl_is_pending(command) == 1, let bio, let me = BIO_get_data(bio) {
                return Unmanaged<DtlsSession>.fromOpaque(me).takeUnretainedValue().inputRemaining
            }
            return 0
        }
        BIO_meth_set_create(m) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
        BIO_meth_set_destroy(m) { _ in 1 }
        return m
    }()
}
