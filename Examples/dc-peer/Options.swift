// Command-line flags of a WebRTC-JSONL peer (the line protocol Interop/webrtc_bridge.py speaks),
// parsed by hand to keep the example free of extra dependencies.

/// The flags WebRTC-JSONL defines.
struct Options: Sendable {
    /// `--offer` (true) or `--answer` (false).
    var offerer = true
    var stun: String?
    var turn: String?
    var turnUser: String?
    var turnPass: String?
    var relayOnly = false
    var bind = "127.0.0.1"
    var name = "dc-peer"
    var label = "data"
    var count = 1
    var size = 64
    var text = false
    var unordered = false
    var maxRetransmits: UInt16?
    /// `--restart-after N` (not in WebRTC-JSONL): restart ICE once N messages arrived.
    var restartAfter: Int?

    /// The largest `--size` the protocol allows.
    static let maximumSize = 65_536

    static let usage = """
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

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `arguments` (without the program name).
    init(parsing arguments: [String]) throws(UsageError) {
        var role: Bool?
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> String {
            guard let v = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            return v
        }
        func number(_ flag: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int {
            let text = try value(flag)
            guard let n = Int(text), range.contains(n) else {
                throw UsageError(description: "\(flag) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            }
            return n
        }
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
            default: throw UsageError(description: "unknown argument '\(flag)'")
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
}
