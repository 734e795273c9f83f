/// An RTCP source description (SDES, PT 202; RFC 3550 §6.5): chunks of items per source.
public struct RtcpSourceDescription: Sendable, Hashable {
    /// An SDES item type (RFC 3550 §6.5; 0 ends a chunk's list and is not an item).
    public struct ItemType: RawRepresentable, Sendable, Hashable {
        /// The type octet.
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// CNAME: the canonical end-point identifier (RFC 3550 §6.5.1).
        public static let cname = ItemType(rawValue: 1)
        /// NAME: a user name.
        public static let name = ItemType(rawValue: 2)
        /// EMAIL.
        public static let email = ItemType(rawValue: 3)
        /// PHONE.
        public static let phone = ItemType(rawValue: 4)
        /// LOC: a geographic location.
        public static let location = ItemType(rawValue: 5)
        /// TOOL: the application or tool name.
        public static let tool = ItemType(rawValue: 6)
        /// NOTE: a transient message.
        public static let note = ItemType(rawValue: 7)
        /// PRIV: private extensions.
        public static let privateExtension = ItemType(rawValue: 8)
    }

    /// One item: its type and up to 255 bytes of (UTF-8) text, kept as bytes.
    public struct Item: Sendable, Hashable {
        /// The item type.
        public var type: ItemType
        /// The item's bytes (at most 255 on the wire).
        public var value: [UInt8]

        /// An item from bytes.
        public init(type: ItemType, value: [UInt8]) {
            self.type = type
            self.value = value
        }

        /// An item from text (UTF-8).
        public init(type: ItemType, text: String) { self.init(type: type, value: Array(text.utf8)) }

        /// The value as text (invalid UTF-8 repaired).
        public var text: String { String(decoding: value, as: UTF8.self) }
    }

    /// The items of one source.
    public struct Chunk: Sendable, Hashable {
        /// The SSRC or CSRC described.
        public var source: UInt32
        /// Its items, in wire order.
        public var items: [Item]

        /// A chunk for `source`.
        public init(source: UInt32, items: [Item]) {
            self.source = source
            self.items = items
        }

        /// The first CNAME item's text.
        public var cname: String? { items.first { $0.type == .cname }?.text }
    }

    /// At most 31 chunks.
    public var chunks: [Chunk]

    /// An SDES from its chunks.
    public init(chunks: [Chunk]) { self.chunks = chunks }

    /// One chunk with one CNAME item: what every compound packet we send carries.
    public init(source: UInt32, cname: String) {
        self.init(chunks: [Chunk(source: source, items: [Item(type: .cname, text: cname)])])
    }

    init(count: UInt8, body r: inout RtpWireReader) throws(RtpError) {
        let bodyStart = r.offset
        chunks = []
        for _ in 0..<count {
            let source = try r.u32("SDES chunk")
            var items: [Item] = []
            while true {
                let type = try r.u8("SDES item")
                if type == 0 { break }
                let length = Int(try r.u8("SDES item"))
                items.append(Item(type: ItemType(rawValue: type), value: try r.take(length, "SDES item")))
            }
            // Null octets up to the next 32-bit boundary.
            try r.skip((4 - (r.offset - bodyStart) % 4) % 4, "SDES chunk padding")
            chunks.append(Chunk(source: source, items: items))
        }
    }

    /// The wire form.
    public func serialized() throws(RtpError) -> [UInt8] {
        let count = try RtcpFraming.count(chunks.count, "SDES chunk count")
        var w = RtpWireWriter()
        for chunk in chunks {
            w.u32(chunk.source)
            for item in chunk.items {
                guard item.type.rawValue != 0 else { throw RtpError(.invalidValue, field: "SDES item", reason: "type 0 ends a chunk") }
                guard item.value.count <= 255 else {
                    throw RtpError(.tooLarge, field: "SDES item", reason: "\(item.value.count) bytes, at most 255")
                }
                w.u8(item.type.rawValue)
                w.u8(UInt8(item.value.count))
                w.append(item.value)
            }
            w.u8(0)
            w.alignWithZeros()
        }
        return try RtcpFraming.frame(count: count, type: RtcpPacket.PacketType.sourceDescription, body: w.bytes, field: "SDES chunk count")
    }
}
