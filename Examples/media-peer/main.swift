// media-peer: a Media-JSONL peer (WebRTC-JSONL with audio and video, docs/media-jsonl.md) on one
// NiceWebRTC PeerConnection; bridge: Interop/webrtc_bridge.py --media.
//
//   media-peer --offer --send-video video.ivf --send-audio audio.ogg --no-data
//   media-peer --answer --receive-video --receive-audio --record /tmp/rec --no-data
//
// stdout carries protocol lines only; logs go to stderr.
import Foundation
import JsonlPeer
import Logging

let started = ContinuousClock.now
signal(SIGPIPE, SIG_IGN)

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("-h") || arguments.contains("--help") {
    FileHandle.standardError.write(Data((MediaOptions.usage + "\n").utf8))
    exit(0)
}
var media = MediaOptions()
var options: Options
do {
    options = try Options(parsing: arguments, name: "media-peer") { flag, rest throws(Options.UsageError) in try media.parse(flag, &rest) }
} catch {
    FileHandle.standardError.write(Data("media-peer: \(error)\n\n\(MediaOptions.usage)\n".utf8))
    exit(2)
}
options.dataChannel = !media.noData

PeerLogging.bootstrap()

do {
    var logger = Logger(label: "media-peer")
    logger[metadataKey: "name"] = "\(options.name)"
    let output = ProtocolOutput()
    let addOn = try MediaPeer(options: media, output: output, started: started, logger: logger)
    let peer = try Peer(options: options, started: started, program: "media-peer", output: output, extension: addOn)
    try await peer.run()
    exit(0)
} catch {
    FileHandle.standardError.write(Data("media-peer: \(error)\n".utf8))
    exit(1)
}
