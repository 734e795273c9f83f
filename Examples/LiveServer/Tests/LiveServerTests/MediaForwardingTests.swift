import Foundation
import NiceWebRTC
import Prometheus
import Testing
@testable import LiveServer

/// `LiveStreams` with real PeerConnections on 127.0.0.1: forwarding, keyframes, publisher
/// restarts, trickle and ICE restart, recording.
@Suite("Media: forwarding publisher → viewers over 127.0.0.1")
struct MediaForwardingTests {
    @Test("two viewers receive the publisher's video and audio frames; metrics count them", .timeLimit(.minutes(2)))
    func twoViewers() async throws {
        let (streams, registry) = makeStreams()
        let publisher = try await TestPublisher(streams, stream: "cam")
        try await publisher.waitConnected()
        let sending = publisher.startSending()
        let one = try await TestViewer(streams, stream: "cam")
        let two = try await TestViewer(streams, stream: "cam")
        try await one.waitConnected()
        try await two.waitConnected()
        for viewer in [one, two] {
            #expect(await viewer.videoFrames.wait(for: 30), "video frames: \(viewer.videoFrames.count)")
            #expect(await viewer.audioFrames.wait(for: 30), "audio frames: \(viewer.audioFrames.count)")
            #expect(viewer.videoFrames.all.contains { $0.isKeyframe }, "a key frame came (asked for on joining)")
            #expect(viewer.video.incompleteFrames == 0)
        }
        #expect(streams.lookup(publisher.session)?.stream == "cam" && streams.lookup(publisher.session)?.role == .publisher)
        #expect(streams.lookup(one.session)?.role == .viewer)
        await streams.pollStats()
        let text = registry.emitToString()
        #expect(text.contains(#"live_sessions{role="viewer"} 2"#), "\(text)")
        #expect(text.contains(#"live_viewers{stream="cam"} 2"#))
        #expect(text.contains(#"live_bytes_in_total{stream="cam",kind="video"}"#) || text.contains(#"live_bytes_in_total{kind="video",stream="cam"}"#))
        #expect(text.contains("live_bytes_out_total"))
        sending.cancel()
        await sending.value
        #expect(await streams.end(one.session))
        #expect(await !streams.end(one.session), "a second DELETE finds nothing")
        #expect(streams.lookup(one.session) == nil)
        await streams.shutdown()
        for peer in [one.connection, two.connection, publisher.connection] { await peer.closeAndWait() }
    }

    @Test("a viewer joining mid-stream makes the server ask the publisher for a keyframe", .timeLimit(.minutes(2)))
    func joinAsksKeyframe() async throws {
        let (streams, registry) = makeStreams()
        let publisher = try await TestPublisher(streams, stream: "k")
        try await publisher.waitConnected()
        let sending = publisher.startSending()
        let before = publisher.keyframeRequests.count
        let viewer = try await TestViewer(streams, stream: "k")
        try await viewer.waitConnected()
        #expect(await publisher.keyframeRequests.wait(for: before + 1, timeout: .seconds(5)), "a PLI reached the publisher")
        let joined = ContinuousClock.now
        // The first key frame comes within one PLI round (loopback: well under a second).
        let keyframe = await withTimeout(.seconds(5)) { () -> Bool in
            while !Task.isCancelled {
                if viewer.videoFrames.all.contains(where: \.isKeyframe) { return true }
                _ = await viewer.videoFrames.wait(for: viewer.videoFrames.count + 1, timeout: .seconds(1))
            }
            return false
        } ?? false
        #expect(keyframe)
        #expect(ContinuousClock.now - joined < .seconds(2))
        #expect(registry.emitToString().contains("live_keyframe_requests_total"))
        sending.cancel()
        await sending.value
        await streams.shutdown()
        await viewer.close()
        await publisher.close()
    }

    @Test("the publisher leaves and another one publishes: the viewer stays, its sequence numbers and timestamps go on",
          .timeLimit(.minutes(2)))
    func publisherRestart() async throws {
        let (streams, _) = makeStreams()
        let first = try await TestPublisher(streams, stream: "r")
        try await first.waitConnected()
        var sending = first.startSending()
        let viewer = try await TestViewer(streams, stream: "r")
        try await viewer.waitConnected()
        #expect(await viewer.videoPackets.wait(for: 40))
        sending.cancel()
        await sending.value
        let stopped = ContinuousClock.now
        // Let the last packets land, then end the first publisher.
        try await Task.sleep(for: .milliseconds(300))
        let before = viewer.videoPackets.count
        #expect(await streams.end(first.session))
        await first.close()
        #expect(streams.lookup(viewer.session) != nil, "the viewer stays")
        #expect(viewer.connection.connectionState == .connected)

        let second = try await TestPublisher(streams, stream: "r")
        try await second.waitConnected()
        let resumed = ContinuousClock.now
        sending = second.startSending()
        #expect(await viewer.videoPackets.wait(for: before + 40))
        sending.cancel()
        await sending.value

        let packets = viewer.videoPackets.all
        #expect(Set(packets.map(\.ssrc)).count == 1, "one SSRC throughout")
        let gaps = zip(packets, packets.dropFirst()).filter { $1.sequenceNumber &- $0.sequenceNumber != 1 }
        #expect(gaps.count <= 1, "sequence numbers continuous (loopback loses nothing): \(gaps.count) gaps")
        let boundary = before - 1
        let step = Int64(Int32(bitPattern: packets[boundary + 1].timestamp &- packets[boundary].timestamp))
        let gap = resumed - stopped + .seconds(1)
        let limit = Int64(TimestampRebaser.ticks(gap, clockRate: 90_000))
        #expect(step > 0 && step <= limit, "timestamp step \(step) at the restart, within the gap (\(limit))")
        let steps = zip(packets, packets.dropFirst()).map { Int64(Int32(bitPattern: $1.timestamp &- $0.timestamp)) }
        #expect(steps.allSatisfy { $0 >= 0 && $0 <= limit }, "no jump anywhere")
        await streams.shutdown()
        await viewer.close()
        await second.close()
    }

