import Dispatch
import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// SCTP over DTLS (W3C `RTCSctpTransport`, RFC 8261) and the data channels on it (RFC 8831, DCEP
/// RFC 8832), from usrsctp.
///
/// ```swift
/// let sctp = try SctpTransport(dtlsTransport: dtls)
/// try sctp.setRemoteParameters(SctpParameters(remoteDataSection))    // a=sctp-port, a=max-message-size
/// sctp.dataChannelHandler = { channel in                               // channels the peer opens
///     channel.messageHandler = { message in try? channel.send(message) }  // echo
/// }
/// let mine = try sctp.createDataChannel(label: "chat")
/// ```
///
/// **What happens.** The association starts by itself once DTLS is `connected` and the remote
/// parameters are set; both sides connect (RFC 8831 §6.2). Channels created before that open when
/// it is up; their ids follow the DTLS role (client even, server odd). From creation on, the DTLS
/// transport's plaintext belongs to SCTP: its own receive handler and streams see nothing more.
///
/// **Limits.** Messages up to 256 KiB are sent and received (``maxMessageSize`` is the smaller of
/// that and the peer's `a=max-message-size`); a message from the peer over 256 KiB closes its
/// channel with a ``DataChannelError`` `protocolViolation`. Received messages count against
/// ``Configuration/receiveBufferLimit`` until the handler returned or the iterator took them;
/// beyond it the association stops reading, so a slow application slows the peer down instead of
/// growing memory. Each channel queues at most ``Configuration/sendBufferLimit`` bytes.
///
/// **Ending.** ``close()``, the peer's ABORT or SHUTDOWN, DTLS closing or failing, and ICE
/// `failed` or `closed` end the association: every channel becomes `closed` with its event, then
/// the transport. ICE `disconnected` does not (it may come back).
///
/// **Threads.** Any method from any thread; handlers on ``Configuration/queue``.
public final class SctpTransport: Sendable {
    public struct Configuration: Sendable {
        /// Our `a=sctp-port`.
        public var port: UInt16
        /// Streams we ask for in each direction (RFC 8831 asks for 65,535; usrsctp allocates state
        /// per stream, so 1,024 by default, as libdatachannel): at most this many channels.
        public var streams: UInt16
        /// Bytes one channel may queue beyond what SCTP's 4 MiB send buffer took (Chrome: 16 MiB).
        public var sendBufferLimit: Int
        /// Received bytes the application may leave untaken (all channels) before reading stops.
        public var receiveBufferLimit: Int
        /// Where handlers run; a serial queue of its own when nil.
        public var queue: DispatchQueue?

        public init(port: UInt16 = 5000, streams: UInt16 = 1024, sendBufferLimit: Int = 16 << 20, receiveBufferLimit: Int = 4 << 20, queue: DispatchQueue? = nil) {
            self.port = port
            self.streams = streams
            self.sendBufferLimit = sendBufferLimit
            self.receiveBufferLimit = receiveBufferLimit
            self.queue = queue
        }
    }

    /// The largest message we send or receive (Chrome's and libdatachannel's value).
    public static let localMaxMessageSize = 262_144

    /// The DTLS transport under the association (W3C `transport`).
    public let dtlsTransport: DtlsTransport
    public let configuration: Configuration
    let core: SctpCore

    private static let ids = Atomic<UInt64>(0)

