import NiceICECore

/// The data-channel part of an SDP offer or answer (RFC 8841, RFC 8831): the `m=application … 
/// UDP/DTLS/SCTP webrtc-datachannel` section, its `a=sctp-port` and `a=max-message-size`.
///
/// ```swift
/// let dc = try DataChannelDescription(parsing: browserOffer)
/// dc?.mid              // "2" in a Chrome offer with audio and video first
/// dc?.sctpPort         // 5000
/// dc?.maxMessageSize   // 262144 from Chrome, 1073741823 from Firefox; 65536 when absent
/// ```
public struct DataChannelDescription: Sendable, Hashable {
    /// The section's mid (`a=mid`), if it has one.
    public var mid: String?
    /// Its index among the `m=` lines.
    public var mLineIndex: Int
    /// `m=` port 0: the section is rejected (or, with `a=bundle-only`, rides on the bundle).
    public var port: UInt16
    /// `a=sctp-port` (RFC 8841 §5), 5000 when absent.
    public var sctpPort: UInt16
    /// `a=max-message-size` (RFC 8841 §6): the largest message the side can receive; 65,536 when
    /// absent; 0 means "no limit" (then take the local sending limit).
    public var maxMessageSize: Int

    /// The default of RFC 8841 §6.1 when `a=max-message-size` is absent.
    public static let defaultMaxMessageSize = 65_536

    public init(mid: String?, mLineIndex: Int, port: UInt16, sctpPort: UInt16, maxMessageSize: Int) {
        self.mid = mid
        self.mLineIndex = mLineIndex
        self.port = port
        self.sctpPort = sctpPort
        self.maxMessageSize = maxMessageSize
    }

    /// The first `m=application` section whose protocol is `UDP/DTLS/SCTP` (or the legacy
    /// `DTLS/SCTP`) with format `webrtc-datachannel`; `nil` when the SDP has none.
    ///
    /// - Throws: ``SdpError`` ``SdpError/Code/invalidValue`` with field `a=sctp-port` or
    ///   `a=max-message-size` and its ``SdpError/line`` for a value that is not a number in range;
    ///   ``SdpError/Code/malformed`` with field `sdp` for a text over `IceDescription.maximumLength`.
    public init?(parsing sdp: String) throws(SdpError) {
        guard sdp.utf8.count <= IceDescription.maximumLength else {
            throw SdpError(.malformed, field: "sdp", reason: "longer than \(IceDescription.maximumLength) bytes")
        }
        var index = -1
        var found: DataChannelDescription?
        var inSection = false
        var lineNumber = 0
        for line in sdp.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.hasPrefix("m=") {
                if found != nil && inSection { break }
                index += 1
                let fields = line.dropFirst(2).split(separator: " ")
                inSection =
                    fields.count >= 4 && fields[0] == "application"
                    && (fields[2] == "UDP/DTLS/SCTP" || fields[2] == "DTLS/SCTP" || fields[2] == "TCP/DTLS/SCTP")
                    && fields[3...].contains("webrtc-datachannel")
                if inSection {
                    let port = UInt16(fields[1].prefix { $0 != "/" }) ?? 0
                    found = DataChannelDescription(mid: nil, mLineIndex: index, port: port, sctpPort: 5000, maxMessageSize: Self.defaultMaxMessageSize)
                }
                continue
            }
            guard inSection, line.hasPrefix("a=") else { continue }
            let attribute = line.dropFirst(2)
            let name = attribute.prefix { $0 != ":" }
            let value = attribute.dropFirst(name.count + 1).trimmingPrefix(" ")
            switch name {
            case "mid":
                found?.mid = String(value)
            case "sctp-port":
                guard let port = UInt16(value), port > 0 else {
                    throw SdpError(.invalidValue, field: "a=sctp-port", line: lineNumber, reason: "'\(value.prefix(16))' is not a port 1-65535")
                }
                found?.sctpPort = port
            case "max-message-size":
                guard value.utf8.count <= 10, let size = Int(value), size >= 0, size <= Int(UInt32.max) else {
                    throw SdpError(
                        .invalidValue, field: "a=max-message-size", line: lineNumber,
                        reason: "'\(value.prefix(16))' is not a size 0-\(UInt32.max)")
                }
                found?.maxMessageSize = size
            default:
                continue
            }
        }
        guard let found else { return nil }
        self = found
    }

    /// The `m=` line and attributes of our data section for an offer or answer (after it: ICE and
    /// DTLS lines, which ``IceDescription/attributeLines(ufrag:password:options:candidates:endOfCandidates:iceLite:)``
    /// and ``DtlsDescription/attributeLines(_:)`` write).
    public static func sectionLines(mid: String, sctpPort: UInt16 = 5000, maxMessageSize: Int) -> String {
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" + "c=IN IP4 0.0.0.0\r\n" + "a=mid:\(mid)\r\n"
            + "a=sctp-port:\(sctpPort)\r\n" + "a=max-message-size:\(maxMessageSize)\r\n"
    }
}