    @Test("candidates trickled after the offer connect; an ICE restart gives new credentials and media goes on",
          .timeLimit(.minutes(2)))
    func trickleAndRestart() async throws {
        let (streams, _) = makeStreams()
        let publisher = try await TestPublisher(streams, stream: "t", trickle: true)
        try await publisher.waitConnected()
        let sending = publisher.startSending()
        let viewer = try await TestViewer(streams, stream: "t")
        try await viewer.waitConnected()
        #expect(await viewer.videoFrames.wait(for: 10))

        // The publisher restarts ICE: its new ufrag/pwd and candidates as a PATCH would carry them.
        let client = publisher.connection
        let offer = try await client.setLocalDescription(try await client.createOffer(iceRestart: true))
        let offerSdp = try #require(offer?.sdp)
        let ice = try #require(try IceDescription(parsing: offerSdp).media.first)
        let gathered = await Gathering.candidates(of: client, timeout: .seconds(2))
        let oldServer = try #require(try IceDescription(parsing: publisher.answer).media.first?.usernameFragment)
        let fragment = try await streams.restartIce(publisher.session, TrickleIceFragment(
            iceUfrag: ice.usernameFragment, icePwd: ice.password, candidates: gathered.candidates, endOfCandidates: true))
        let ufrag = try #require(fragment.iceUfrag)
        let password = try #require(fragment.icePwd)
        #expect(ufrag != oldServer, "new server credentials")
        #expect(!fragment.candidates.isEmpty)
        // The client's answer: the server's previous one with the new credentials and candidates.
        let previous = try #require(client.remoteDescription?.sdp)
        let answer = SdpEditing.adding(
            candidates: fragment.candidates, complete: fragment.endOfCandidates,
            to: SdpEditing.replacingCredentials(in: previous, ufrag: ufrag, password: password))
        try await client.setRemoteDescription(SessionDescription(type: .answer, sdp: answer))
        let count = viewer.videoFrames.count
        #expect(await viewer.videoFrames.wait(for: count + 30), "video goes on after the restart")
        #expect(client.connectionState == .connected)

        // Bad restarts.
        await #expect(throws: LiveError.self) {
            _ = try await streams.restartIce(publisher.session, TrickleIceFragment(iceUfrag: "a b", icePwd: "x", candidates: [], endOfCandidates: false))
        }
        await #expect(throws: LiveError.notFound("no session nope")) {
            _ = try await streams.restartIce(LiveSessionID(value: "nope"), TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: [], endOfCandidates: false))
        }
        await #expect(throws: LiveError.notFound("no session nope")) {
            try await streams.trickle(LiveSessionID(value: "nope"), TrickleIceFragment(iceUfrag: nil, icePwd: nil, candidates: [], endOfCandidates: true))
        }
        sending.cancel()
        await sending.value
        await streams.shutdown()
        await viewer.close()
        await publisher.close()
    }

    @Test("recording: the publisher's VP8 into .ivf and Opus into .ogg, written when it ends", .timeLimit(.minutes(2)))
    func recording() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("live-record-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (streams, _) = makeStreams(recordDirectory: directory)
        let publisher = try await TestPublisher(streams, stream: "rec")
        try await publisher.waitConnected()
        let sending = publisher.startSending()
        let viewer = try await TestViewer(streams, stream: "rec")  // to wait on: frames are flowing
        try await viewer.waitConnected()
        #expect(await viewer.videoFrames.wait(for: 30))
        sending.cancel()
        await sending.value
        try await Task.sleep(for: .milliseconds(200))
        #expect(await streams.end(publisher.session))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files.count == 2 && files.allSatisfy { $0.hasPrefix("rec-") }, "\(files)")
        let ivf = try #require(files.first { $0.hasSuffix(".ivf") })
        let ogg = try #require(files.first { $0.hasSuffix(".ogg") })
        var reader = try IvfReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + ivf))))
        let frames = try reader.readAll()
        #expect(frames.count >= 20 && frames.first.map { $0.bytes.first == 0x10 } == true, "from a key frame: \(frames.count)")
        var opus = try OggOpusReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + ogg))))
        #expect(try opus.readAll().count >= 20)
        await streams.shutdown()
        await viewer.close()
        await publisher.close()
    }
}
