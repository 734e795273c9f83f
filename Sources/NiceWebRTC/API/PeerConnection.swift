import Dispatch
import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// A WebRTC session with one peer (W3C `RTCPeerConnection`): offer/answer, ICE, DTLS, SCTP and
/// data channels behind one object, so an application names no transport and decides no role.
///
/// ```swift
/// let a = try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"]))
/// let b = try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"]))
/// a.iceCandidateHandler = { c in Task { try? await b.addIceCandidate(c) } }
/// b.iceCandidateHandler = { c in Task { try? await a.addIceCandidate(c) } }
/// let channel = try a.createDataChannel("chat")
/// try await b.setRemoteDescription(try await a.setLocalDescription())
/// try await a.setRemoteDescription(try await b.setLocalDescription())
/// ```
///
/// **Negotiation.** A pure ``Negotiation`` value (JSEP, RFC 8829) decides everything the peer's
/// descriptions imply: the ICE role (the first offer's side controls, unless one side is
/// ICE-lite), the DTLS role (`a=setup`: an offer says `actpass`, the answerer is the client), the
/// data section's mid (every candidate is routed by it, one transport whatever the
/// ``Configuration/bundlePolicy``), ICE restart generations (a candidate of an earlier
/// generation is ignored). Calls in the wrong state throw W3C's errors (``PeerConnectionError``).
///
/// **Candidates.** The ICE agent gathers from creation on, but local candidates are signalled
/// (``iceCandidateHandler``, ``iceCandidates()``) only once a local description is applied, with
/// the `sdpMid`, `sdpMLineIndex` and `usernameFragment` of that description. Remote candidates
/// added before the remote description are kept and applied in order once it is set.
///
/// **Threading.** Every method may be called from any thread, handlers included. Signalling
/// calls are `async` and run one at a time (W3C's operations chain). Handlers run on
/// ``Configuration/queue`` (one private serial queue by default), in order, one at a time; the
/// data channels' handlers run on the same queue. Every event also has a stream (a new one per
/// call) that first yields the current state, so nothing is missed however late it is made.
///
/// **Lifetime.** ``close()`` sets every state `closed` at once and, as W3C requires, fires no
/// event: handlers are dropped (a handler that captures the connection does not keep it alive)
/// and streams finish. Releasing the last reference closes too.
public final class PeerConnection: Sendable {
    /// What the connection was created with.
    public let configuration: Configuration
    let core: PeerConnectionCore

    private static let ids = Atomic<UInt64>(0)

