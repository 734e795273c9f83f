/// One data-channel message: a string or bytes (W3C `MessageEvent.data` as `string` or
/// `ArrayBuffer`), with its SCTP payload identifier (RFC 8831 §6.6).
///
/// ```swift
/// try channel.send(.text("hello"))
/// try channel.send(.binary([1, 2, 3]))
/// let (ppid, payload) = DataChannelMessage.text("").wire   // (.stringEmpty, [0])
/// ```
public enum DataChannelMessage: Sendable, Hashable {
    case text(String)
    case binary([UInt8])

    /// The payload's size in bytes (UTF-8 for text): what counts against ``bufferedAmount``-style
    /// limits and `max-message-size`.
    public var count: Int {
        switch self {
        case .text(let s): s.utf8.count
        case .binary(let b): b.count
        }
    }

    /// The PPID and payload to send. Empty messages go as one zero byte with the "empty" PPIDs
    /// (RFC 8831 §6.6: SCTP cannot carry empty user messages).
    public var wire: (ppid: DataChannelPPID, payload: [UInt8]) {
        switch self {
        case .text(let s): s.isEmpty ? (.stringEmpty, [0]) : (.string, Array(s.utf8))
        case .binary(let b): b.isEmpty ? (.binaryEmpty, [0]) : (.binary, b)
        }
    }

    /// The message a received payload with this PPID carries, or nil for DCEP (PPID 50) and
    /// unknown PPIDs. Text that is not valid UTF-8 is decoded with replacement characters, as
    /// browsers do (W3C: "UTF-8 decode").
    public init?(ppid: UInt32, payload: some Collection<UInt8>) {
        guard let known = DataChannelPPID(rawValue: ppid) else { return nil }
        switch known {
        case .dcep: return nil
        case .string, .stringPartial: self = .text(String(decoding: payload, as: UTF8.self))
        case .binary, .binaryPartial: self = .binary(Array(payload))
        case .stringEmpty: self = .text("")
        case .binaryEmpty: self = .binary([])
        }
    }
}
