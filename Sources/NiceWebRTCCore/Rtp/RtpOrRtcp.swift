/// RTP or RTCP on an rtcp-mux transport (RFC 5761 §4): after RFC 7983 classified a datagram as
/// RTP/RTCP by its first byte (``DatagramClass/rtp``), the second byte — RTCP's packet type,
/// RTP's marker bit and payload type — tells them apart: 192–223 is RTCP.
public enum RtpOrRtcp: Sendable, Hashable {
    case rtp
    case rtcp

    /// Classifies a datagram; `nil` when it is shorter than two bytes or its first byte is not
    /// in RFC 7983's RTP/RTCP range (128–191).
    public static func classify(_ datagram: some Collection<UInt8>) -> RtpOrRtcp? {
        var bytes = datagram.makeIterator()
        guard let first = bytes.next(), let second = bytes.next() else { return nil }
        let kind = withUnsafeBytes(of: first) { DatagramClass(firstByteOf: $0) }
        guard kind == .rtp else { return nil }
        return (192...223).contains(second) ? .rtcp : .rtp
    }
}
