// The JSON messages of docs/echo-signalling.md: what the page sends (ClientMessage, Decodable) and
// what the server sends (ServerMessage, Encodable). Decoding failures become SignallingError values,
// which the session sends back as `error` messages.
import Foundation

/// A message the page sends over `/signal` (docs/echo-signalling.md, "Client → server").
enum ClientMessage: Sendable, Equatable {
    /// The page's offer (`pc.localDescription.sdp`); a later one renegotiates or restarts ICE.
    case offer(sdp: String)
    /// One trickled candidate, W3C `RTCIceCandidate` fields (`usernameFragment` optional). An
    /// empty `candidate` is the W3C way of saying end-of-candidates and is read as ``endOfCandidates``.
    case candidate(candidate: String, sdpMid: String?, sdpMLineIndex: Int?, usernameFragment: String?)
    /// The page finished gathering.
    case endOfCandidates
    /// The page closes the session.
    case bye

    /// Reads one text frame.
    ///
    /// - Throws: ``SignallingError`` naming the field at fault: `json` for text that is not a JSON
    ///   object, `type` for a missing or unknown type, `sdp`, `candidate`, `sdpMid`,
    ///   `sdpMLineIndex` for a missing value or one of the wrong JSON type.
    init(json text: String) throws(SignallingError) {
        do {
            self = try JSONDecoder().decode(Wire.self, from: Data(text.utf8)).message
        } catch let error as SignallingError {
            throw error
        } catch let error as DecodingError {
            throw SignallingError(decoding: error)
        } catch {
            throw SignallingError(field: "json", reason: "not a JSON object")
        }
    }

    /// The Decodable shape on the wire: `{"type": …, …}`.
    private struct Wire: Decodable {
        var message: ClientMessage

        enum Keys: String, CodingKey {
            case type, sdp, candidate, sdpMid, sdpMLineIndex, usernameFragment
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            let type = try c.decode(String.self, forKey: .type)
            switch type {
            case "offer":
                message = .offer(sdp: try c.decode(String.self, forKey: .sdp))
            case "candidate":
                let line = try c.decode(String.self, forKey: .candidate)
                let mid = try c.decodeIfPresent(String.self, forKey: .sdpMid)
                let index = try c.decodeIfPresent(Int.self, forKey: .sdpMLineIndex)
                let ufrag = try c.decodeIfPresent(String.self, forKey: .usernameFragment)
                message = line.isEmpty ? .endOfCandidates : .candidate(candidate: line, sdpMid: mid, sdpMLineIndex: index, usernameFragment: ufrag)
            case "end-of-candidates":
                message = .endOfCandidates
            case "bye":
                message = .bye
            default:
                throw SignallingError(field: "type", reason: "unknown message type '\(SignallingError.excerpt(type))'")
            }
        }
    }
}

/// A message the server sends (docs/echo-signalling.md, "Server → client").
enum ServerMessage: Sendable, Equatable {
    /// The answer to the last offer.
    case answer(sdp: String)
    /// One of our candidates, with the data section's mid and m-line index and our ufrag.
    case candidate(candidate: String, sdpMid: String?, sdpMLineIndex: Int?, usernameFragment: String?)
    /// We finished gathering (again after an ICE restart).
    case endOfCandidates
    /// A state change of one layer of our stack.
    case state(StateReport)
    /// The selected candidate pair.
    case pair(PairReport)
    /// A message we could not use; the session goes on.
    case error(SignallingError)
    /// We end the session; the WebSocket closes next.
    case bye(reason: String)

