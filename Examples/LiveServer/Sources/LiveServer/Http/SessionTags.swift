// The HTTP side's per-session state: the resource's current ETag and the client's ICE ufrag.
import Synchronization

/// Each session resource's entity tag (RFC 9725 §4.4.1: it changes with every ICE restart) and
/// the client's current ufrag (a PATCH whose ufrag differs is an ICE restart). Thread-safe.
///
/// Bounded: an entry is removed on DELETE and when the media side no longer knows the session;
/// when the table reaches ``capacity``, entries of sessions the host has ended (a publisher that
/// went away, a viewer that timed out) are swept before inserting.
final class SessionTags: Sendable {
    struct Entry: Sendable, Equatable {
        /// The quoted ETag, as sent: `"…"`.
        var etag: String
        /// The client's ufrag from its offer or its last ICE restart.
        var clientUfrag: String?
    }

    let capacity: Int
    private let entries: Mutex<[LiveSessionID: Entry]>

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        entries = Mutex([:])
    }

    /// Records a new session; returns its ETag. `isAlive` decides which entries a sweep keeps.
    func insert(_ session: LiveSessionID, clientUfrag: String?, isAlive: (LiveSessionID) -> Bool) -> String {
        let etag = Self.newTag()
        entries.withLock { table in
            if table.count >= capacity {
                table = table.filter { isAlive($0.key) }
            }
            table[session] = Entry(etag: etag, clientUfrag: clientUfrag)
        }
        return etag
    }

    func entry(_ session: LiveSessionID) -> Entry? {
        entries.withLock { $0[session] }
    }

    /// After an ICE restart: a new ETag and the client's new ufrag.
    func restarted(_ session: LiveSessionID, clientUfrag: String?) -> String {
        let etag = Self.newTag()
        entries.withLock { $0[session] = Entry(etag: etag, clientUfrag: clientUfrag) }
        return etag
    }

    func remove(_ session: LiveSessionID) {
        _ = entries.withLock { $0.removeValue(forKey: session) }
    }

    var count: Int { entries.withLock { $0.count } }

    /// 128 random bits in hex, quoted.
    static func newTag() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = (generator.next() as UInt64, generator.next() as UInt64)
        return "\"" + String(bits.0, radix: 16).leftPadded(16) + String(bits.1, radix: 16).leftPadded(16) + "\""
    }

    /// Whether an `If-Match` value (`*`, or a list of entity tags, weak ones compared strongly
    /// as RFC 9110 §13.1.1 wants: they never match) matches `etag`.
    static func ifMatch(_ values: [String], matches etag: String) -> Bool {
        for value in values {
            for tag in value.split(separator: ",") {
                var trimmed = Substring(tag)
                while trimmed.first == " " || trimmed.first == "\t" { trimmed = trimmed.dropFirst() }
                while trimmed.last == " " || trimmed.last == "\t" { trimmed = trimmed.dropLast() }
                if trimmed == "*" || trimmed == etag { return true }
            }
        }
        return false
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
