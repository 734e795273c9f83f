import Dispatch
import Foundation
import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// DTLS 1.2 over a connection's component 1 (W3C `RTCDtlsTransport`): encrypts and authenticates
/// every datagram, and checks the peer's certificate against the fingerprints it signalled.
///
/// ```swift
/// let dtls = try DtlsTransport(iceTransport: pc, configuration: .init(certificate: certificate))
/// answer += DtlsDescription.attributeLines(try dtls.setRemoteParameters(offerDtls))  // a=setup, a=fingerprint
/// for await change in dtls.connectionStateChanges() where change.state == .connected { break }
/// try dtls.send(Array("hello".utf8))
/// for await datagram in dtls.receivedDatagrams() { … }
/// ```
///
/// **What happens.** The handshake starts by itself once ICE is `connected` and
/// ``setRemoteParameters(_:)`` was called; it runs on the connection's context thread (a server's
/// first flight may answer early records on the thread that called ``setRemoteParameters(_:)``),
/// with OpenSSL's retransmission timers there. From creation on, component 1 carries DTLS only: datagrams
/// whose first byte is not a DTLS record (RFC 7983) are dropped (SRTP, first byte 128–191, goes to
/// the media layer when a peer connection negotiated media), STUN stays with libnice, and the
/// connection's own `receiveHandler`/`receivedDatagrams()` see nothing more on component 1. Until the
/// handshake completes, no application data passes in either direction. An ICE restart keeps the
/// session: DTLS does not care which pair carries it.
///
/// **Policy** (not configurable): DTLS 1.2 only; ECDHE key exchange with AEAD ciphers only
/// (AES-128-GCM — RFC 8827's mandatory TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 — AES-256-GCM,
/// ChaCha20-Poly1305); no renegotiation, compression, session resumption or tickets; handshake
/// datagrams of at most 1,200 bytes, no path-MTU query; the peer's certificate is judged by its
/// fingerprint alone (self-signed is normal); the DTLS-SRTP extension (RFC 5764) offered on every
/// handshake, as browsers do, with SRTP_AEAD_AES_128_GCM then SRTP_AES128_CM_SHA1_80 (those libsrtp
/// supports in this process), which a data-only peer ignores.
///
/// **Threading.** Any method from any thread. Handlers run on the queue given to ``start(queue:)``,
/// in order, one at a time; streams work without it.
///
/// **Lifetime.** The transport owns the connection: ``close()`` sends close_notify and closes the
/// connection; closing the connection instead closes the transport (without close_notify).
/// Releasing the transport closes it.
public final class DtlsTransport: Sendable {
    /// How the transport is set up.
    public struct Configuration: Sendable {
        /// Our identity; its fingerprint goes to the peer in ``DtlsTransport/localParameters``.
        public var certificate: Certificate
        /// Our role: `.auto` (the default) lets the peer's parameters decide (an offerer signals
        /// `actpass`; an answerer then becomes the client, RFC 8842); `.client` or `.server` fixes
        /// it (ORTC style).
        public var role: DtlsRole
        /// How long the handshake may take after it started before the transport fails with
        /// ``DtlsTransportStateReason/handshakeTimeout``.
        public var handshakeTimeout: Duration
        /// Decrypted datagrams buffered for the receive handler's queue and for each stream before
        /// newer ones are dropped.
        public var receiveBufferLimit: Int

        public init(
            certificate: Certificate, role: DtlsRole = .auto, handshakeTimeout: Duration = .seconds(30),
            receiveBufferLimit: Int = 4096
        ) {
            self.certificate = certificate
            self.role = role
            self.handshakeTimeout = handshakeTimeout
            self.receiveBufferLimit = receiveBufferLimit
        }
    }

    /// The largest datagram ``send(_:)`` takes: TLS's record limit (2^14 bytes). Each datagram is
    /// one record, 37 bytes larger on the wire with AES-GCM (13 header, 8 nonce, 16 tag); to stay
    /// below 1,200 bytes on the wire, send at most 1,163.
    public static let maximumDatagramSize = 16_384

    /// The ICE connection the transport runs on (W3C `iceTransport`).
    public let iceTransport: IceTransport
    public let configuration: Configuration
    let core: DtlsCore

    private static let ids = Atomic<UInt64>(0)

