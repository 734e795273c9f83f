/// W3C `RTCInboundRtpStreamStats` (`type` `"inbound-rtp"`): one per SSRC a receiver got packets
/// from. Loss, jitter and NACK/PLI counts come with the RTCP engine.
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
}

/// W3C `RTCOutboundRtpStreamStats` (`type` `"outbound-rtp"`): one per sender with an SSRC.
public struct OutboundRtpStats: Sendable, Hashable {
    /// W3C `type`.
    public static let type = "outbound-rtp"
    public var id: String
    public var ssrc: UInt32
    /// `"audio"` or `"video"`.
    public var kind: String
    public var mid: String?
    public var transportId: String
    /// Packets handed to SRTP.
    public var packetsSent: UInt64
    /// Payload bytes (W3C: headers and padding excluded).
    public var bytesSent: UInt64
}

extension MediaSession {
    /// The `inbound-rtp` and `outbound-rtp` entries, by transceiver then SSRC.
    func rtpStats(transportId: String) -> (inbound: [InboundRtpStats], outbound: [OutboundRtpStats]) {
        state.withLock { s in
            var inbound: [InboundRtpStats] = []
            var outbound: [OutboundRtpStats] = []
            for id in s.bindings.keys.sorted() {
                guard let b = s.bindings[id] else { continue }
                let mid = b.send?.mid ?? b.receive?.mid
                if b.send != nil || b.sent.packets > 0 {
                    outbound.append(OutboundRtpStats(
                        id: "OT\(b.ssrc)", ssrc: b.ssrc, kind: b.kind.rawValue, mid: mid, transportId: transportId,
                        packetsSent: b.sent.packets, bytesSent: b.sent.bytes))
                }
                for ssrc in b.received.keys.sorted() {
                    let c = b.received[ssrc] ?? .init()
                    inbound.append(InboundRtpStats(
                        id: "IT\(ssrc)", ssrc: ssrc, kind: b.kind.rawValue, mid: mid, transportId: transportId,
                        packetsReceived: c.packets, bytesReceived: c.bytes))
                }
            }
            return (inbound, outbound)
        }
    }
}
