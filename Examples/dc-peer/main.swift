// dc-peer: a WebRTC-JSONL data-channel peer on one NiceWebRTC PeerConnection
// (JSON lines on stdin/stdout; bridge: Interop/webrtc_bridge.py).
//
//   dc-peer --offer --count 1000 --size 1024      (stdin/stdout wired to a bridge)
//   dc-peer --answer --count 1000 --size 1024
//
// stdout carries protocol lines only; logs go to stderr.
import JsonlPeer

let started = ContinuousClock.now
let arguments = PeerProgram.arguments(usage: Options.usage)
let options: Options
do {
    options = try Options(parsing: arguments)
} catch {
    PeerProgram.usageError("dc-peer", error, usage: Options.usage)
}
PeerLogging.bootstrap()
await PeerProgram.run("dc-peer") {
    try await Peer(options: options, started: started).run()
}
