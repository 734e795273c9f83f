// 13. Forwarding: one 1.5 Mbit/s VP8-like RTP stream from a sender PeerConnection to a forwarder
// PeerConnection, re-sent by the forwarder (one LocalTrack added to N egress PeerConnections) to N
// receiver PeerConnections, all in this process over 127.0.0.1 (real ICE, DTLS, SRTP). For each N
// (ascending; receivers are added between phases): packets lost per receiver, CPU per forwarded
// packet, and the largest N with < 1 % loss.
import Dispatch
import Foundation
import NiceWebRTC
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The synthetic stream: 30 frames/s, a keyframe every 2 s (8× a delta frame), 1.5 Mbit/s on
/// average, each frame cut into RTP packets of at most 1,200 bytes (12-byte header, a 1-byte VP8
/// payload descriptor, up to 1,187 bytes of frame).
enum SyntheticVp8 {
    static let fps = 30
    static let keyframeInterval = 60
    static let bitrate = 1_500_000
    static let maxChunk = 1187
    /// (K + 59 D) / 60 = bitrate / 8 / fps with K = 8 D.
    static let deltaBytes = bitrate / 8 / fps * keyframeInterval / (keyframeInterval - 1 + 8)
    static let keyBytes = 8 * deltaBytes
    static var packetsPerInterval: Int {
        (keyBytes + maxChunk - 1) / maxChunk + (keyframeInterval - 1) * ((deltaBytes + maxChunk - 1) / maxChunk)
    }

    /// The packets of frame `f` (sequence numbers and SSRC are the sender's to set).
    static func frame(_ f: Int) -> [RtpPacket] {
        let key = f % keyframeInterval == 0
        var left = key ? keyBytes : deltaBytes
        var out: [RtpPacket] = []
        var first = true
        while left > 0 {
            let n = min(left, maxChunk)
            left -= n
            // VP8 payload descriptor (RFC 7741): S=1 on the partition's first packet; the VP8
            // frame header's P bit (bit 0 of its first byte) 0 for a keyframe.
            var payload: [UInt8] = [first ? 0x10 : 0x00]
            payload += [UInt8](repeating: UInt8(truncatingIfNeeded: f), count: n)
            if first { payload[1] = key ? 0x10 : 0x11 }
            out.append(RtpPacket(marker: left == 0, payloadType: 96, sequenceNumber: 0, timestamp: UInt32(truncatingIfNeeded: f * 3000), ssrc: 1, payload: payload))
            first = false
        }
        return out
    }
}

/// Writes the stream into `track` from a thread of its own, paced by absolute deadlines, until
/// stopped; counts the packets written.
final class StreamSender: Sendable {
    let written = Atomic<Int>(0)
    private let stop = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(track: LocalTrack) {
        let frames = (0..<SyntheticVp8.keyframeInterval).map(SyntheticVp8.frame)
        let thread = Thread { [self] in
            let start = nowNs()
            var f = 0
            while !stop.load(ordering: .relaxed) {
                var packets = frames[f % frames.count]
                for i in packets.indices { packets[i].timestamp = UInt32(truncatingIfNeeded: f * 3000) }
                for p in packets { track.write(p) }
                written.wrappingAdd(packets.count, ordering: .relaxed)
                f += 1
                let due = start + UInt64(f) * 1_000_000_000 / UInt64(SyntheticVp8.fps)
                let now = nowNs()
                if due > now { usleep(UInt32((due - now) / 1000)) }
            }
            done.signal()
        }
        thread.name = "bench-sender"
        thread.start()
    }

    func finish() {
        stop.store(true, ordering: .relaxed)
        done.wait()
    }
}

/// The forwarder's loop: every packet of the ingress track written to the egress track (which
/// rewrites, protects and sends it on each of the N egress connections), with the thread CPU time
/// the write took (the write never suspends: one thread runs it from start to end).
final class ForwardLoop: Sendable {
    final class Counts: Sendable {
        let forwarded = Atomic<Int>(0)
        let writeCPUNs = Atomic<UInt64>(0)
    }
    let counts = Counts()
    let task: Task<Void, Never>

