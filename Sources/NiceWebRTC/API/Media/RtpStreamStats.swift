import NiceWebRTCCore

/// W3C `RTCInboundRtpStreamStats` (`type` `"inbound-rtp"`): one per SSRC a receiver got packets
/// from, with the RTCP engine's figures (``InboundRtpFigures``) composed in.
public struct InboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "inbound-rtp"
    public var id: String
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var mid: String?
    public var transportId: String
    /// Packets delivered (RTX-repaired ones included, counted on the media SSRC).
    public var packetsReceived: UInt64
    /// Payload bytes (W3C: headers and padding excluded).
    public var bytesReceived: UInt64
    /// Header and padding bytes.
    public var headerBytesReceived: UInt64 = 0
    /// RFC 3550 A.3 cumulative loss (expected − received; repaired packets count as received).
    public var packetsLost: Int64 = 0
    /// Interarrival jitter, seconds.
    public var jitter: Double = 0
    /// Duplicates and out-of-window packets.
    public var packetsDiscarded: UInt64 = 0
    /// NACK packets we sent for this source.
    public var nackCount: UInt64 = 0
    /// PLI packets we sent for this source.
    public var pliCount: UInt64 = 0
    /// FIR packets we sent for this source.
    public var firCount: UInt64 = 0

    mutating func compose(_ f: InboundRtpFigures) {
        headerBytesReceived = f.headerBytesReceived
        packetsLost = f.packetsLost
        jitter = f.jitter
        packetsDiscarded = f.packetsDiscarded
        nackCount = f.nackCount
        pliCount = f.pliCount
        firCount = f.firCount
    }
}

/// W3C `RTCOutboundRtpStreamStats` (`type` `"outbound-rtp"`): one per sender with an SSRC, with
/// the RTCP engine's figures (``OutboundRtpFigures``) composed in.
public struct OutboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "outbound-rtp"
    public var id: String
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var mid: String?
    public var transportId: String
    /// Packets sent, retransmissions included (W3C).
    public var packetsSent: UInt64
    /// Payload bytes, retransmissions included (W3C: headers and padding excluded).
    public var bytesSent: UInt64
    /// Header and padding bytes (retransmissions included).
    public var headerBytesSent: UInt64 = 0
    /// Packets sent again in answer to a NACK.
    public var retransmittedPacketsSent: UInt64 = 0
    /// Payload bytes of those packets.
    public var retransmittedBytesSent: UInt64 = 0
    /// NACK packets received about this source.
    public var nackCount: UInt64 = 0
    /// PLI packets received about this source.
    public var pliCount: UInt64 = 0
    /// FIR packets received about this source.
    public var firCount: UInt64 = 0
    /// The `remote-inbound-rtp` entry about this source, once the peer reported on it.
    public var remoteId: String?

    mutating func compose(_ f: OutboundRtpFigures) {
        packetsSent = f.packetsSent
        bytesSent = f.bytesSent
        headerBytesSent = f.headerBytesSent
        retransmittedPacketsSent = f.retransmittedPacketsSent
        retransmittedBytesSent = f.retransmittedBytesSent
        nackCount = f.nackCount
        pliCount = f.pliCount
        firCount = f.firCount
    }
}

/// W3C `RTCRemoteInboundRtpStreamStats` (`type` `"remote-inbound-rtp"`): what the peer's report
/// blocks say about one of our sources (one per source reported on).
public struct RemoteInboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "remote-inbound-rtp"
    public var id: String
    /// Our source the peer reports on.
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var transportId: String
    /// The `outbound-rtp` entry of this source.
    public var localId: String
    /// The peer's cumulative count of our packets lost.
    public var packetsLost: Int64
    /// The fraction lost in the peer's last report interval (0…1).
    public var fractionLost: Double
    /// The peer's interarrival jitter for our stream, seconds.
    public var jitter: Double
    /// The last round-trip time from LSR/DLSR, seconds; nil until measured.
    public var roundTripTime: Double?
    /// The sum of every round-trip time measured, seconds.
    public var totalRoundTripTime: Double
    /// How many round-trip times were measured.
    public var roundTripTimeMeasurements: UInt64
    /// Report blocks about this source received.
    public var reportsReceived: UInt64
}

extension MediaSession {
    /// The `inbound-rtp`, `outbound-rtp` and `remote-inbound-rtp` entries, by transceiver then SSRC.
    func rtpStats(transportId: String) -> (inbound: [InboundRtpStats], outbound: [OutboundRtpStats], remoteInbound: [RemoteInboundRtpStats]) {
        let figures = engine?.figures() ?? RtcpFigures()
        return state.withLock { s in
            var inbound: [InboundRtpStats] = []
            var outbound: [OutboundRtpStats] = []
            var remote: [RemoteInboundRtpStats] = []
            for id in s.bindings.keys.sorted() {
                guard let b = s.bindings[id] else { continue }
                let mid = b.send?.mid ?? b.receive?.mid
                if b.send != nil || b.sent.packets > 0 {
                    var out = OutboundRtpStats(
                        id: "OT\(b.ssrc)", ssrc: b.ssrc, kind: b.kind.rawValue, mid: mid, transportId: transportId,
                        packetsSent: b.sent.packets, bytesSent: b.sent.bytes)
                    if let f = figures.outbound[b.ssrc] { out.compose(f) }
                    if let r = figures.remoteInbound[b.ssrc], r.reportsReceived > 0 {
                        out.remoteId = "RI\(b.ssrc)"
                        remote.append(RemoteInboundRtpStats(
                            id: "RI\(b.ssrc)", ssrc: b.ssrc, kind: b.kind.rawValue, transportId: transportId, localId: out.id,
                            packetsLost: r.packetsLost, fractionLost: r.fractionLost, jitter: r.jitter, roundTripTime: r.roundTripTime,
                            totalRoundTripTime: r.totalRoundTripTime, roundTripTimeMeasurements: r.roundTripTimeMeasurements,
                            reportsReceived: r.reportsReceived))
                    }
                    outbound.append(out)
                }
                for ssrc in b.received.keys.sorted() {
                    let c = b.received[ssrc] ?? .init()
                    var entry = InboundRtpStats(
                        id: "IT\(ssrc)", ssrc: ssrc, kind: b.kind.rawValue, mid: mid, transportId: transportId,
                        packetsReceived: c.packets, bytesReceived: c.bytes)
                    if let f = figures.inbound[ssrc] { entry.compose(f) }
                    inbound.append(entry)
                }
            }
            return (inbound, outbound, remote)
        }
    }
}