    /// Creates the connection: the certificate (unless given), the ICE agent (gathering starts at
    /// once on the configured addresses), DTLS and SCTP. Never blocks.
    ///
    /// - Throws: ``PeerConnectionError`` naming the field: `SyntaxError` for an ICE server URL that
    ///   does not parse, `InvalidAccessError` for other ICE configuration errors (a TURN server
    ///   without credentials, an impossible port range) or an expired certificate, `TypeError`
    ///   for SCTP options out of range, `OperationError` when a certificate cannot be made.
    /// - Parameter logger: where the connection and its transports log (swift-log), with metadata
    ///   `peerconnection` added.
    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "NiceWebRTC")) throws(PeerConnectionError) {
        var logger = logger
        logger[metadataKey: "peerconnection"] = "\(Self.ids.wrappingAdd(1, ordering: .relaxed).newValue)"
        self.configuration = configuration
        let queue = configuration.queue ?? DispatchQueue(label: "NiceWebRTC.PeerConnection")
        core = try PeerConnectionCore(configuration: configuration, queue: queue, logger: logger)
        LiveObjects.born(.session)
    }

    deinit {
        LiveObjects.died(.session)
        core.close()
    }

    // MARK: State

    /// W3C `signalingState`.
    public var signalingState: SignalingState { core.hub.withValues { $0.signaling } }

    /// W3C `iceConnectionState`: the ICE transport's state, as libnice's component states make it
    /// (the seven browser values).
    public var iceConnectionState: IceConnectionState { core.hub.withValues { $0.iceConnection } }

    /// W3C `iceGatheringState`: `new` until a local description is applied.
    public var iceGatheringState: IceGatheringState { core.hub.withValues { $0.gathering } }

    /// W3C `connectionState`: the aggregate of ICE and DTLS (``PeerConnectionState/aggregate(ice:dtls:)``).
    public var connectionState: PeerConnectionState { core.hub.withValues { $0.connection } }

    /// W3C `localDescription`: the pending one, else the current one.
    public var localDescription: SessionDescription? { core.negotiation { $0.localDescription } }
    /// W3C `currentLocalDescription`.
    public var currentLocalDescription: SessionDescription? { core.negotiation { $0.currentLocalDescription } }
    /// W3C `pendingLocalDescription`.
    public var pendingLocalDescription: SessionDescription? { core.negotiation { $0.pendingLocalDescription } }
    /// W3C `remoteDescription`: the pending one, else the current one.
    public var remoteDescription: SessionDescription? { core.negotiation { $0.remoteDescription } }
    /// W3C `currentRemoteDescription`.
    public var currentRemoteDescription: SessionDescription? { core.negotiation { $0.currentRemoteDescription } }
    /// W3C `pendingRemoteDescription`.
    public var pendingRemoteDescription: SessionDescription? { core.negotiation { $0.pendingRemoteDescription } }

    /// W3C `RTCIceTransport.getSelectedCandidatePair()`: the pair ICE selected last for the data,
    /// nil before one is selected (see ``selectedCandidatePairHandler``).
    public var selectedCandidatePair: CandidatePair? { core.hub.withValues { $0.selectedPair } }

    /// W3C `RTCDtlsTransport.state`, as the connection's events report it (see ``dtlsStateHandler``);
    /// `closed` after ``close()``.
    public var dtlsState: DtlsTransportState { core.hub.withValues { $0.dtls.state } }

    /// The ICE transport (W3C `RTCDtlsTransport.iceTransport`), to read: its state, parameters,
    /// selected pair, ``IceTransport/stats()`` and ``IceTransport/counters``. The connection drives
    /// it: do not close, signal or restart it directly.
    ///
    /// **Its handlers.** `stateUpdateHandler`, `gatheringStateHandler`, `candidateHandler` and
    /// `selectedPairHandler` belong to the connection and must not be set: use the connection's
    /// ``iceConnectionStateHandler``, ``iceGatheringStateHandler``, ``iceCandidateHandler`` and
    /// ``selectedCandidatePairHandler`` (or their streams), which run on ``Configuration/queue``.
    /// `candidateErrorHandler` is the application's (it runs on the connection's internal layer
    /// queue, not on ``Configuration/queue``: keep it short); `receiveHandler` and
    /// `receivedDatagrams()` get nothing (DTLS owns the data component). Every stream
    /// (`stateChanges()`, `localCandidates()`, …) may be read: streams are one per reader.
    public var iceTransport: IceTransport { core.ice }

    /// The DTLS transport (W3C `RTCSctpTransport.transport`), to read: its state,
    /// ``DtlsTransport/cipherSuite``, ``DtlsTransport/srtpProfile``, the remote fingerprint and
    /// ``DtlsTransport/counters``. The connection drives it: do not close or signal it directly.
    ///
    /// **Its handlers.** `stateUpdateHandler` and `connectionStateHandler` belong to the connection
    /// and must not be set: use ``dtlsStateHandler`` and ``connectionStateHandler`` (or their
    /// streams), which run on ``Configuration/queue``. `receiveHandler` and `receivedDatagrams()`
    /// get nothing (SCTP owns the plaintext). Its streams may be read.
    public var dtlsTransport: DtlsTransport { core.dtls }

    /// W3C `sctp`: the SCTP transport once a description exchange negotiated a data section
    /// (`a=sctp-port`), nil before that and for as long as the session is media only (a WHIP
    /// ingest, say). It is ``sctpTransport``, which is there from the start.
    public var sctp: SctpTransport? { core.sctpNegotiated ? core.sctp : nil }

    /// The SCTP transport the connection will use for its data section, there from the start
    /// (``sctp`` is W3C's view: nil until a data section was negotiated), so its handlers can be
    /// set before negotiating. To read: its state, ``SctpTransport/maxMessageSize``,
    /// ``SctpTransport/maxChannels`` and ``SctpTransport/counters``. The connection drives it: do
    /// not close or signal it directly; create channels with ``createDataChannel(_:options:)``.
    ///
    /// **Its handlers.** `dataChannelHandler` belongs to the connection (set
    /// ``dataChannelHandler`` instead); `stateHandler` (W3C `RTCSctpTransport.onstatechange`) is
    /// the application's and runs on ``Configuration/queue``, as the channels' handlers do. Its
    /// streams may be read (``incomingDataChannels()`` is the same as the connection's).
    public var sctpTransport: SctpTransport { core.sctp }

    // MARK: Close

    /// W3C `close()`: ``signalingState``, ``iceConnectionState`` and ``connectionState`` are
    /// `closed` on return and no event fires (handlers are dropped, streams finish, no handler
    /// starts after this returns); the association is aborted (the channels end `closed`), DTLS
    /// sends close_notify and ICE closes. Idempotent; safe from any thread and inside a handler.
    public func close() {
        core.close()
    }

    /// Closes as ``close()`` does, then waits until libnice released the agent's sockets (at most
    /// 5 s).
    public func closeAndWait() async {
        core.close()
        await core.ice.closeAndWait()
    }
}
