// The lines a WebRTC-JSONL peer reads on stdin: the other peer's sdp/cand/eoc, and the bridge's
// close. Anything else is logged and ignored; nothing here trusts its input.
import Foundation
import NiceWebRTC

enum RemoteMessage: Sendable {
    /// The other peer's description: `type` is "offer" or "answer".
    case sdp(type: String, sdp: String)
    /// One trickled candidate, as W3C's `addIceCandidate` takes it (no mid: the first media section).
    case candidate(IceCandidateInit)
    /// The other peer's end of candidates.
    case endOfCandidates
    /// The bridge asks us to close.
    case close

    /// Why a line is not a message we act on.
    struct Ignored: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads one stdin line; nil for a blank one.
    init?(line: String) throws(Ignored) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
            let type = object["t"] as? String
        else {
            throw Ignored(description: "not a JSON object with a \"t\" string: \(trimmed.prefix(200))")
        }
        switch type {
        case "sdp":
            guard let kind = object["type"] as? String, let sdp = object["sdp"] as? String else {
                throw Ignored(description: "sdp without \"type\" and \"sdp\" strings")
            }
            self = .sdp(type: kind, sdp: sdp)
        case "cand":
            guard var text = object["c"] as? String else { throw Ignored(description: "cand without a \"c\" string") }
            if text.hasPrefix("a=") { text.removeFirst(2) }
            if !text.hasPrefix("candidate:") { text = "candidate:" + text }
            // A mid may come as a string or (from loose peers) a number; without one, the first
            // media section (WebRTC-JSONL).
            let mid = (object["mid"] as? String) ?? (object["mid"] as? NSNumber).map { "\($0)" }
            self = .candidate(IceCandidateInit(candidate: text, sdpMid: mid, sdpMLineIndex: mid == nil ? 0 : nil))
        case "eoc":
            self = .endOfCandidates
        case "close":
            self = .close
        default:
            throw Ignored(description: "message of unknown type '\(type)'")
        }
    }
}
