// dc-peer: a WebRTC-JSONL data-channel peer on one NiceWebRTC PeerConnection
// (JSON lines on stdin/stdout; bridge: Interop/webrtc_bridge.py).
//
//   dc-peer --offer --count 1000 --size 1024      (stdin/stdout wired to a bridge)
//   dc-peer --answer --count 1000 --size 1024
//
// stdout carries protocol lines only; logs go to stderr.
import Foundation
import JsonlPeer

let started = ContinuousClock.now
signal(SIGPIPE, SIG_IGN)

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("-h") || arguments.contains("--help") {
    FileHandle.standardError.write(Data((Options.usage + "\n").utf8))
    exit(0)
}
let options: Options
do {
    options = try Options(parsing: arguments)
} catch {
    FileHandle.standardError.write(Data("dc-peer: \(error)\n\n\(Options.usage)\n".utf8))
    exit(2)
}

PeerLogging.bootstrap()

do {
    let peer = try Peer(options: options, started: started)
    try await peer.run()
    exit(0)
} catch {
    FileHandle.standardError.write(Data("dc-peer: \(error)\n".utf8))
    exit(1)
}
