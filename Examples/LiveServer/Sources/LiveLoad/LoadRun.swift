// One run: the publisher, the viewers joining at their rate, the measurement window, the report,
// then every session DELETEd and every connection closed.
import Foundation
import Logging
import NiceWebRTC

struct LoadRun {
    let http: WhipHttp
    let stream: String
    let viewers: Int
    let joinRate: Double
    let window: Duration
    let connectTimeout: Duration
    let serverPid: String?
    let logger: Logger
    let configuration: PeerConnection.Configuration
    /// The ICE threads the viewers are spread over (the publisher is on the first).
    let contexts: NiceContextGroup

    /// Runs and prints the report; returns how many viewers were fine. Throws when the publisher
    /// cannot connect.
    func run(perViewer: Bool) async throws -> Int {
        let started = ContinuousClock.now
        let publisher = try await Publisher.connect(
            configuration: configuration, http: http, stream: stream, timeout: connectTimeout, logger: logger)
        publisher.startSending()
        progress("publisher connected in \(fmt(ms(.now - started), 0)) ms, sending")

        // Viewers join at the rate; each join runs on its own.
        let all = (0..<viewers).map { Viewer(number: $0) }
        let joinStart = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for viewer in all {
                let due = joinStart + .seconds(Double(viewer.number) / joinRate)
                try? await Task.sleep(until: due, clock: .continuous)
                var own = configuration
                own.context = contexts.next()
                group.addTask { [own] in
                    await viewer.join(configuration: own, http: http, stream: stream, timeout: connectTimeout, logger: logger)
                }
            }
        }
        let failed = all.filter { $0.snapshot.failure != nil }.count
        progress("\(viewers - failed)/\(viewers) viewers connected in \(fmt(ms(.now - joinStart), 0)) ms")

        // Up to 10 s for every joined viewer's first frame.
        let firstFrameDeadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < firstFrameDeadline, all.contains(where: { $0.snapshot.failure == nil && $0.snapshot.firstFrame == nil }) {
            try? await Task.sleep(for: .milliseconds(100))
        }

        // The window.
        let server0 = serverPid.flatMap { ProcessUsage.read(pid: $0) }, load0 = ProcessUsage.read(pid: "self")
        let sent0 = await publisher.packetsSent()
        let udp0 = udpReceiveBufferErrors()
        let first = publisher.nextIndex
        for viewer in all { viewer.beginWindow(index: first) }
        let windowStart = ContinuousClock.now
        progress("window of \(fmt(ms(window) / 1000, 0)) s")
        try? await Task.sleep(for: window)
        await publisher.stopSending()
        let end = ContinuousClock.now
        let last = publisher.nextIndex
        let server1 = serverPid.flatMap { ProcessUsage.read(pid: $0) }, load1 = ProcessUsage.read(pid: "self")
        // What was in flight when the publisher stopped arrives (a viewer's jitter buffer waits
        // no longer).
        try? await Task.sleep(for: .seconds(1))
        let sent1 = await publisher.packetsSent()
        let udp1 = udpReceiveBufferErrors()
        for viewer in all { await viewer.endWindow(at: end, index: last) }

        let report = Report(
            viewers: all.map(\.snapshot), window: end - windowStart,
            sentVideoPackets: sent1.video - min(sent1.video, sent0.video), sentAudioPackets: sent1.audio - min(sent1.audio, sent0.audio),
            sentFrames: Int(last &- first), publisher: publisher.sent,
            server: server1.flatMap { s1 in server0.map { (s1.cpuPercent(since: $0), s1.rssKB) } },
            load: load1.flatMap { l1 in load0.map { (l1.cpuPercent(since: $0), l1.rssKB) } },
            udpReceiveDrops: udp1.flatMap { u1 in udp0.map { u1 - $0 } })
        print("LiveLoad: \(viewers) viewers of '\(stream)' at \(http.server.absoluteString), joining \(fmt(joinRate, 1))/s")
        let ok = report.print(perViewer: perViewer)

        // Every session ends, 32 at a time.
        await withTaskGroup(of: Void.self) { group in
            for (i, viewer) in all.enumerated() {
                if i >= 32 { await group.next() }
                group.addTask { await viewer.leave(http: http) }
            }
        }
        await publisher.end(http: http)
        return ok
    }

    private func progress(_ message: String) {
        FileHandle.standardError.write(Data("LiveLoad: \(message)\n".utf8))
    }
}
