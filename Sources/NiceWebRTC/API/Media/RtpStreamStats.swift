import NiceWebRTCCore

/// W3C `RTCInboundRtpStreamStats` (`type` `"inbound-rtp"`): one per SSRC a receiver got packets
/// from: its identity, and the RTCP engine's ``InboundRtpFigures`` with the runtime's own packet and
/// byte counts in them.
public struct InboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "inbound-rtp"
    public var id: String
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var mid: String?
    public var transportId: String
    /// The counters, W3C-named; the accessors below read them.
    public var figures: InboundRtpFigures
    /// The `remote-outbound-rtp` entry about this source, once the peer sent an SR about it.
    public var remoteId: String?

    /// Packets delivered (RTX-repaired ones included, counted on the media SSRC).
    public var packetsReceived: UInt64 { figures.packetsReceived }
    /// Payload bytes (W3C: headers and padding excluded).
    public var bytesReceived: UInt64 { figures.bytesReceived }
    /// Header and padding bytes.
    public var headerBytesReceived: UInt64 { figures.headerBytesReceived }
    /// RFC 3550 A.3 cumulative loss (expected − received; repaired packets count as received).
    public var packetsLost: Int64 { figures.packetsLost }
    /// Interarrival jitter, seconds.
    public var jitter: Double { figures.jitter }
    /// Duplicates and out-of-window packets.
    public var packetsDiscarded: UInt64 { figures.packetsDiscarded }
    /// NACK packets we sent for this source.
    public var nackCount: UInt64 { figures.nackCount }
    /// PLI packets we sent for this source.
    public var pliCount: UInt64 { figures.pliCount }
    /// FIR packets we sent for this source.
    public var firCount: UInt64 { figures.firCount }

    /// The entry for `ssrc`: the engine's figures (if it has any) with the runtime's counts of
    /// packets and payload bytes delivered.
    init(id: String, ssrc: UInt32, kind: String, mid: String?, transportId: String,
         figures: InboundRtpFigures?, packetsReceived: UInt64, bytesReceived: UInt64) {
        self.id = id
        self.ssrc = ssrc
        self.kind = kind
        self.mid = mid
        self.transportId = transportId
        self.figures = figures ?? InboundRtpFigures(ssrc: ssrc)
        self.figures.packetsReceived = packetsReceived
        self.figures.bytesReceived = bytesReceived
    }
}

/// W3C `RTCOutboundRtpStreamStats` (`type` `"outbound-rtp"`): one per sender with an SSRC: its
/// identity, and the RTCP engine's ``OutboundRtpFigures`` (or the runtime's own packet and byte
/// counts before the engine has any).
public struct OutboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "outbound-rtp"
    public var id: String
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var mid: String?
    public var transportId: String
    /// The counters, W3C-named; the accessors below read them.
    public var figures: OutboundRtpFigures
    /// The `remote-inbound-rtp` entry about this source, once the peer reported on it.
    public var remoteId: String?

    /// Packets sent, retransmissions included (W3C).
    public var packetsSent: UInt64 { figures.packetsSent }
    /// Payload bytes, retransmissions included (W3C: headers and padding excluded).
    public var bytesSent: UInt64 { figures.bytesSent }
    /// Header and padding bytes (retransmissions included).
    public var headerBytesSent: UInt64 { figures.headerBytesSent }
    /// Packets sent again in answer to a NACK.
    public var retransmittedPacketsSent: UInt64 { figures.retransmittedPacketsSent }
    /// Payload bytes of those packets.
    public var retransmittedBytesSent: UInt64 { figures.retransmittedBytesSent }
    /// NACK packets received about this source.
    public var nackCount: UInt64 { figures.nackCount }
    /// PLI packets received about this source.
    public var pliCount: UInt64 { figures.pliCount }
    /// FIR packets received about this source.
    public var firCount: UInt64 { figures.firCount }

    /// The entry for `ssrc`: the engine's figures if it has any, else the runtime's counts of
    /// packets and payload bytes sent.
    init(id: String, ssrc: UInt32, kind: String, mid: String?, transportId: String,
         figures: OutboundRtpFigures?, packetsSent: UInt64, bytesSent: UInt64) {
        self.id = id
        self.ssrc = ssrc
        self.kind = kind
        self.mid = mid
        self.transportId = transportId
        if let figures {
            self.figures = figures
        } else {
            self.figures = OutboundRtpFigures(ssrc: ssrc)
            self.figures.packetsSent = packetsSent
            self.figures.bytesSent = bytesSent
        }
    }
}

