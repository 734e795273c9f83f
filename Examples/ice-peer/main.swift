// ice-peer: an ICE-JSONL command-line peer on NiceICE (JSON lines on
// stdin/stdout; the bridge that wires two peers and checks them is Interop/bridge.py).
//
//   ice-peer --controlling --count 1000 --size 200     (stdin/stdout wired to a bridge)
//
// stdout carries protocol lines only; logs go to stderr.
import Foundation
import Logging
import NiceICE

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
    FileHandle.standardError.write(Data("ice-peer: \(error)\n\n\(Options.usage)\n".utf8))
    exit(2)
}

let level = ProcessInfo.processInfo.environment["ICE_PEER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}

do {
    let peer = try Peer(options: options, started: started)
    await peer.run()
    exit(0)
} catch {
    FileHandle.standardError.write(Data("ice-peer: \(error)\n".utf8))
    exit(1)
}
