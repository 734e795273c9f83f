/// A reception report block of an SR or RR (RFC 3550 §6.4.1), 24 bytes.
public struct RtcpReportBlock: Sendable, Hashable {
    /// The source this block reports on.
    public var ssrc: UInt32
    /// Fraction lost since the last report, in 1/256.
    public var fractionLost: UInt8
    /// Cumulative number of packets lost: a signed 24-bit value (-8388608…8388607).
    public var cumulativeLost: Int32
    /// Extended highest sequence number received (cycles << 16 | highest).
    public var extendedHighestSequenceNumber: UInt32
    /// Interarrival jitter, in timestamp units.
    public var jitter: UInt32
    /// LSR: the middle 32 bits of the last SR's NTP timestamp.
    public var lastSenderReport: UInt32
    /// DLSR: delay since that SR, in 1/65536 seconds.
    public var delaySinceLastSenderReport: UInt32

    /// A block's size on the wire.
    public static let wireCount = 24

    /// A block from its fields.
    public init(
        ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequenceNumber: UInt32 = 0,
        jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    init(_ r: inout RtpWireReader) throws(RtpError) {
        ssrc = try r.u32("report block")
        fractionLost = try r.u8("report block")
        // Sign-extend the 24-bit field.
        cumulativeLost = Int32(bitPattern: try r.u24("report block") << 8) >> 8
        extendedHighestSequenceNumber = try r.u32("report block")
        jitter = try r.u32("report block")
        lastSenderReport = try r.u32("report block")
        delaySinceLastSenderReport = try r.u32("report block")
    }

    func write(_ w: inout RtpWireWriter) throws(RtpError) {
        guard (-0x80_0000...0x7F_FFFF).contains(cumulativeLost) else {
            throw RtpError(.invalidValue, field: "cumulative lost", reason: "\(cumulativeLost) does not fit 24 signed bits")
        }
        w.u32(ssrc)
        w.u8(fractionLost)
        w.u24(UInt32(bitPattern: cumulativeLost) & 0xFF_FFFF)
        w.u32(extendedHighestSequenceNumber)
        w.u32(jitter)
        w.u32(lastSenderReport)
        w.u32(delaySinceLastSenderReport)
    }

    /// Reads `count` blocks, checking first that the body holds them.
    static func list(_ count: UInt8, _ r: inout RtpWireReader) throws(RtpError) -> [RtcpReportBlock] {
        guard Int(count) * wireCount <= r.remaining else {
            throw RtpError(.badLength, field: "report count", reason: "\(count) report blocks need \(Int(count) * wireCount) bytes, \(r.remaining) left")
        }
        var out: [RtcpReportBlock] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count { out.append(try RtcpReportBlock(&r)) }
        return out
    }
}
