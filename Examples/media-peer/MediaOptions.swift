// media-peer's flags on top of WebRTC-JSONL's (docs/media-jsonl.md).
import JsonlPeer
import NiceWebRTC

struct MediaOptions: Sendable {
    var sendVideo: String?
    var sendAudio: String?
    var receiveVideo = false
    var receiveAudio = false
    var noData = false
    /// Media time sent, in seconds (the files loop when shorter).
    var duration = 10.0
    /// Seconds after the first video frame arrived when the receiver asks for a keyframe.
    var pliAt: Double?
    /// Where the receiver writes video.ivf and audio.ogg.
    var record: String?

    static let usage = """
        usage: media-peer (--offer | --answer) [--send-video FILE.ivf] [--send-audio FILE.ogg]
                          [--receive-video] [--receive-audio] [--no-data] [--duration S]
                          [--pli-at S] [--record DIR] [WebRTC-JSONL flags: --bind ADDR --name NAME
                          --label TEXT --count N --size BYTES --text --stun/--turn ...]

        Speaks Media-JSONL (docs/media-jsonl.md), WebRTC-JSONL with audio and video: a NiceWebRTC
        PeerConnection sends VP8 from an IVF file and Opus from an Ogg file through LocalTrack,
        paced at the files' timing (looping until --duration S of media, default 10), and counts
        the peer's frames from RemoteTrack (`media` lines every second and at the end). The
        offerer adds a transceiver per kind it sends or receives; the answerer takes the offer's
        sections and sends on them. --no-data: no data channel (media only, as WHIP); otherwise
        the data channel of dc-peer (--count/--size). --pli-at S: S s after the first video
        frame the receiver asks for a keyframe and writes `pli` when one arrives; a sender asked
        for a keyframe goes on from the file's latest keyframe. --record DIR: the receiver writes
        DIR/video.ivf and DIR/audio.ogg. Logs: DC_PEER_LOG_LEVEL=trace|debug|info|... (stderr).
        """

    /// Takes one media flag (and its value from the front of `rest`); false for a flag it does
    /// not know.
    mutating func parse(_ flag: String, _ rest: inout ArraySlice<String>) throws(Options.UsageError) -> Bool {
        func seconds(_ range: ClosedRange<Double>) throws(Options.UsageError) -> Double {
            let text = try Options.value(flag, &rest)
            guard let s = Double(text), range.contains(s) else {
                throw Options.UsageError(description: "\(flag) must be seconds in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
            }
            return s
        }
        switch flag {
        case "--send-video": sendVideo = try Options.value(flag, &rest)
        case "--send-audio": sendAudio = try Options.value(flag, &rest)
        case "--receive-video": receiveVideo = true
        case "--receive-audio": receiveAudio = true
        case "--no-data": noData = true
        case "--duration": duration = try seconds(0.1...3600)
        case "--pli-at": pliAt = try seconds(0...3600)
        case "--record": record = try Options.value(flag, &rest)
        default: return false
        }
        return true
    }

    func sends(_ kind: MediaKind) -> Bool { kind == .video ? sendVideo != nil : sendAudio != nil }
    func receives(_ kind: MediaKind) -> Bool { kind == .video ? receiveVideo : receiveAudio }
}
