/// The SCTP payload protocol identifiers of WebRTC data channels (RFC 8831 §8, IANA).
public enum DataChannelPPID: UInt32, Sendable, Hashable, CaseIterable {
    /// A DCEP message (RFC 8832).
    case dcep = 50
    /// A non-empty string message (UTF-8).
    case string = 51
    /// A non-empty binary message.
    case binary = 53
    /// An empty string message (sent as one zero byte).
    case stringEmpty = 56
    /// An empty binary message (sent as one zero byte).
    case binaryEmpty = 57
    /// Deprecated partial string / binary (old Chrome); received as the non-partial kind.
    case stringPartial = 52
    case binaryPartial = 54
}

/// How a channel delivers (RFC 8832 §5.1 channel types, W3C `ordered`, `maxRetransmits`,
/// `maxPacketLifeTime`).
public enum DataChannelReliability: Sendable, Hashable {
    /// Every message, retransmitted until acknowledged.
    case reliable
    /// At most this many retransmissions (RFC 3758 partial reliability).
    case maxRetransmits(UInt16)
    /// Retransmitted for at most this many milliseconds.
    case maxPacketLifeTime(UInt16)
}

/// A DCEP message (RFC 8832): DATA_CHANNEL_OPEN or DATA_CHANNEL_ACK.
public enum DcepMessage: Sendable, Hashable {
    case open(DcepOpen)
    case ack

    public static let openType: UInt8 = 0x03
    public static let ackType: UInt8 = 0x02

    /// Reads a DCEP message (the payload of a PPID 50 message).
    ///
    /// - Throws: ``DataChannelError`` `protocolViolation` with field `dcep` for an unknown type, a message
    ///   shorter than its header, lengths that do not match, an unknown channel type, a label or
    ///   protocol that is not UTF-8.
    public init(parsing bytes: some Collection<UInt8>) throws(DataChannelError) {
        let b = Array(bytes)
        guard let type = b.first else { throw Self.failure("empty message") }
        switch type {
        case Self.ackType:
            // RFC 8832 §5.2: the ACK is one byte; a longer one is refused rather than guessed at.
            guard b.count == 1 else { throw Self.failure("DATA_CHANNEL_ACK has \(b.count) bytes, not 1") }
            self = .ack
        case Self.openType:
            self = .open(try DcepOpen(parsing: b))
        default:
            throw Self.failure("unknown message type 0x\(String(type, radix: 16))")
        }
    }

    /// The wire form.
    public var bytes: [UInt8] {
        switch self {
        case .ack: [Self.ackType]
        case .open(let o): o.bytes
        }
    }

    static func failure(_ reason: String) -> DataChannelError {
        DataChannelError(.protocolViolation, field: "dcep", reason: reason)
    }
}

/// DATA_CHANNEL_OPEN (RFC 8832 §5.1).
public struct DcepOpen: Sendable, Hashable {
    public var ordered: Bool
    public var reliability: DataChannelReliability
    /// RFC 8831 §6.4 priority (256 = normal, W3C's default).
    public var priority: UInt16
    public var label: String
    public var `protocol`: String

    /// The longest label or protocol in bytes (a 16-bit length field).
    public static let maximumStringLength = 65_535

    public init(ordered: Bool = true, reliability: DataChannelReliability = .reliable, priority: UInt16 = 256, label: String, protocol: String = "") {
        self.ordered = ordered
        self.reliability = reliability
        self.priority = priority
        self.label = label
        self.protocol = `protocol`
    }

    init(parsing b: [UInt8]) throws(DataChannelError) {
        guard b.count >= 12 else { throw DcepMessage.failure("DATA_CHANNEL_OPEN shorter than its 12-byte header (\(b.count))") }
        let channelType = b[1]
        priority = UInt16(b[2]) << 8 | UInt16(b[3])
        let parameter = UInt32(b[4]) << 24 | UInt32(b[5]) << 16 | UInt32(b[6]) << 8 | UInt32(b[7])
        let labelLength = Int(b[8]) << 8 | Int(b[9])
        let protocolLength = Int(b[10]) << 8 | Int(b[11])
        guard b.count == 12 + labelLength + protocolLength else {
            throw DcepMessage.failure("label (\(labelLength)) and protocol (\(protocolLength)) lengths do not match the \(b.count)-byte message")
        }
        ordered = channelType & 0x80 == 0
        // RFC 8832 §5.1: the reliability parameter is 32 bits; W3C's attributes are 16 bits, so a
        // larger value is clamped (it means "more than anyone will wait for").
        let clamped = UInt16(min(parameter, UInt32(UInt16.max)))
        switch channelType & 0x7F {
        case 0x00: reliability = .reliable
        case 0x01: reliability = .maxRetransmits(clamped)
        case 0x02: reliability = .maxPacketLifeTime(clamped)
        default: throw DcepMessage.failure("unknown channel type 0x\(String(channelType, radix: 16))")
        }
        guard let l = String(validating: b[12..<(12 + labelLength)], as: UTF8.self),
            let p = String(validating: b[(12 + labelLength)...], as: UTF8.self)
        else { throw DcepMessage.failure("label or protocol is not UTF-8") }
        label = l
        self.protocol = p
    }

