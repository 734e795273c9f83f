/// Puts an encoded frame back together from the RTP payloads that carried it.
///
/// Depacketizers keep no state between frames: each call gets every packet of one frame, in
/// sequence order (``FrameAssembler`` collects them). Anything that does not fit together — a
/// sequence gap, a missing first packet, a broken fragmentation unit — is a typed error, never a
/// partial frame.
public protocol RtpDepacketizer: Sendable {
    /// Whether every packet is a frame of its own (Opus): a frame is then complete with its one
    /// packet, whatever the marker bit says.
    var framesAreSinglePackets: Bool { get }

    /// The frame carried by `units`, which must be consecutive packets with one timestamp.
    ///
    /// - Parameter maximumFrameSize: the largest frame (in output bytes) to build; beyond it the
    ///   call throws ``RtpError/Code/frameTooLarge`` instead of allocating more.
    func depacketize(_ units: [RtpPayloadUnit], maximumFrameSize: Int) throws(RtpError) -> EncodedFrame

    /// Whether `payload` is the first packet of a frame, so a frame starting with it is whole even
    /// when packets before it were lost. `false` when the payload cannot tell.
    func startsFrame(_ payload: [UInt8]) -> Bool
}

extension RtpDepacketizer {
    public var framesAreSinglePackets: Bool { false }

    /// ``depacketize(_:maximumFrameSize:)`` with ``FrameAssembler/Limits/defaultMaximumFrameBytes``.
    public func depacketize(_ units: [RtpPayloadUnit]) throws(RtpError) -> EncodedFrame {
        try depacketize(units, maximumFrameSize: FrameAssembler.Limits.defaultMaximumFrameBytes)
    }
}

/// Checks shared by the depacketizers: at least one packet, one timestamp, no sequence gap.
enum RtpFrameChecks {
    static func validate(_ units: [RtpPayloadUnit]) throws(RtpError) {
        guard let first = units.first else {
            throw RtpError(.invalidValue, field: "frame", reason: "no packet")
        }
        var expected = first.sequenceNumber
        for unit in units {
            guard unit.sequenceNumber == expected else {
                throw RtpError(.fragmentation, field: "sequenceNumber",
                                    reason: "expected \(expected), got \(unit.sequenceNumber)")
            }
            guard unit.timestamp == first.timestamp else {
                throw RtpError(.fragmentation, field: "timestamp",
                                    reason: "packets of timestamps \(first.timestamp) and \(unit.timestamp) in one frame")
            }
            expected &+= 1
        }
    }

    static func checkSize(_ size: Int, limit: Int) throws(RtpError) {
        guard size <= limit else {
            throw RtpError(.frameTooLarge, field: "frame", reason: "more than \(limit) bytes")
        }
    }

    static func checkPayloadLimit(_ limit: Int, overhead: Int, codec: String) throws(RtpError) {
        guard limit > overhead else {
            throw RtpError(.payloadLimit, field: "maximumPayloadSize",
                                reason: "\(limit) bytes cannot hold \(codec)'s \(overhead)-byte header and data")
        }
    }
}