    var forwarded: Int { counts.forwarded.load(ordering: .relaxed) }
    var writeCPUNs: UInt64 { counts.writeCPUNs.load(ordering: .relaxed) }

    init(from ingress: RemoteTrack, to egress: LocalTrack) {
        let counts = counts
        let packets = ingress.packets(bufferCapacity: 4096)
        task = Task.detached {
            for await p in packets {
                let c0 = threadCPUNowNs()
                egress.write(p)
                counts.writeCPUNs.wrappingAdd(threadCPUNowNs() &- c0, ordering: .relaxed)
                counts.forwarded.wrappingAdd(1, ordering: .relaxed)
            }
        }
    }
}

/// The kernel's UDP counters (system-wide, /proc/net/snmp): receive-buffer overflows.
func udpRcvbufErrors() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return -1 }
    let lines = text.split(separator: "\n").filter { $0.hasPrefix("Udp: ") }
    guard lines.count >= 2 else { return -1 }
    let names = lines[0].split(separator: " "), values = lines[1].split(separator: " ")
    guard let i = names.firstIndex(of: "RcvbufErrors"), i < values.count else { return -1 }
    return Int(values[i]) ?? -1
}

func usOf(_ tv: timeval) -> Double { Double(tv.tv_sec) * 1e6 + Double(tv.tv_usec) }

func processCPUus() -> Double {
    var ru = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &ru)
    return usOf(ru.ru_utime) + usOf(ru.ru_stime)
}

