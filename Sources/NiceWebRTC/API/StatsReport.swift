import Foundation
import NiceICE
import NiceWebRTCCore

/// A subset of W3C's `RTCStatsReport` (webrtc-stats) for a data-only session, from
/// ``PeerConnection/stats()``: one value per stats object, each with W3C's `id`, `type` and member
/// names. Members NiceWebRTC cannot measure are nil (libnice 0.1.21 publishes neither its check
/// list, nor STUN request and response counts, nor STUN round-trip times; the pair's
/// `currentRoundTripTime` is SCTP's).
///
/// ```swift
/// let report = await pc.stats()
/// print(report.transport.bytesSent, report.selectedCandidatePair?.currentRoundTripTime ?? 0)
/// for entry in report.entries { print(entry.id, entry.type) }   // as a browser lists them
/// ```
public struct StatsReport: Sendable, Hashable {
    /// When the report was made (W3C `timestamp`: milliseconds since 1970).
    public var timestamp: Double
    /// The `peer-connection` stats.
    public var peerConnection: PeerConnectionStats
    /// The `transport` stats of the one (bundled) transport.
    public var transport: TransportStats
    /// The `candidate-pair` stats (the selected pair: libnice does not publish the others).
    public var candidatePairs: [CandidatePairStats]
    /// The `local-candidate` stats.
    public var localCandidates: [IceCandidateStats]
    /// The `remote-candidate` stats.
    public var remoteCandidates: [IceCandidateStats]
    /// The `data-channel` stats of the channels the association holds.
    public var dataChannels: [DataChannelStats]
    /// The `certificate` stats: ours, and the peer's once the handshake verified it.
    public var certificates: [CertificateStats]
    /// The `inbound-rtp` stats (one per SSRC received).
    public var inboundRtp: [InboundRtpStats] = []
    /// The `outbound-rtp` stats (one per sender).
    public var outboundRtp: [OutboundRtpStats] = []
    /// The `remote-inbound-rtp` stats (one per sender the peer reported on).
    public var remoteInboundRtp: [RemoteInboundRtpStats] = []
    /// The `remote-outbound-rtp` stats (one per received source the peer sent an SR about).
    public var remoteOutboundRtp: [RemoteOutboundRtpStats] = []

    /// The pair `transport.selectedCandidatePairId` names, if any.
    public var selectedCandidatePair: CandidatePairStats? {
        candidatePairs.first { $0.id == transport.selectedCandidatePairId }
    }

    /// Every stats object's `id` and `type`, in W3C's order of types.
    public var entries: [(id: String, type: String)] {
        [(peerConnection.id, PeerConnectionStats.type), (transport.id, TransportStats.type)]
            + candidatePairs.map { ($0.id, CandidatePairStats.type) }
            + localCandidates.map { ($0.id, "local-candidate") }
            + remoteCandidates.map { ($0.id, "remote-candidate") }
            + dataChannels.map { ($0.id, DataChannelStats.type) }
            + certificates.map { ($0.id, CertificateStats.type) }
            + inboundRtp.map { ($0.id, InboundRtpStats.type) }
            + outboundRtp.map { ($0.id, OutboundRtpStats.type) }
            + remoteInboundRtp.map { ($0.id, RemoteInboundRtpStats.type) }
            + remoteOutboundRtp.map { ($0.id, RemoteOutboundRtpStats.type) }
    }
}

/// W3C `RTCPeerConnectionStats` (`type` `"peer-connection"`).
public struct PeerConnectionStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "peer-connection"
    /// W3C `id`.
    public var id: String
    /// Data channels of the association that are open or past it, and those that closed (the
    /// association forgets a channel once it closed, so this counts what it still holds).
    public var dataChannelsOpened: UInt32
    public var dataChannelsClosed: UInt32
}

