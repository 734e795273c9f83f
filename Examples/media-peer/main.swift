// media-peer: a Media-JSONL peer (WebRTC-JSONL with audio and video, docs/media-jsonl.md) on one
// NiceWebRTC PeerConnection; bridge: Interop/webrtc_bridge.py --media.
//
//   media-peer --offer --send-video video.ivf --send-audio audio.ogg --no-data
//   media-peer --answer --receive-video --receive-audio --record /tmp/rec --no-data
//
// stdout carries protocol lines only; logs go to stderr.
import JsonlPeer
import Logging

let started = ContinuousClock.now
let arguments = PeerProgram.arguments(usage: MediaOptions.usage)
var media = MediaOptions()
var options: Options
do {
    options = try Options(parsing: arguments, name: "media-peer") { flag, rest throws(Options.UsageError) in try media.parse(flag, &rest) }
} catch {
    PeerProgram.usageError("media-peer", error, usage: MediaOptions.usage)
}
options.dataChannel = !media.noData
PeerLogging.bootstrap()
await PeerProgram.run("media-peer") {
    var logger = Logger(label: "media-peer")
    logger[metadataKey: "name"] = "\(options.name)"
    let output = ProtocolOutput()
    let addOn = try MediaPeer(options: media, output: output, started: started, logger: logger)
    try await Peer(options: options, started: started, program: "media-peer", output: output, extension: addOn).run()
}
