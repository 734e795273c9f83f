/// Maps remote SSRCs to the `mid` of the transceiver that receives them (RFC 8843 §9.2: the
/// `mid` header extension, and `a=ssrc` lines), bounded: at most ``capacity`` entries, so an
/// SSRC flood never grows memory. An SSRC that cannot be routed (no mid known, or the table
/// full) is dropped and counted.
public struct RtpSsrcTable: Sendable {
    /// Longest mid accepted, in UTF-8 bytes (RFC 8285's two-byte form carries 255).
    public static let maxMidBytes = 255

    /// Where an entry came from.
    public enum Source: Sendable, Hashable {
        /// An `a=ssrc` line of the remote description.
        case signaled
        /// A packet's `mid` header extension.
        case headerExtension
    }

    /// One route.
    public struct Route: Sendable, Hashable {
        /// The transceiver's mid.
        public var mid: String
        /// How it was learnt.
        public var source: Source
    }

    /// What happened so far.
    public struct Counters: Sendable, Hashable {
        /// Packets of an SSRC with no route and no usable mid.
        public var droppedUnknown: UInt64 = 0
        /// Routes not learnt because the table was full.
        public var droppedOverCapacity: UInt64 = 0
        /// Mids rejected (empty, too long, or not in the allowed set).
        public var rejectedMids: UInt64 = 0
    }

    /// The most entries held.
    public let capacity: Int
    /// Mids that may be learnt (the negotiated transceivers); nil allows any.
    public var allowedMids: Set<String>?
    /// What happened so far.
    public private(set) var counters = Counters()
    private var routes: [UInt32: Route] = [:]

    /// A table of at most `capacity` (1…4096, default 64) entries.
    public init(capacity: Int = 64, allowedMids: Set<String>? = nil) {
        self.capacity = min(max(capacity, 1), 4_096)
        self.allowedMids = allowedMids
        routes.reserveCapacity(self.capacity)
    }

    /// The number of entries.
    public var count: Int { routes.count }

    /// The route of `ssrc`, without learning.
    public func route(of ssrc: UInt32) -> Route? { routes[ssrc] }

    /// Learns `ssrc` → `mid` from an `a=ssrc` line (replacing what a header said). Returns false
    /// when the mid is rejected or the table is full.
    @discardableResult
    public mutating func learnSignaled(ssrc: UInt32, mid: String) -> Bool {
        insert(ssrc: ssrc, route: Route(mid: mid, source: .signaled))
    }

    /// The mid a packet from `ssrc` goes to: its `mid` header extension value (raw bytes, if
    /// present) routes it and is learnt (a signaled route wins over a header); otherwise the
    /// learnt route; nil (counted) when neither exists or the table is full.
    public mutating func routePacket(ssrc: UInt32, midExtension: [UInt8]?) -> String? {
        if let existing = routes[ssrc], existing.source == .signaled { return existing.mid }
        if let bytes = midExtension {
            guard let mid = Self.mid(bytes) else {
                counters.rejectedMids &+= 1
                return routes[ssrc]?.mid
            }
            if routes[ssrc]?.mid == mid { return mid }
            return insert(ssrc: ssrc, route: Route(mid: mid, source: .headerExtension)) ? mid : nil
        }
        if let existing = routes[ssrc] { return existing.mid }
        counters.droppedUnknown &+= 1
        return nil
    }

    /// Forgets `ssrc` (an RTCP BYE, or the transceiver stopped).
    public mutating func remove(ssrc: UInt32) {
        routes[ssrc] = nil
    }

    /// Forgets every SSRC routed to `mid`.
    public mutating func remove(mid: String) {
        routes = routes.filter { $0.value.mid != mid }
    }

    private mutating func insert(ssrc: UInt32, route: Route) -> Bool {
        guard !route.mid.isEmpty, route.mid.utf8.count <= Self.maxMidBytes, allowedMids?.contains(route.mid) ?? true else {
            counters.rejectedMids &+= 1
            return false
        }
        guard routes[ssrc] != nil || routes.count < capacity else {
            counters.droppedOverCapacity &+= 1
            return false
        }
        routes[ssrc] = route
        return true
    }

    private static func mid(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty, bytes.count <= maxMidBytes else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
