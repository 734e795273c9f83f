/// An RTP header extension block (RFC 3550 §5.3.1) with RFC 8285's one-byte (profile `0xBEDE`)
/// and two-byte (profile `0x100X`) element forms.
///
/// The block keeps its bytes exactly as read (padding between elements included), so a parsed
/// packet writes back byte for byte; ``elements``, ``value(id:)`` read them, ``set(id:value:)``
/// and ``remove(id:)`` rewrite the block in canonical form (elements in order, zero-padded to
/// 32 bits). Blocks of other profiles are kept as opaque bytes.
public struct RtpHeaderExtension: Sendable, Hashable {
    /// RFC 8285 §4.2: the one-byte header form.
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// RFC 8285 §4.3: the two-byte header form (the low 4 bits are "appbits").
    public static let twoByteProfile: UInt16 = 0x1000
    /// The largest block body: the length field counts 32-bit words in 16 bits.
    public static let maximumDataCount = Int(UInt16.max) * 4

    /// How the elements of a block are laid out.
    public enum Form: Sendable, Hashable {
        case oneByte
        case twoByte
        /// Another profile: the data is opaque.
        case other
    }

    /// One RFC 8285 element: a local identifier and its value.
    public struct Element: Sendable, Hashable {
        /// 1–14 in the one-byte form, 1–255 in the two-byte form.
        public var id: UInt8
        /// 1–16 bytes in the one-byte form, 0–255 in the two-byte form.
        public var value: [UInt8]

        /// An element `id` with `value`.
        public init(id: UInt8, value: [UInt8]) {
            self.id = id
            self.value = value
        }
    }

    /// The 16-bit "defined by profile" field.
    public private(set) var profile: UInt16
    /// The block body after the 4-byte header: a multiple of 4 bytes.
    public private(set) var data: [UInt8]

    /// A block from its profile and body, checked: the body is a multiple of 4 bytes and, for
    /// the one- and two-byte forms, its elements are well formed.
    public init(profile: UInt16, data: [UInt8]) throws(RtpError) {
        guard data.count % 4 == 0 else {
            throw RtpError(.badLength, field: "header extension", reason: "\(data.count) bytes is not a multiple of 4")
        }
        guard data.count <= Self.maximumDataCount else {
            throw RtpError(.tooLarge, field: "header extension", reason: "\(data.count) bytes do not fit the length field")
        }
        self.profile = profile
        self.data = data
        try Self.walk(Self.form(of: profile), data) { _, _ in true }
    }

    /// A one-byte form block (ids 1–14, values of 1–16 bytes, each id once).
    public init(oneByte elements: [Element]) throws(RtpError) {
        self.profile = Self.oneByteProfile
        self.data = try Self.encode(elements, form: .oneByte)
    }

    /// A two-byte form block (ids 1–255, values of 0–255 bytes, each id once).
    public init(twoByte elements: [Element], appBits: UInt8 = 0) throws(RtpError) {
        guard appBits < 16 else { throw RtpError(.invalidValue, field: "header extension appbits", reason: "\(appBits) is wider than 4 bits") }
        self.profile = Self.twoByteProfile | UInt16(appBits)
        self.data = try Self.encode(elements, form: .twoByte)
    }

    /// The element layout of this block's profile.
    public var form: Form { Self.form(of: profile) }

    /// The elements in wire order (padding skipped; none for ``Form/other``).
    public var elements: [Element] {
        var out: [Element] = []
        try? Self.walk(form, data) { id, range in
            out.append(Element(id: id, value: Array(data[range])))
            return true
        }
        return out
    }

    /// The value of the first element with `id`, if any.
    public func value(id: UInt8) -> [UInt8]? {
        var found: [UInt8]?
        try? Self.walk(form, data) { elementId, range in
            guard elementId == id else { return true }
            found = Array(data[range])
            return false
        }
        return found
    }

    /// Sets (replaces or appends) the element `id`; throws if it does not fit this block's form
    /// (the one-byte form takes ids 1–14 and 1–16 bytes) or the block is of another profile.
    public mutating func set(id: UInt8, value: [UInt8]) throws(RtpError) {
        var list = elements
        if let index = list.firstIndex(where: { $0.id == id }) {
            list[index].value = value
        } else {
            list.append(Element(id: id, value: value))
        }
        try rewrite(list)
    }

