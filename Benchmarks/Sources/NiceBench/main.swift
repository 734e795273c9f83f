// NiceBench: the Swift side of issue 5's benchmarks. Same commands, arguments and JSON lines
// (impl "swift") as c-reference/nice-bench, plus `event` and `report`.
//
//   NiceBench connect [runs=20]
//   NiceBench throughput [count=200000] [size=1200] [runs=5]
//   NiceBench event [runs=200]
//   NiceBench scale [pairs=500] [contexts=1]        (contexts 0 = NiceContextGroup, one per core)
//   NiceBench churn [cycles=1000]
//   NiceBench dtls-handshake [runs=20]
//   NiceBench dtls-throughput [count=200000] [size=1200] [runs=5]
//   NiceBench dtls-rss [connections=1000] [dtls|ice]
//   NiceBench dc-open [runs=20]
//   NiceBench dc-throughput [count=20000] [runs=3]      (1 KiB and 64 KiB messages; 64 KiB: count/16)
//   NiceBench dc-rss [connections=1000]
//   NiceBench dc-rtt [seconds=10] [RTT ms...=20 50 100]   (through a DelayRelay; no loss, then 1 % loss)
//   NiceBench srtp-cost [runs=20] [batch=2000] [size=1200] [busy=1000]   (busy: idle connections' SRTP sessions alive for the second set)
//   NiceBench forward [seconds=10] [N...=10 50 100 200 300]
//   NiceBench media-rss [connections=1000] [fill=512]
//   NiceBench report FILE...
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

func argInt(_ i: Int, _ def: Int, _ range: ClosedRange<Int>) -> Int {
    let args = CommandLine.arguments
    guard i < args.count else { return def }
    guard let v = Int(args[i]), range.contains(v) else {
        die(64, "bad argument '\(args[i])' (expected \(range.lowerBound)...\(range.upperBound))")
    }
    return v
}

let usage = """
    usage: NiceBench connect [runs=20]
           NiceBench throughput [count=200000] [size=1200] [runs=5]
           NiceBench event [runs=200]
           NiceBench scale [pairs=500] [contexts=1]   (0 = NiceContextGroup, one per core)
           NiceBench churn [cycles=1000]
           NiceBench dtls-handshake [runs=20]
           NiceBench dtls-throughput [count=200000] [size=1200] [runs=5]
           NiceBench dtls-rss [connections=1000] [dtls|ice]
           NiceBench dc-open [runs=20]
           NiceBench dc-throughput [count=20000] [runs=3]
           NiceBench dc-rss [connections=1000]
           NiceBench dc-rtt [seconds=10] [RTT ms...=20 50 100]   (no loss, then 1 % loss)
           NiceBench srtp-cost [runs=20] [batch=2000] [size=1200] [busy=1000]
           NiceBench forward [seconds=10] [N...=10 50 100 200 300]
           NiceBench media-rss [connections=1000] [fill=512]
           NiceBench report FILE...

    """

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
let command = args[1]

if command == "report" {
    exit(runReport(files: Array(args.dropFirst(2))))
}

LoggingSystem.bootstrap { StderrLogHandler(label: $0) }
raiseFdLimit()
_ = Watchdog.shared

switch command {
case "connect":
    await benchConnect(runs: argInt(2, 20, 1...100_000))
case "throughput":
    await benchThroughput(
        count: argInt(2, 200_000, 1...100_000_000), size: argInt(3, 1200, 1...65_000), runs: argInt(4, 5, 1...100_000))
case "event":
    await benchEvent(runs: argInt(2, 200, 1...100_000))
case "scale":
    let contexts = argInt(3, 1, 0...256)
    await benchScale(
        pairs: argInt(2, 500, 1...1_000_000),
        contexts: contexts == 0 ? ProcessInfo.processInfo.activeProcessorCount : contexts, pool: contexts != 1)
case "churn":
    await benchChurn(cycles: argInt(2, 1000, 1...100_000_000))
case "dtls-handshake":
    await benchDtlsHandshake(runs: argInt(2, 20, 1...100_000))
case "dtls-throughput":
    await benchDtlsThroughput(
        count: argInt(2, 200_000, 1...100_000_000), size: argInt(3, 1200, 1...16_384), runs: argInt(4, 5, 1...100_000))
case "dtls-rss":
    let kind = args.count > 3 ? args[3] : "dtls"
    guard kind == "dtls" || kind == "ice" else { die(64, "bad argument '\(kind)' (expected dtls or ice)") }
    await benchDtlsRss(connections: argInt(2, 1000, 2...1_000_000), dtls: kind == "dtls")
case "dc-open":
    await benchDcOpen(runs: argInt(2, 20, 1...100_000))
case "dc-throughput":
    await benchDcThroughput(count: argInt(2, 20_000, 1...100_000_000), sizes: [1024, 65_536], runs: argInt(3, 3, 1...100_000))
case "dc-rss":
    await benchDcRss(connections: argInt(2, 1000, 2...1_000_000))
case "dc-rtt":
    let rtts = args.count > 3 ? (3..<args.count).map { argInt($0, 50, 2...1000) } : [20, 50, 100]
    await benchDcRtt(seconds: argInt(2, 10, 1...600), rtts: rtts, losses: [0, 1])
case "srtp-cost":
    benchSrtpCost(
        size: argInt(4, 1200, 64...16_000), batch: argInt(3, 2000, 1...1_000_000), runs: argInt(2, 20, 1...100_000),
        idleSessions: argInt(5, 1000, 0...100_000))
case "forward":
    let ns = args.count > 3 ? (3..<args.count).map { argInt($0, 10, 1...5000) } : [10, 50, 100, 200, 300]
    await benchForward(ns: ns, seconds: argInt(2, 10, 1...3600))
case "media-rss":
    await benchMediaRss(connections: argInt(2, 1000, 2...1_000_000), fill: argInt(3, 512, 0...100_000))
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
exit(0)
