// Protocol output (WebRTC-JSONL): one JSON object per line on stdout, written with write(2) at
// once (no stdio buffering), serialised by a lock so lines from different threads never interleave.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A JSON value small enough for WebRTC-JSONL messages.
package enum JSONValue: Sendable {
    case string(String)
    case int(Int)
}

/// Writes protocol lines to stdout. Nothing else in the program writes to stdout.
package final class ProtocolOutput: Sendable {
    private let lock = Mutex<Void>(())

    package init() {}

    /// Writes `{"t":type, …fields}` and a newline. Key order is kept: `t` first.
    package func send(_ type: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) {
        send(type, fields.map { ($0.key, $0.value) })
    }

    /// Writes `{"t":type, …fields}` and a newline, the fields in the array's order.
    package func send(_ type: String, _ fields: [(String, JSONValue)]) {
        var line = "{\"t\":" + Self.quote(type)
        for (key, value) in fields {
            line += "," + Self.quote(key) + ":"
            switch value {
            case .string(let s): line += Self.quote(s)
            case .int(let n): line += String(n)
            }
        }
        line += "}\n"
        lock.withLock { _ in
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let n = write(1, base + offset, buffer.count - offset)
                    if n > 0 {
                        offset += n
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // stdout gone (bridge exited): nothing useful to do
                    }
                }
            }
        }
    }

    /// A JSON string literal (RFC 8259 escaping).
    package static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