    /// Attaches a DTLS transport to `iceTransport` (before or after it connected).
    ///
    /// - Throws: ``DtlsError`` `invalidState` when the connection is closed or already has a
    ///   transport, `invalidCertificate` when the certificate expired.
    public init(iceTransport: IceTransport, configuration: Configuration, logger: Logger = Logger(label: "NiceWebRTC")) throws(DtlsError) {
        guard configuration.certificate.expires > .now else {
            throw DtlsError(.invalidCertificate, field: "certificate", reason: "the certificate expired")
        }
        guard configuration.receiveBufferLimit > 0 else {
            throw DtlsError(.invalidParameters, field: "receiveBufferLimit", reason: "must be positive")
        }
        var logger = logger
        logger[metadataKey: "dtls"] = "\(Self.ids.wrappingAdd(1, ordering: .relaxed).newValue)"
        let core = DtlsCore(
            connection: iceTransport, identity: configuration.certificate.identity, role: configuration.role,
            handshakeTimeout: configuration.handshakeTimeout, receiveLimit: configuration.receiveBufferLimit, logger: logger)
        // Before any stored property is set: a refused attach must not run deinit, which would
        // close a connection that belongs to another transport.
        guard iceTransport.attachUpperLayer(core) else {
            throw DtlsError(.invalidState, field: "iceTransport", reason: "the connection is closed or already has a DTLS transport")
        }
        self.iceTransport = iceTransport
        self.configuration = configuration
        self.core = core
        core.iceStateDidChange()
        LiveObjects.born(.dtlsTransport)
    }

    deinit {
        LiveObjects.died(.dtlsTransport)
        core.closeLocally(sendCloseNotify: true)
        iceTransport.close()
    }

    // MARK: Signalling

    /// What to signal to the peer: our role (``DtlsRole/auto`` until the peer's parameters decided
    /// it) and our certificate's sha-256 fingerprint. Write it with ``DtlsDescription/attributeLines(_:)``.
    public var localParameters: DtlsParameters {
        DtlsParameters(role: core.role, fingerprints: [configuration.certificate.fingerprint])
    }

    /// Sets the peer's role and fingerprints (from its offer or answer; ``DtlsDescription`` reads
    /// them) and returns our parameters with the role now decided, for the answer. Setting the
    /// same parameters again (a renegotiation or an ICE restart) changes nothing.
    ///
    /// - Throws: ``DtlsError`` `invalidParameters` for parameters without a fingerprint or a role
    ///   clash (both client, both server), `invalidState` for a different certificate on an existing
    ///   session, `closed` after close.
    @discardableResult
    public func setRemoteParameters(_ remote: DtlsParameters) throws(DtlsError) -> DtlsParameters {
        try core.setRemote(remote)
        return localParameters
    }

    /// The peer's parameters, once set.
    /// Sets the remote parameters with our role decided by the caller (package-level: a
    /// `PeerConnection`'s negotiation decides it from `a=setup`), for a transport created with
    /// role `.auto`.
    package func setRemoteParameters(_ remote: DtlsParameters, localRole: DtlsRole) throws(DtlsError) {
        try core.setRemote(remote, localRole: localRole)
    }

    public var remoteParameters: DtlsParameters? { core.remoteParameters }

    // MARK: State

    /// W3C `RTCDtlsTransport.state`.
    public var state: DtlsTransportState { core.change.state }

    /// The last DTLS state change, with its reason (for example why it failed).
    public var lastStateChange: DtlsTransportStateChange { core.change }

    /// W3C `RTCPeerConnection.connectionState` of this ICE + DTLS stack (see
    /// ``PeerConnectionState/aggregate(ice:dtls:)``).
    public var connectionState: PeerConnectionState { core.connectionState }

    /// The sha-256 fingerprint of the certificate the peer presented, once it matched.
    public var remoteCertificateFingerprint: DtlsFingerprint? { core.presentedFingerprint }

    /// The negotiated cipher suite (OpenSSL's name, e.g. "ECDHE-ECDSA-AES128-GCM-SHA256"), once
    /// connected.
    public var cipherSuite: String? { core.cipherName }

    /// The negotiated DTLS-SRTP profile (e.g. "SRTP_AEAD_AES_128_GCM"), if the peer took one.
    public var srtpProfile: String? { core.srtpProfileName }

    /// How long the handshake took, from its start (ICE connected and remote parameters set) to
    /// `connected`.
    public var handshakeDuration: Duration? { core.handshakeDuration }

    // MARK: Handlers

    /// Called on the start queue with every change of ``state`` (never on ``close()``).
    public var stateUpdateHandler: (@Sendable (DtlsTransportStateChange) -> Void)? {
        get { core.hub.handler(\.dtls) }
        set { core.hub.setHandlers { $0.dtls = newValue } }
    }

    /// Called on the start queue with every change of ``connectionState`` (never on ``close()``).
    public var connectionStateHandler: (@Sendable (PeerConnectionStateChange) -> Void)? {
        get { core.hub.handler(\.connection) }
        set { core.hub.setHandlers { $0.connection = newValue } }
    }