    /// Puts an SCTP association on `dtlsTransport` (before or after DTLS connected).
    ///
    /// - Throws: ``DataChannelError`` `invalidParameters` for a zero port or stream count or a
    ///   receive limit below 256 KiB, `invalidState` when the DTLS transport is closed or carries
    ///   SCTP already, `sctpFailure` when usrsctp refuses the socket.
    public init(dtlsTransport: DtlsTransport, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "NiceWebRTC")) throws(DataChannelError) {
        guard configuration.port > 0 else { throw DataChannelError(.invalidParameters, field: "port", reason: "must be 1-65535") }
        guard configuration.streams > 0 else { throw DataChannelError(.invalidParameters, field: "streams", reason: "must be positive") }
        guard configuration.receiveBufferLimit >= Self.localMaxMessageSize else {
            throw DataChannelError(.invalidParameters, field: "receiveBufferLimit", reason: "must hold one message of \(Self.localMaxMessageSize) bytes")
        }
        guard configuration.sendBufferLimit > 0 else {
            throw DataChannelError(.invalidParameters, field: "sendBufferLimit", reason: "must be positive")
        }
        var logger = logger
        logger[metadataKey: "sctp"] = "\(Self.ids.wrappingAdd(1, ordering: .relaxed).newValue)"
        let queue = configuration.queue ?? DispatchQueue(label: "NiceWebRTC.sctp")
        core = try SctpCore.make(
            dtls: dtlsTransport.core,
            configuration: SctpCore.Configuration(
                localPort: configuration.port, maxMessageSize: Self.localMaxMessageSize, streams: configuration.streams,
                sendBufferLimit: configuration.sendBufferLimit, receiveBufferLimit: configuration.receiveBufferLimit),
            queue: queue, logger: logger)
        self.dtlsTransport = dtlsTransport
        self.configuration = configuration
        LiveObjects.born(.sctpTransport)
    }

    deinit {
        LiveObjects.died(.sctpTransport)
        core.end(reason: "released")
        dtlsTransport.close()
    }

    // MARK: Signalling

    /// What to signal: our port and the largest message we receive (`a=sctp-port`,
    /// `a=max-message-size`).
    public var localParameters: SctpParameters {
        SctpParameters(port: configuration.port, maxMessageSize: Self.localMaxMessageSize)
    }

    /// The peer's port and `max-message-size` (from its offer or answer). Setting them again with
    /// the same port only updates the size.
    ///
    /// - Throws: ``DataChannelError`` `invalidParameters` for port 0 or a negative size,
    ///   `invalidState` for a different port, `closed` after close.
    public func setRemoteParameters(_ remote: SctpParameters) throws(DataChannelError) {
        try core.setRemote(remote)
    }

    // MARK: State

    /// W3C `RTCSctpTransport.state`.
    public var state: SctpTransportState { core.transportSnapshot.state }

    /// W3C `maxMessageSize`: the largest message ``DataChannel/send(_:)`` takes.
    public var maxMessageSize: Int { core.transportSnapshot.maxMessageSize }

    /// W3C `maxChannels`: the negotiated stream count, once connected.
    public var maxChannels: Int? { core.transportSnapshot.maxChannels }

    /// Each change of ``state``, on the queue.
    public var stateHandler: (@Sendable (SctpTransportState) -> Void)? {
        get { core.hub.handler(\.state) }
        set { core.hub.setStateHandler(newValue) }
    }

    /// Yields the current state first, then every change; finishes after `closed`.
    public func stateChanges() -> AsyncStream<SctpTransportState> { core.hub.makeStateStream() }

    /// Returns once the association is up.
    ///
    /// - Throws: ``DataChannelError`` `closed` when it ended first, `timedOut` after `timeout`,
    ///   `cancelled` when the waiting task is cancelled.
    public func waitUntilConnected(timeout: Duration) async throws(DataChannelError) {
        try await waitForState(stateChanges(), timeout: timeout, ended: "the association ended before it was up", notYet: "not connected") {
            (s: SctpTransportState) -> Result<Void, DataChannelError>? in
            switch s {
            case .connected: return .success(())
            case .closed: return .failure(DataChannelError(.closed, reason: "the association ended before it was up"))
            case .connecting: return nil
            }
        }
    }

    // MARK: Channels

    /// W3C `createDataChannel`: a channel that opens when the association is up (at once when it
    /// is). A non-negotiated channel announces itself to the peer with DCEP.
    ///
    /// - Throws: ``DataChannelError`` `invalidParameters` (W3C's checks, the field named),
    ///   `invalidState` for an ``DataChannelOptions/id`` in use, `noStreamAvailable` when no id is
    ///   left, `closed` after close.
    public func createDataChannel(label: String, options: DataChannelOptions = DataChannelOptions()) throws(DataChannelError) -> DataChannel {
        try core.createChannel(label: label, options: options)
    }

    /// Each channel the peer opens (W3C `ondatachannel`), on the queue, before its first message.
    /// Channels that arrived while nobody listened are handed to the first handler or stream.
    public var dataChannelHandler: (@Sendable (DataChannel) -> Void)? {
        get { core.hub.handler(\.channel) }
        set { core.hub.setChannelHandler(newValue) }
    }

    /// The channels the peer opens; finishes when the association ends.
    public func incomingDataChannels() -> AsyncStream<DataChannel> { core.hub.makeChannelStream() }

    /// The association's path as usrsctp sees it now: what W3C's `RTCSctpTransportStats` reports
    /// (`smoothedRoundTripTime`, `congestionWindow`, `receiverWindow`, `mtu`, `unackData`), read
    /// from the socket without a hop. Nil before the association is up and after it ended. What
    /// to look at when a channel is slower than the path: a small congestion window (loss), a
    /// small receiver window (the peer reads slowly).
    public var pathStatus: SctpPathStatus? { core.pathStatus }

    /// What went through the association.
    public var counters: SctpTransportCounters {
        let c = core.counters
        return SctpTransportCounters(
            messagesSent: c.messagesSent.load(ordering: .relaxed), bytesSent: c.bytesSent.load(ordering: .relaxed),
            messagesReceived: c.messagesReceived.load(ordering: .relaxed), bytesReceived: c.bytesReceived.load(ordering: .relaxed),
            packetsSent: c.packetsSent.load(ordering: .relaxed), packetsReceived: c.packetsReceived.load(ordering: .relaxed),
            unknownStreamDropped: c.unknownStream.load(ordering: .relaxed), unknownPPIDDropped: c.unknownPPID.load(ordering: .relaxed),
            malformedDcep: c.malformedDcep.load(ordering: .relaxed), oversizeMessages: c.oversize.load(ordering: .relaxed),
            refusedChannels: c.refusedChannels.load(ordering: .relaxed), watchdogResends: c.watchdogResends.load(ordering: .relaxed))
    }

    // MARK: Closing

    /// Aborts the association (every channel `closed`, with its event), then closes DTLS
    /// (close_notify) and the ICE connection. Idempotent.
    public func close() {
        core.end(reason: "closed locally")
        dtlsTransport.close()
    }
}

