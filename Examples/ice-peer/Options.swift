// Command-line flags of an ICE-JSONL peer (the line protocol Interop/bridge.py speaks), parsed by
// hand to keep the example free of extra dependencies.

/// The flags ICE-JSONL defines.
struct Options: Sendable {
    var controlling = true
    var stun: String?
    var turn: String?
    var turnUser: String?
    var turnPass: String?
    var relayOnly = false
    /// NiceICE extension to ICE-JSONL: run as an ICE-lite agent (needs --controlled).
    var lite = false
    var name = "ice-peer"
    var count = 1
    var size = 64
    var bind = "127.0.0.1"
    /// NiceICE extension to ICE-JSONL: judge received datagrams by this repository's byte pattern
    /// (`Payload`) and leave those that break it out of `got`. Only for runs where both sides send
    /// that pattern; without it every datagram counts, whatever it holds.
    var checkPattern = false
    /// DTLS-over-ICE-JSONL (docs/dtls-jsonl.md): carry the datagrams over DTLS 1.2 in this role.
    var dtls = false
    /// "client" or "server", with --dtls.
    var dtlsRole: String?
    /// DTLS-over-ICE-JSONL: signal a random fingerprint instead of ours (to test mismatches).
    var badFingerprint = false

    static let usage = """
        usage: ice-peer (--controlling | --controlled) [--stun HOST:PORT]
                        [--turn HOST:PORT --turn-user U --turn-pass P] [--relay-only] [--lite]
                        [--name NAME] [--count N] [--size BYTES] [--bind ADDR] [--check-pattern]
                        [--dtls --dtls-role client|server [--bad-fingerprint]]

        Speaks ICE-JSONL: protocol lines on stdout, the remote peer's lines on stdin, logs on stderr.
        `got` counts every datagram received, whatever it holds. --check-pattern, for when the remote
        peer sends ice-peer's byte pattern (it is ice-peer, or Interop/aioice_peer.py), also checks each
        datagram against that pattern and leaves one that breaks it out of `got`, logged as corrupted.
        --dtls (docs/dtls-jsonl.md) runs DTLS 1.2 over the connection (NiceWebRTC) in the given role,
        writes a `dtls` line after `cred` and `dtls-state` lines, and sends and counts the datagrams over
        DTLS once it is connected; --bad-fingerprint signals a random fingerprint instead of ours.
        Environment: ICE_PEER_LOG_LEVEL=trace|debug|info|notice|warning|error (default info).
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
        while let flag = rest.popFirst() {
            switch flag {
            case "--controlling", "--controlled":
                let controlling = flag == "--controlling"
                if let role, role != controlling {
                    throw UsageError(description: "give exactly one of --controlling and --controlled")
                }
                role = controlling
            case "--stun": stun = try value(flag)
            case "--turn": turn = try value(flag)
            case "--turn-user": turnUser = try value(flag)
            case "--turn-pass": turnPass = try value(flag)
            case "--relay-only": relayOnly = true
            case "--lite": lite = true
            case "--name": name = try value(flag)
            case "--count": count = try number(flag, 0...10_000_000)
            case "--size": size = try number(flag, 1...65_000)
            case "--bind": bind = try value(flag)
            case "--check-pattern": checkPattern = true
            case "--dtls": dtls = true
            case "--dtls-role":
                let r = try value(flag)
                guard r == "client" || r == "server" else { throw UsageError(description: "--dtls-role is client or server, not '\(r)'") }
                dtlsRole = r
            case "--bad-fingerprint": badFingerprint = true
            case "-h", "--help": throw UsageError(description: Self.usage)
            default: throw UsageError(description: "unknown argument '\(flag)'")
            }
        }
        guard let role else { throw UsageError(description: "give exactly one of --controlling and --controlled") }
        controlling = role
        if turn != nil, turnUser == nil || turnPass == nil {
            throw UsageError(description: "--turn needs --turn-user and --turn-pass")
        }
        if turn == nil, turnUser != nil || turnPass != nil {
            throw UsageError(description: "--turn-user and --turn-pass need --turn")
        }
        if dtls, dtlsRole == nil { throw UsageError(description: "--dtls needs --dtls-role client|server") }
        if !dtls, dtlsRole != nil || badFingerprint { throw UsageError(description: "--dtls-role and --bad-fingerprint need --dtls") }
        if dtls, size > 1200 { throw UsageError(description: "with --dtls, --size is at most 1200") }
        if lite, controlling {
            throw UsageError(description: "--lite needs --controlled (an ICE-lite agent is always controlled)")
        }
        if relayOnly, turn == nil {
            throw UsageError(description: "--relay-only needs --turn")
        }
    }
}
