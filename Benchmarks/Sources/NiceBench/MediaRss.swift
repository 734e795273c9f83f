// 14. RSS per connection with one audio and one video transceiver: `connections` / 2 PeerConnection
// pairs in one process (as `dc-rss` does for data channels), the offerer sending an audio and a
// video track (shared by all offerers), the answerer taking both sections recvonly; all connected
// (ICE, DTLS, SRTP keyed). Measured idle, then again after each connection sent a NACK history's
// worth of video and a second of audio (the bounded send history then holds what it keeps for
// a sending connection).
import Foundation
import NiceWebRTC

func benchMediaRss(connections: Int, fill: Int) async {
    let n = max(1, connections / 2)
    let need = fdCount() + 4 * (n + 1) + 64
    if need > fdLimit() { die(5, "\(n) pairs need about \(need) fds (2 per connection) but RLIMIT_NOFILE is \(fdLimit())") }
    let certA = makeCertificate(), certB = makeCertificate()
    let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "camera", streamId: "s")
    let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "mic", streamId: "s")
    let timeout = Duration.seconds(60)
    func make(_ count: Int) -> [(PeerConnection, PeerConnection)] {
        (0..<count).map { _ in
            let a = mediaConnection(certificate: certA, accepting: false)
            let b = mediaConnection(certificate: certB, accepting: true)
            do {
                _ = try a.addTrack(audio)
                _ = try a.addTrack(video)
            } catch {
                die(4, "addTrack: \(error)")
            }
            return (a, b)
        }
    }
    // One pair first, kept: libsrtp's, OpenSSL's and the runtime's one-time set-up before the baseline.
    Watchdog.shared.arm(120, "warm-up media pair")
    let warm = make(1)
    _ = await connectMediaPairs(warm, parallel: 1, timeout: timeout)
    Watchdog.shared.disarm()
    let rss0 = rssKB()
    Watchdog.shared.arm(120 + 0.2 * Double(n), "\(n) media pairs to connect")
    let pairs = make(n)
    let took = await connectMediaPairs(pairs, parallel: 16, timeout: timeout)
    Watchdog.shared.disarm()
    let rss1 = rssKB()
    let kb = Double(rss1 - rss0) / Double(2 * n)
    let transceivers = pairs.reduce(0) { $0 + $1.0.transceivers.count + $1.1.transceivers.count }
    log("media_rss: \(2 * n) connections (\(transceivers) transceivers), all connected in \(fmt(ms(took))) ms; fds=\(fdCount()) threads=\(threadCount()) rss before=\(rss0) KB after=\(rss1) KB → \(fmt(kb)) KB/connection")
    emitRun("media_rss", 1, kb, "KB")
    emitSummary("media_rss", [kb], "KB", extra: ",\"connections\":\(2 * n)")
    emitSummary("media_rss-time", [ms(took)], "ms")
    if fill > 0 {
        // `fill` video packets (1,200 B) and 50 audio packets (160 B), paced at one of each per
        // millisecond per connection group, so the receivers keep up on loopback.
        Watchdog.shared.arm(120 + 0.01 * Double(fill * n), "media_rss history fill")
        let frame = SyntheticVp8.frame(1)
        for i in 0..<fill {
            var p = frame[0]
            p.sequenceNumber = UInt16(truncatingIfNeeded: i)
            p.timestamp = UInt32(truncatingIfNeeded: i * 3000)
            video.write(p)
            if i < 50 {
                audio.write(RtpPacket(payloadType: 111, sequenceNumber: UInt16(i), timestamp: UInt32(i * 960), ssrc: 2, payload: [UInt8](repeating: 0x55, count: 160)))
            }
            try? await Task.sleep(for: .milliseconds(max(1, n / 100)))
        }
        try? await Task.sleep(for: .milliseconds(500))
        Watchdog.shared.disarm()
        let rss2 = rssKB()
        let kb2 = Double(rss2 - rss0) / Double(2 * n)
        log("media_rss: after \(fill) video + \(min(fill, 50)) audio packets per sending connection: rss \(rss2) KB → \(fmt(kb2)) KB/connection (the senders' bounded NACK history included)")
        emitSummary("media_rss-sending", [kb2], "KB", extra: ",\"connections\":\(2 * n)")
        emitSummary("media_rss-fill", [Double(fill)], "packets")
    }
    let all = (pairs + warm).flatMap { [$0.0, $0.1] }
    await closeConnections(all, timeout: 120 + 0.2 * Double(n))
}