/// The primary path of an SCTP association (``SctpTransport/pathStatus``), named as W3C's
/// `RTCSctpTransportStats`.
public struct SctpPathStatus: Sendable, Hashable {
    /// SCTP's smoothed round-trip time (whole milliseconds; 0 on loopback).
    public var smoothedRoundTripTime: Duration
    /// The sender's congestion window, bytes.
    public var congestionWindow: Int
    /// The peer's advertised receiver window, bytes.
    public var receiverWindow: Int
    /// The path MTU SCTP uses, bytes (of SCTP packets, before DTLS).
    public var mtu: Int
    /// DATA chunks sent and not yet acknowledged (W3C `unackData`).
    public var unacknowledgedChunks: Int
    /// DATA chunks waiting to be sent.
    public var pendingChunks: Int
}

/// The association's counters.
public struct SctpTransportCounters: Sendable, Hashable {
    /// Messages (and payload bytes) accepted by `send` / delivered to channels.
    public var messagesSent: UInt64
    public var bytesSent: UInt64
    public var messagesReceived: UInt64
    public var bytesReceived: UInt64
    /// SCTP packets handed to DTLS / received from it.
    public var packetsSent: UInt64
    public var packetsReceived: UInt64
    /// Messages dropped: on a stream without an open channel, with an unknown PPID.
    public var unknownStreamDropped: UInt64
    public var unknownPPIDDropped: UInt64
    /// DCEP messages that did not parse or did not fit (an OPEN on a used or our own stream).
    public var malformedDcep: UInt64
    /// Messages from the peer over our max-message-size (each closed its channel).
    public var oversizeMessages: UInt64
    /// Channels the peer opened while nobody listened and 1,024 already waited unclaimed: refused
    /// (stream reset, no ACK).
    public var refusedChannels: UInt64 = 0
    /// Times the association's last DATA packet was sent again because usrsctp held unacknowledged
    /// data without SACK progress or retransmission (usrsctp#750 workaround; 0 on a healthy
    /// association).
    public var watchdogResends: UInt64 = 0
}