/// W3C `RTCTransportStats` (`type` `"transport"`).
public struct TransportStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "transport"
    public var id: String
    /// Packets (ICE datagrams) and bytes through the transport: sent as libnice accepted them,
    /// received as libnice handed them over, before DTLS took them (STUN not included).
    public var packetsSent: UInt64
    public var packetsReceived: UInt64
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    /// `"controlling"`, `"controlled"` or `"unknown"` (W3C `RTCIceRole`).
    public var iceRole: String
    /// Our ufrag now.
    public var iceLocalUsernameFragment: String
    /// W3C `RTCDtlsTransportState` (`"new"`, `"connecting"`, `"connected"`, `"closed"`, `"failed"`).
    public var dtlsState: String
    /// W3C `RTCIceTransportState`.
    public var iceState: String
    public var selectedCandidatePairId: String?
    public var localCertificateId: String?
    public var remoteCertificateId: String?
    /// `"DTLSv1.2"` once connected.
    public var tlsVersion: String?
    /// The negotiated cipher suite (OpenSSL's name).
    public var dtlsCipher: String?
    /// `"client"`, `"server"` or `"unknown"` (W3C `RTCDtlsRole`).
    public var dtlsRole: String
}

/// W3C `RTCIceCandidatePairStats` (`type` `"candidate-pair"`).
public struct CandidatePairStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "candidate-pair"
    public var id: String
    public var transportId: String
    public var localCandidateId: String
    public var remoteCandidateId: String
    /// W3C `RTCStatsIceCandidatePairState`.
    public var state: String
    public var nominated: Bool
    /// Datagrams and bytes through the pair (all of the transport's: one selected pair).
    public var packetsSent: UInt64
    public var packetsReceived: UInt64
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    /// Seconds: SCTP's smoothed round-trip time over the pair once the association has measured
    /// one (libnice 0.1.21 publishes no STUN round-trip time; SCTP's includes the peer's delayed
    /// acknowledgement, so it can read high on an idle association).
    public var currentRoundTripTime: Double?
    /// Not measured (nil): libnice 0.1.21 does not publish its STUN round-trip times.
    public var totalRoundTripTime: Double?
    /// STUN connectivity checks and responses; nil: not measured (libnice 0.1.21 does not count them).
    public var requestsSent: UInt64?
    public var requestsReceived: UInt64?
    public var responsesSent: UInt64?
    public var responsesReceived: UInt64?
}

/// W3C `RTCIceCandidateStats` (`type` `"local-candidate"` or `"remote-candidate"`).
public struct IceCandidateStats: Sendable, Hashable {
    public var id: String
    public var transportId: String
    public var address: String
    public var port: UInt16
    /// `"udp"` or `"tcp"`.
    public var `protocol`: String
    /// `"host"`, `"srflx"`, `"prflx"` or `"relay"`.
    public var candidateType: String
    public var priority: UInt32
    public var foundation: String
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    public var tcpType: String?
    public var usernameFragment: String?

    init(id: String, transportId: String, _ c: IceCandidate, usernameFragment: String?) {
        self.id = id
        self.transportId = transportId
        address = c.address
        port = c.port
        self.protocol = c.transport.rawValue
        candidateType = c.type.rawValue
        priority = c.priority
        foundation = c.foundation
        relatedAddress = c.relatedAddress
        relatedPort = c.relatedPort
        tcpType = c.tcpType?.rawValue
        self.usernameFragment = usernameFragment
    }
}

/// W3C `RTCDataChannelStats` (`type` `"data-channel"`).
public struct DataChannelStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "data-channel"
    public var id: String
    public var label: String
    public var `protocol`: String
    /// The SCTP stream id, once assigned.
    public var dataChannelIdentifier: UInt16?
    /// W3C `RTCDataChannelState`.
    public var state: String
    public var messagesSent: UInt64
    public var bytesSent: UInt64
    public var messagesReceived: UInt64
    public var bytesReceived: UInt64
}

/// W3C `RTCCertificateStats` (`type` `"certificate"`).
public struct CertificateStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "certificate"
    public var id: String
    /// Lower-case hex with colons, as in `a=fingerprint`.
    public var fingerprint: String
    /// `"sha-256"`, …
    public var fingerprintAlgorithm: String
    /// The DER certificate in base64; nil for the peer's (only its fingerprint is kept).
    public var base64Certificate: String?
}