    /// The wire form. Labels and protocols longer than ``maximumStringLength`` bytes are the
    /// caller's error (``DataChannelOptions/validate(label:)`` refuses them first).
    public var bytes: [UInt8] {
        let l = Array(label.utf8.prefix(Self.maximumStringLength))
        let p = Array(self.protocol.utf8.prefix(Self.maximumStringLength))
        var type: UInt8
        var parameter: UInt32 = 0
        switch reliability {
        case .reliable: type = 0x00
        case .maxRetransmits(let n): type = 0x01; parameter = UInt32(n)
        case .maxPacketLifeTime(let ms): type = 0x02; parameter = UInt32(ms)
        }
        if !ordered { type |= 0x80 }
        var out: [UInt8] = [DcepMessage.openType, type, UInt8(priority >> 8), UInt8(priority & 0xFF)]
        out += [UInt8(parameter >> 24), UInt8((parameter >> 16) & 0xFF), UInt8((parameter >> 8) & 0xFF), UInt8(parameter & 0xFF)]
        out += [UInt8(l.count >> 8), UInt8(l.count & 0xFF), UInt8(p.count >> 8), UInt8(p.count & 0xFF)]
        return out + l + p
    }
}

/// W3C `RTCDataChannelInit`: what `createDataChannel(label:options:)` takes.
public struct DataChannelOptions: Sendable, Hashable {
    public var ordered: Bool
    public var maxPacketLifeTime: UInt16?
    public var maxRetransmits: UInt16?
    public var `protocol`: String
    /// Pre-negotiated (W3C `negotiated: true`): no DCEP; both sides create the channel with the
    /// same ``id``.
    public var negotiated: Bool
    public var id: UInt16?

    public init(
        ordered: Bool = true, maxPacketLifeTime: UInt16? = nil, maxRetransmits: UInt16? = nil, protocol: String = "",
        negotiated: Bool = false, id: UInt16? = nil
    ) {
        self.ordered = ordered
        self.maxPacketLifeTime = maxPacketLifeTime
        self.maxRetransmits = maxRetransmits
        self.protocol = `protocol`
        self.negotiated = negotiated
        self.id = id
    }

    /// The highest stream id (65,535 is reserved, RFC 8831 §6.5).
    public static let maximumID: UInt16 = 65_534

    /// W3C `createDataChannel` checks, in its order: label and protocol at most 65,535 bytes of
    /// UTF-8; not both `maxPacketLifeTime` and `maxRetransmits`; `negotiated` needs an `id`; an
    /// `id` of 65,535 is refused.
    ///
    /// - Throws: ``DataChannelError`` `invalidParameters` naming the field.
    public func validate(label: String) throws(DataChannelError) -> DataChannelReliability {
        guard label.utf8.count <= DcepOpen.maximumStringLength else {
            throw DataChannelError(.invalidParameters, field: "label", reason: "longer than 65,535 bytes")
        }
        guard self.protocol.utf8.count <= DcepOpen.maximumStringLength else {
            throw DataChannelError(.invalidParameters, field: "protocol", reason: "longer than 65,535 bytes")
        }
        if maxPacketLifeTime != nil && maxRetransmits != nil {
            throw DataChannelError(.invalidParameters, field: "maxRetransmits", reason: "maxPacketLifeTime and maxRetransmits exclude each other")
        }
        if negotiated && id == nil {
            throw DataChannelError(.invalidParameters, field: "id", reason: "a negotiated channel needs an id")
        }
        if let id, id > Self.maximumID {
            throw DataChannelError(.invalidParameters, field: "id", reason: "65,535 is reserved")
        }
        if let n = maxRetransmits { return .maxRetransmits(n) }
        if let ms = maxPacketLifeTime { return .maxPacketLifeTime(ms) }
        return .reliable
    }

    /// RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones.
    public static func isOwnStreamID(_ id: UInt16, dtlsRole: DtlsRole) -> Bool {
        dtlsRole == .client ? id % 2 == 0 : id % 2 == 1
    }
}