    /// Called on the start queue with each decrypted datagram.
    public var receiveHandler: (@Sendable (Datagram) -> Void)? {
        get { core.hub.inbox.handler }
        set { core.hub.inbox.handler = newValue }
    }

    /// Starts delivering events and datagrams to the handlers on `queue`; what came earlier is
    /// kept and delivered then. Later calls are ignored.
    public func start(queue: DispatchQueue) { core.hub.start(queue: queue) }

    // MARK: Data

    /// Encrypts `bytes` as one DTLS record and sends it over ICE. Any thread; never blocks.
    ///
    /// - Throws: ``DtlsError`` `datagramTooLarge` over ``maximumDatagramSize``, `notConnected`
    ///   before the handshake completed, `closed` after close or failure, `sendFailed` when ICE
    ///   refused the encrypted datagram (its reason says why, e.g. a full socket buffer).
    public func send(_ bytes: UnsafeRawBufferPointer) throws(DtlsError) {
        try core.send(bytes)
    }

    /// Encrypts and sends one datagram (see ``send(_:)-(UnsafeRawBufferPointer)``).
    public func send(_ bytes: [UInt8]) throws(DtlsError) {
        let result = bytes.withUnsafeBytes { b in Result { () throws(DtlsError) in try core.send(b) } }
        try result.get()
    }

    /// RFC 5705 keying material from the session (W3C has none; a DTLS-SRTP media layer calls it
    /// with label "EXTRACTOR-dtls_srtp", RFC 5764 §4.2).
    ///
    /// - Throws: ``DtlsError`` `notConnected` before the handshake completed, `invalidParameters`
    ///   for an empty or over-long label or a length outside 1...1024.
    public func exportKeyingMaterial(label: String, context: [UInt8]? = nil, length: Int) throws(DtlsError) -> [UInt8] {
        try core.exportKeyingMaterial(label: label, context: context, length: length)
    }

    /// What went through the transport.
    public var counters: DtlsCounters {
        DtlsCounters(
            datagramsSent: core.sentDatagrams.load(ordering: .relaxed),
            bytesSent: core.sentBytes.load(ordering: .relaxed),
            sendFailures: core.sendFailures.load(ordering: .relaxed),
            datagramsReceived: core.hub.inbox.delivered.load(ordering: .relaxed),
            bytesReceived: core.hub.inbox.deliveredBytes.load(ordering: .relaxed),
            receiveDropped: core.hub.inbox.dropped.load(ordering: .relaxed),
            nonDtlsDropped: core.nonDtlsDropped.load(ordering: .relaxed),
            malformedDropped: UInt64(core.malformedDropped),
            earlyRecordsDropped: core.earlyDropped.load(ordering: .relaxed))
    }

    // MARK: Closing

    /// Sends close_notify (when the session is up), sets ``state`` and ``connectionState`` to
    /// `closed` without events, finishes the streams, then closes the ICE connection. No handler
    /// starts after this returns (as ``IceTransport/close()``). Idempotent.
    public func close() {
        core.closeLocally(sendCloseNotify: true)
        iceTransport.close()
    }
}

/// The DTLS transport's counters, read from atomics.
public struct DtlsCounters: Sendable, Hashable {
    /// Plaintext datagrams (and bytes) encrypted and accepted by ICE.
    public var datagramsSent: UInt64
    public var bytesSent: UInt64
    /// `send` calls that ICE refused.
    public var sendFailures: UInt64
    /// Decrypted datagrams (and bytes) delivered to the receive handler and streams. Once an
    /// ``SctpTransport`` carries the transport, its plaintext goes to SCTP instead and is counted
    /// in ``SctpTransport/counters`` (`packetsReceived`), not here.
    public var datagramsReceived: UInt64
    public var bytesReceived: UInt64
    /// Decrypted datagrams dropped because the receive handler's queue fell behind.
    public var receiveDropped: UInt64
    /// Datagrams on component 1 that were not DTLS records (RFC 7983), dropped; SRTP datagrams are
    /// counted here only when no media layer takes them.
    public var nonDtlsDropped: UInt64
    /// DTLS datagrams whose record framing was wrong (a header or length that does not fit),
    /// dropped before OpenSSL saw them (RFC 6347 §4.1.2.7). Records that are framed correctly but
    /// forged, replayed or stale are dropped by OpenSSL and not counted here.
    public var malformedDropped: UInt64
    /// DTLS records that arrived before the remote parameters and did not fit the early buffer.
    public var earlyRecordsDropped: UInt64
}