/// W3C `RTCRemoteInboundRtpStreamStats` (`type` `"remote-inbound-rtp"`): what the peer's report
/// blocks say about one of our sources (one per source reported on): its identity, and the RTCP
/// engine's ``RemoteInboundRtpFigures``.
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
    /// The counters, W3C-named; the accessors below read them.
    public var figures: RemoteInboundRtpFigures

    /// The peer's cumulative count of our packets lost.
    public var packetsLost: Int64 { figures.packetsLost }
    /// The fraction lost in the peer's last report interval (0…1).
    public var fractionLost: Double { figures.fractionLost }
    /// The peer's interarrival jitter for our stream, seconds.
    public var jitter: Double { figures.jitter }
    /// The last round-trip time from LSR/DLSR, seconds; nil until measured.
    public var roundTripTime: Double? { figures.roundTripTime }
    /// The sum of every round-trip time measured, seconds.
    public var totalRoundTripTime: Double { figures.totalRoundTripTime }
    /// How many round-trip times were measured.
    public var roundTripTimeMeasurements: UInt64 { figures.roundTripTimeMeasurements }
    /// Report blocks about this source received.
    public var reportsReceived: UInt64 { figures.reportsReceived }
}

/// W3C `RTCRemoteOutboundRtpStreamStats` (`type` `"remote-outbound-rtp"`): what the peer's sender
/// reports say about one of the sources we receive (one per source with an SR): its identity, and
/// the RTCP engine's ``RemoteOutboundRtpFigures``.
public struct RemoteOutboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "remote-outbound-rtp"
    public var id: String
    /// The peer's source the reports are about.
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var transportId: String
    /// The `inbound-rtp` entry of this source.
    public var localId: String
    /// The counters, W3C-named; the accessors below read them.
    public var figures: RemoteOutboundRtpFigures

    /// The last SR's NTP timestamp in milliseconds since 1970, by the peer's clock.
    public var remoteTimestamp: Double? { figures.remoteTimestamp }
    /// Packets the peer says it sent (its SR packet count).
    public var packetsSent: UInt64 { figures.packetsSent }
    /// Payload bytes the peer says it sent (its SR octet count).
    public var bytesSent: UInt64 { figures.bytesSent }
    /// Sender reports about this source received.
    public var reportsSent: UInt64 { figures.reportsSent }
}

/// The RTP entries of one stats report.
struct RtpStatsEntries: Sendable {
    var inbound: [InboundRtpStats] = []
    var outbound: [OutboundRtpStats] = []
    var remoteInbound: [RemoteInboundRtpStats] = []
    var remoteOutbound: [RemoteOutboundRtpStats] = []
}

extension MediaSession {
    /// The `inbound-rtp`, `outbound-rtp`, `remote-inbound-rtp` and `remote-outbound-rtp` entries,
    /// by transceiver then SSRC.
    func rtpStats(transportId: String) -> RtpStatsEntries {
        let figures = engine?.figures() ?? RtcpFigures()
        return state.withLock { s in
            var inbound: [InboundRtpStats] = []
            var outbound: [OutboundRtpStats] = []
            var remote: [RemoteInboundRtpStats] = []
            var remoteOutbound: [RemoteOutboundRtpStats] = []
            for id in s.bindings.keys.sorted() {
                guard let b = s.bindings[id] else { continue }
                let mid = b.send?.mid ?? b.receive?.mid
                if b.send != nil || b.sent.packets > 0 {
                    var out = OutboundRtpStats(
                        id: "OT\(b.ssrc)", ssrc: b.ssrc, kind: b.kind.rawValue, mid: mid, transportId: transportId,
                        figures: figures.outbound[b.ssrc], packetsSent: b.sent.packets, bytesSent: b.sent.bytes)
                    if let r = figures.remoteInbound[b.ssrc], r.reportsReceived > 0 {
                        out.remoteId = "RI\(b.ssrc)"
                        remote.append(RemoteInboundRtpStats(
                            id: "RI\(b.ssrc)", ssrc: b.ssrc, kind: b.kind.rawValue, transportId: transportId, localId: out.id,
                            figures: r))
                    }
                    outbound.append(out)
                }
                for ssrc in b.received.keys.sorted() {
                    let c = b.received[ssrc] ?? .init()
                    var entry = InboundRtpStats(
                        id: "IT\(ssrc)", ssrc: ssrc, kind: b.kind.rawValue, mid: mid, transportId: transportId,
                        figures: figures.inbound[ssrc], packetsReceived: c.packets, bytesReceived: c.bytes)
                    if let r = figures.remoteOutbound[ssrc], r.reportsSent > 0 {
                        entry.remoteId = "RO\(ssrc)"
                        remoteOutbound.append(RemoteOutboundRtpStats(
                            id: "RO\(ssrc)", ssrc: ssrc, kind: b.kind.rawValue, transportId: transportId, localId: entry.id,
                            figures: r))
                    }
                    inbound.append(entry)
                }
            }
            return RtpStatsEntries(inbound: inbound, outbound: outbound, remoteInbound: remote, remoteOutbound: remoteOutbound)
        }
    }
}
