// Command-line flags of a WebRTC-JSONL peer (the line protocol Interop/webrtc_bridge.py speaks),
// parsed by hand to keep the examples free of extra dependencies. dc-peer uses them as they are;
// media-peer adds its own through `extra` (docs/media-jsonl.md).

/// The flags WebRTC-JSONL defines.
package struct Options: Sendable {
    /// `--offer` (true) or `--answer` (false).
    package var offerer = true
    package var stun: String?
    package var turn: String?
    package var turnUser: String?
    package var turnPass: String?
    package var relayOnly = false
    package var bind = "127.0.0.1"
    package var name = "dc-peer"
    package var label = "data"
    package var count = 1
    package var size = 64
    package var text = false
    package var unordered = false
    package var maxRetransmits: UInt16?
    /// `--restart-after N` (not in WebRTC-JSONL): restart ICE once N messages arrived.
    package var restartAfter: Int?
    /// Whether the offerer creates a data channel (media-peer's `--no-data` clears it).
    package var dataChannel = true

    /// The largest `--size` the protocol allows.
    package static let maximumSize = 65_536

    package static let usage = """
        usage: dc-peer (--offer | --answer) [--stun HOST:PORT]
                       [--turn HOST:PORT --turn-user U --turn-pass P] [--relay-only]
                       [--bind ADDR] [--name NAME] [--label TEXT] [--count N] [--size BYTES]
                       [--text] [--unordered] [--max-retransmits N] [--restart-after N]

        Speaks WebRTC-JSONL (docs/webrtc-jsonl.md): one data channel on a NiceWebRTC PeerConnection
        (ICE, DTLS, SCTP). Protocol lines on stdout, the remote peer's lines on stdin, logs on stderr.
        The offerer creates the channel (label --label, default "data"; ordered and reliable unless
        --unordered / --max-retransmits N); once it is open each side sends --count (default 1)
        messages of --size (default 64, at most 65,536) bytes, binary, or ASCII strings with --text.
        `got` counts every message received, whatever it holds. {"t":"close"} or EOF closes.
        --bind (default 127.0.0.1) is the only address gathered on. A later offer from the peer (an
        ICE restart) is answered with a new sdp line and a new round of cand lines and eoc.
        --restart-after N (an extension, not in WebRTC-JSONL, so a plain bridge rejects the run):
        once N messages arrived, restart ICE from this side: a new sdp offer, cand lines, eoc.
        Environment: DC_PEER_LOG_LEVEL=trace|debug|info|notice|warning|error (default info).
        """

    package struct UsageError: Error, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// Parses `arguments` (without the program name). A flag WebRTC-JSONL does not define goes
    /// to `extra` with the arguments after it (it takes its values from the front); `extra`
    /// returns false for a flag it does not know either.
    package init(
        parsing arguments: [String], name defaultName: String = "dc-peer",
        extra: (String, inout ArraySlice<String>) throws(UsageError) -> Bool = { _, _ in false }
    ) throws(UsageError) {
        name = defaultName
        var role: Bool?
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> String { try Self.value(flag, &rest) }
        func number(_ flag: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int { try Self.number(flag, range, &rest) }
        func hostPort(_ flag: String) throws(UsageError) -> String {
            let text = try value(flag)
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
                let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port)
            else { throw UsageError(description: "\(flag) needs HOST:PORT, not '\(text)'") }
            return text
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--offer", "--answer":
                let offer = flag == "--offer"
                if let role, role != offer { throw UsageError(description: "give exactly one of --offer and --answer") }
                role = offer
            case "--stun": stun = try hostPort(flag)
            case "--turn": turn = try hostPort(flag)
            case "--turn-user": turnUser = try value(flag)
            case "--turn-pass": turnPass = try value(flag)
            case "--relay-only": relayOnly = true
            case "--bind": bind = try value(flag)
            case "--name": name = try value(flag)
            case "--label": label = try value(flag)
            case "--count": count = try number(flag, 0...100_000_000)
            case "--size": size = try number(flag, 0...Self.maximumSize)
            case "--text": text = true
            case "--unordered": unordered = true
            case "--max-retransmits": maxRetransmits = UInt16(try number(flag, 0...Int(UInt16.max)))
            case "--restart-after": restartAfter = try number(flag, 1...100_000_000)
            case "-h", "--help": throw UsageError(description: Self.usage)
            default:
                guard try extra(flag, &rest) else { throw UsageError(description: "unknown argument '\(flag)'") }
            }
        }
        guard let role else { throw UsageError(description: "give exactly one of --offer and --answer") }
        offerer = role
        if turn != nil, turnUser == nil || turnPass == nil {
            throw UsageError(description: "--turn needs --turn-user and --turn-pass")
        }
        if turn == nil, turnUser != nil || turnPass != nil {
            throw UsageError(description: "--turn-user and --turn-pass need --turn")
        }
        if relayOnly, turn == nil { throw UsageError(description: "--relay-only needs --turn") }
        if label.utf8.count > 65_535 { throw UsageError(description: "--label is at most 65,535 bytes") }
        if bind.isEmpty { throw UsageError(description: "--bind needs an address") }
    }

    /// The value after `flag`, taken from the front of `rest`.
    package static func value(_ flag: String, _ rest: inout ArraySlice<String>) throws(UsageError) -> String {
        guard let v = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
        return v
    }

    /// The integer after `flag`, which must be in `range`.
    package static func number(_ flag: String, _ range: ClosedRange<Int>, _ rest: inout ArraySlice<String>) throws(UsageError) -> Int {
        let text = try value(flag, &rest)
        guard let n = Int(text), range.contains(n) else {
            throw UsageError(description: "\(flag) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
        }
        return n
    }
}