    /// Removes the element `id` (the block may become empty).
    public mutating func remove(id: UInt8) {
        let list = elements.filter { $0.id != id }
        try? rewrite(list)
    }

    private mutating func rewrite(_ list: [Element]) throws(RtpError) {
        let form = self.form
        guard form != .other else {
            throw RtpError(.invalidValue, field: "header extension", reason: "profile 0x\(String(profile, radix: 16)) has no RFC 8285 elements")
        }
        data = try Self.encode(list, form: form)
    }

    static func form(of profile: UInt16) -> Form {
        if profile == oneByteProfile { return .oneByte }
        if profile & 0xFFF0 == twoByteProfile { return .twoByte }
        return .other
    }

    /// Walks the elements of `data` (RFC 8285 §4.2, §4.3): zero bytes are padding, a one-byte
    /// id of 15 ends the walk; `body` returns false to stop. Throws on a malformed element.
    static func walk(_ form: Form, _ data: [UInt8], _ body: (UInt8, Range<Int>) -> Bool) throws(RtpError) {
        var i = 0
        switch form {
        case .other:
            return
        case .oneByte:
            while i < data.count {
                let b = data[i]
                if b == 0 {
                    i += 1
                    continue
                }
                let id = b >> 4, length = Int(b & 0x0F) + 1
                if id == 15 { return }
                guard id != 0 else {
                    throw RtpError(.invalidValue, field: "header extension element", reason: "one-byte id 0 with a length is not padding")
                }
                guard i + 1 + length <= data.count else {
                    throw RtpError(.truncated, field: "header extension element", reason: "id \(id) needs \(length) bytes, \(data.count - i - 1) left")
                }
                guard body(id, i + 1..<i + 1 + length) else { return }
                i += 1 + length
            }
        case .twoByte:
            while i < data.count {
                let id = data[i]
                if id == 0 {
                    i += 1
                    continue
                }
                guard i + 2 <= data.count else {
                    throw RtpError(.truncated, field: "header extension element", reason: "id \(id) has no length byte")
                }
                let length = Int(data[i + 1])
                guard i + 2 + length <= data.count else {
                    throw RtpError(.truncated, field: "header extension element", reason: "id \(id) needs \(length) bytes, \(data.count - i - 2) left")
                }
                guard body(id, i + 2..<i + 2 + length) else { return }
                i += 2 + length
            }
        }
    }

    static func encode(_ elements: [Element], form: Form) throws(RtpError) -> [UInt8] {
        var out: [UInt8] = []
        var seen = Set<UInt8>()
        for element in elements {
            guard seen.insert(element.id).inserted else {
                throw RtpError(.invalidValue, field: "header extension id", reason: "id \(element.id) appears twice")
            }
            switch form {
            case .oneByte:
                guard (1...14).contains(element.id) else {
                    throw RtpError(.invalidValue, field: "header extension id", reason: "one-byte form takes ids 1-14, not \(element.id)")
                }
                guard (1...16).contains(element.value.count) else {
                    throw RtpError(.invalidValue, field: "header extension length", reason: "one-byte form takes 1-16 bytes, not \(element.value.count)")
                }
                out.append(element.id << 4 | UInt8(element.value.count - 1))
            case .twoByte:
                guard element.id != 0 else {
                    throw RtpError(.invalidValue, field: "header extension id", reason: "id 0 is padding")
                }
                guard element.value.count <= 255 else {
                    throw RtpError(.invalidValue, field: "header extension length", reason: "two-byte form takes 0-255 bytes, not \(element.value.count)")
                }
                out.append(element.id)
                out.append(UInt8(element.value.count))
            case .other:
                throw RtpError(.invalidValue, field: "header extension", reason: "no RFC 8285 form")
            }
            out.append(contentsOf: element.value)
        }
        while out.count % 4 != 0 { out.append(0) }
        guard out.count <= maximumDataCount else {
            throw RtpError(.tooLarge, field: "header extension", reason: "\(out.count) bytes do not fit the length field")
        }
        return out
    }
}