/// The forwarding figure for each N of `ns` (ascending), each phase `seconds` of stream.
func benchForward(ns: [Int], seconds: Int) async {
    let ns = ns.sorted()
    guard let maxN = ns.last else { return }
    let need = fdCount() + 4 * (maxN + 1) + 64
    if need > fdLimit() { die(5, "N=\(maxN) needs about \(need) fds (2 per connection) but RLIMIT_NOFILE is \(fdLimit())") }
    let forwarderCert = makeCertificate(), peerCert = makeCertificate()
    let timeout = Duration.seconds(60)
    Watchdog.shared.arm(120, "sender → forwarder connection")
    let sender = mediaConnection(certificate: peerCert, accepting: false)
    let ingress = mediaConnection(certificate: forwarderCert, accepting: true)
    let source = LocalTrack(kind: .video, mimeType: "video/VP8", id: "camera", streamId: "sender")
    do {
        _ = try sender.addTrack(source)
    } catch {
        die(4, "addTrack: \(error)")
    }
    let tracks = ingress.trackEvents()
    _ = await connectMediaPairs([(sender, ingress)], parallel: 1, timeout: timeout)
    var it = tracks.makeAsyncIterator()
    guard let ingressTrack = await it.next()?.track else { die(4, "no track event at the forwarder") }
    Watchdog.shared.disarm()
    let egress = LocalTrack(kind: .video, mimeType: "video/VP8", id: "forwarded", streamId: "forwarder")
    let loop = ForwardLoop(from: ingressTrack, to: egress)
    log("forward: stream \(SyntheticVp8.bitrate / 1000) kbit/s, \(SyntheticVp8.fps) fps, keyframe \(SyntheticVp8.keyBytes) B every \(SyntheticVp8.keyframeInterval) frames, delta \(SyntheticVp8.deltaBytes) B, \(fmt(Double(SyntheticVp8.packetsPerInterval) * Double(SyntheticVp8.fps) / Double(SyntheticVp8.keyframeInterval))) packets/s")

    var egressPCs: [PeerConnection] = []
    var receivers: [PeerConnection] = []
    var remoteTracks: [RemoteTrack] = []
    var best = 0
    for n in ns {
        // Add receivers up to n.
        let add = n - receivers.count
        if add > 0 {
            Watchdog.shared.arm(60 + 0.5 * Double(add), "\(add) receivers to connect")
            var pairs: [(PeerConnection, PeerConnection)] = []
            var streams: [AsyncStream<TrackEvent>] = []
            for _ in 0..<add {
                let e = mediaConnection(certificate: forwarderCert, accepting: false)
                let r = mediaConnection(certificate: peerCert, accepting: true)
                do {
                    _ = try e.addTrack(egress)
                } catch {
                    die(4, "addTrack: \(error)")
                }
                streams.append(r.trackEvents())
                pairs.append((e, r))
            }
            let took = await connectMediaPairs(pairs, parallel: 16, timeout: timeout)
            for s in streams {
                var i = s.makeAsyncIterator()
                guard let t = await i.next()?.track else { die(4, "no track event at a receiver") }
                remoteTracks.append(t)
            }
            egressPCs += pairs.map(\.0)
            receivers += pairs.map(\.1)
            Watchdog.shared.disarm()
            log("forward: \(add) receivers connected in \(fmt(ms(took))) ms (\(receivers.count) in all); rss \(rssKB()) KB, fds \(fdCount()), threads \(threadCount())")
        }
        // One phase: counters before, `seconds` of stream, drain, counters after.
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        Watchdog.shared.arm(Double(seconds) + 60, "forwarding phase N=\(n)")
        let recv0 = remoteTracks.map(\.receivedPackets)
        let ingress0 = ingressTrack.receivedPackets, ingressDropped0 = ingressTrack.droppedPackets
        let fwd0 = loop.forwarded, wcpu0 = loop.writeCPUNs
        let udp0 = udpRcvbufErrors(), senderIce0 = sender.iceTransport.counters, ingressIce0 = ingress.iceTransport.counters
        let egressSent0 = egressPCs.reduce(UInt64(0)) { $0 + $1.iceTransport.counters.datagramsSent }
        let egressDropped0 = egressPCs.reduce(UInt64(0)) { $0 + $1.iceTransport.counters.datagramsDropped }
        let cpu0 = processCPUus(), th0 = threadCPU(contextPrefix: "NiceICE.defaul")
        let t0 = nowNs()
        let stream = StreamSender(track: source)
        try? await Task.sleep(for: .seconds(seconds))
        stream.finish()
        let sent = stream.written.load(ordering: .relaxed)
        // What the forwarder still had to write when the stream stopped: its lag behind real time.
        let backlog = max(0, Int(ingressTrack.receivedPackets - ingress0) - (loop.forwarded - fwd0))
        let lagMs = Double(backlog) * 1000 * Double(SyntheticVp8.keyframeInterval) / Double(SyntheticVp8.packetsPerInterval * SyntheticVp8.fps)
        // Drain: a packet counts as received when it arrived within 2 s of the stream's end (a
        // receiver's jitter buffer waits no longer); done earlier once everything the forwarder
        // got was forwarded and the receivers' counts stood still for 300 ms.
        var last = -1, stable = 0
        for _ in 0..<40 {
            let received = remoteTracks.reduce(0) { $0 + Int($1.receivedPackets) }
            if received == last { stable += 1 } else { stable = 0 }
            if stable >= 6, loop.forwarded - fwd0 >= Int(ingressTrack.receivedPackets - ingress0) { break }
            last = received
            try? await Task.sleep(for: .milliseconds(50))
        }
        let wall = nowNs() - t0
        let udp1 = udpRcvbufErrors(), senderIce1 = sender.iceTransport.counters, ingressIce1 = ingress.iceTransport.counters
        let egressSent = egressPCs.reduce(UInt64(0)) { $0 + $1.iceTransport.counters.datagramsSent } - egressSent0
        let egressDropped = egressPCs.reduce(UInt64(0)) { $0 + $1.iceTransport.counters.datagramsDropped } - egressDropped0
        log("forward N=\(n): ICE: sender sent \(senderIce1.datagramsSent - senderIce0.datagramsSent) (send dropped \(senderIce1.datagramsDropped - senderIce0.datagramsDropped)), forwarder ingress arrived \(ingressIce1.datagramsArrived - ingressIce0.datagramsArrived); egress sent \(egressSent) (send dropped \(egressDropped)); kernel UDP RcvbufErrors +\(udp1 - udp0) (system-wide)")
        let cpu1 = processCPUus(), th1 = threadCPU(contextPrefix: "NiceICE.defaul")
        let forwarded = loop.forwarded - fwd0
        let writeCPU = loop.writeCPUNs - wcpu0
        let ingressGot = Int(ingressTrack.receivedPackets - ingress0)
        let ingressDropped = Int(ingressTrack.droppedPackets - ingressDropped0)
        let got = zip(remoteTracks, recv0).map { Int($0.receivedPackets - $1) }
        // Loss per receiver, end to end: packets the sender wrote that the receiver never got.
        let losses = got.map { 100 * Double(max(0, sent - $0)) / Double(max(1, sent)) }
        let mean = losses.reduce(0, +) / Double(max(1, losses.count))
        let worst = losses.max() ?? 0
        let over = losses.filter { $0 >= 1 }.count
        let outPackets = Double(max(1, forwarded * n))
        let cpuPer = (cpu1 - cpu0) / outPackets
        let writePer = Double(writeCPU) / 1e3 / outPackets
        let ctxPer = Double(th1.context &- th0.context) / 1e3 / outPackets
        let cpuShare = (cpu1 - cpu0) / (Double(wall) / 1e3) * 100
        // Receivers' own view (inbound-rtp, RFC 3550 cumulative lost) and their NACKs.
        var statsLost: Int64 = 0, nacks: UInt64 = 0
        for r in receivers {
            let s = await r.stats()
            statsLost += s.inboundRtp.reduce(0) { $0 + $1.packetsLost }
            nacks += s.inboundRtp.reduce(0) { $0 + $1.nackCount }
        }
        Watchdog.shared.disarm()
        log("forward N=\(n): load \(load); sender wrote \(sent), forwarder got \(ingressGot) (track buffer dropped \(ingressDropped)), forwarded \(forwarded) × \(n); loss per receiver mean \(fmt(mean)) %, worst \(fmt(worst)) %, \(over) receivers ≥ 1 %; receivers' inbound-rtp packetsLost total (since connect) \(statsLost), NACKs sent \(nacks); forwarder backlog at the stream's end \(backlog) packets (\(fmt(lagMs)) ms behind); CPU \(fmt(cpuShare)) % of one core; per forwarded packet: process \(fmt(cpuPer)) µs, forwarder write path \(fmt(writePer)) µs, context thread (all receive paths) \(fmt(ctxPer)) µs; rss \(rssKB()) KB")
        emitSummary("forward-N\(n)-loss", losses, "%", extra: ",\"receivers\":\(n),\"sent\":\(sent),\"forwarded\":\(forwarded)")
        emitSummary("forward-N\(n)-loss-mean", [mean], "%")
        emitSummary("forward-N\(n)-over1", [Double(over)], "receivers")
        emitSummary("forward-N\(n)-cpu-process", [cpuPer], "us/pkt")
        emitSummary("forward-N\(n)-cpu-write", [writePer], "us/pkt")
        emitSummary("forward-N\(n)-cpu-context", [ctxPer], "us/pkt")
        emitSummary("forward-N\(n)-cpu-share", [cpuShare], "%")
        emitSummary("forward-N\(n)-rss", [Double(rssKB())], "KB")
        emitSummary("forward-N\(n)-lag", [lagMs], "ms")
        if mean < 1, ingressGot > 0 { best = n }
    }
    emitSummary("forward-max-n", [Double(best)], "receivers", extra: ",\"tried\":\"\(ns.map(String.init).joined(separator: " "))\"")
    loop.task.cancel()
    await closeConnections(receivers + egressPCs + [sender, ingress], timeout: 120 + 0.2 * Double(receivers.count))
}