    /// The message as one JSON text frame.
    var json: String {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return String(decoding: try encoder.encode(Wire(message: self)), as: UTF8.self)
        } catch {
            // Strings and integers always encode; this is only the type checker's due.
            return #"{"type":"error","field":"server","reason":"could not encode a message"}"#
        }
    }

    private struct Wire: Encodable {
        var message: ServerMessage

        enum Keys: String, CodingKey {
            case type, sdp, candidate, sdpMid, sdpMLineIndex, usernameFragment, layer, state, reason, label, id, t
            case local, remote, localAddress, remoteAddress, field
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            switch message {
            case .answer(let sdp):
                try c.encode("answer", forKey: .type)
                try c.encode(sdp, forKey: .sdp)
            case .candidate(let line, let mid, let index, let ufrag):
                try c.encode("candidate", forKey: .type)
                try c.encode(line, forKey: .candidate)
                try c.encodeIfPresent(mid, forKey: .sdpMid)
                try c.encodeIfPresent(index, forKey: .sdpMLineIndex)
                try c.encodeIfPresent(ufrag, forKey: .usernameFragment)
            case .endOfCandidates:
                try c.encode("end-of-candidates", forKey: .type)
            case .state(let s):
                try c.encode("state", forKey: .type)
                try c.encode(s.layer.rawValue, forKey: .layer)
                try c.encode(s.state, forKey: .state)
                try c.encodeIfPresent(s.reason, forKey: .reason)
                try c.encodeIfPresent(s.label, forKey: .label)
                try c.encodeIfPresent(s.id, forKey: .id)
                try c.encode(s.t, forKey: .t)
            case .pair(let p):
                try c.encode("pair", forKey: .type)
                try c.encode(p.local, forKey: .local)
                try c.encode(p.remote, forKey: .remote)
                try c.encode(p.localAddress, forKey: .localAddress)
                try c.encode(p.remoteAddress, forKey: .remoteAddress)
                try c.encode(p.t, forKey: .t)
            case .error(let e):
                try c.encode("error", forKey: .type)
                try c.encode(e.field, forKey: .field)
                try c.encode(e.reason, forKey: .reason)
            case .bye(let reason):
                try c.encode("bye", forKey: .type)
                try c.encode(reason, forKey: .reason)
            }
        }
    }
}

/// The layers a `state` message reports.
enum Layer: String, Sendable {
    case ice, connection, dtls, sctp, channel
}

/// The body of a `state` message.
struct StateReport: Sendable, Equatable {
    var layer: Layer
    var state: String
    var reason: String?
    /// For `channel`: the channel's label and SCTP stream id.
    var label: String?
    var id: Int?
    /// Milliseconds since the session started.
    var t: Int
}

/// The body of a `pair` message.
struct PairReport: Sendable, Equatable {
    /// Candidate types: host, srflx, prflx, relay.
    var local: String
    var remote: String
    /// `ip:port` (`[ip]:port` for IPv6).
    var localAddress: String
    var remoteAddress: String
    var t: Int
}

/// Why a message from the page could not be used: the body of an `error` message.
struct SignallingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON or SDP field at fault (`json`, `type`, `sdp`, `a=fingerprint`, `port`, `rate`, …).
    var field: String
    var reason: String

    init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// Maps a JSONDecoder failure to the field it concerns.
    init(decoding error: DecodingError) {
        switch error {
        case .keyNotFound(let key, _):
            self.init(field: key.stringValue, reason: "missing")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = context.codingPath.last?.stringValue ?? "json"
            self.init(field: field, reason: context.codingPath.isEmpty ? "not a JSON object" : "must be \(Self.name(of: type))")
        case .dataCorrupted(let context):
            self.init(field: context.codingPath.last?.stringValue ?? "json", reason: "not valid JSON")
        @unknown default:
            self.init(field: "json", reason: "not a valid message")
        }
    }

    var description: String { "\(field): \(reason)" }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        default: "of another JSON type"
        }
    }

    /// At most 64 printable characters of untrusted text, for reasons and logs.
    static func excerpt(_ text: String) -> String {
        let printable = text.unicodeScalars.prefix(64).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
        return text.unicodeScalars.count > 64 ? printable + "…" : printable
    }
}
