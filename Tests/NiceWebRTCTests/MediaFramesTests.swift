import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// Frames over two real PeerConnections on 127.0.0.1: `LocalTrack.write(frame:duration:)` on A,
/// `RemoteTrack.frames()` on B.
@Suite("Media: encoded frames written and received over 127.0.0.1")
struct MediaFramesTests {
    struct Pair {
        let a: PeerConnection, b: PeerConnection
        let links: [Task<Void, Never>]
        let video: LocalTrack, audio: LocalTrack
        let videoSender: RtpSender
        let remoteVideo: RemoteTrack, remoteAudio: RemoteTrack

        static func make() async throws -> Pair {
            let a = try mediaPeer(), b = try mediaPeer()
            let links = trickle(a, b)
            let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "camera", streamId: "s")
            let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "mic", streamId: "s")
            let videoSender = try a.addTrack(video)
            try a.addTrack(audio)
            let channel = try a.createDataChannel("c")
            let tracks = b.trackEvents()
            try await negotiate(a, b)
            let events = await first(2, of: tracks)
            let remoteVideo = try #require(events.first { $0.track.kind == .video }?.track)
            let remoteAudio = try #require(events.first { $0.track.kind == .audio }?.track)
            try await channel.waitUntilOpen(timeout: .seconds(20))
            return Pair(a: a, b: b, links: links, video: video, audio: audio, videoSender: videoSender,
                        remoteVideo: remoteVideo, remoteAudio: remoteAudio)
        }

        func close() async {
            links.forEach { $0.cancel() }
            await a.closeAndWait()
            await b.closeAndWait()
        }
    }

    @Test("VP8 frames from an IVF and Opus packets from an Ogg arrive whole, byte-identical, key frames flagged, timestamps by duration",
          .timeLimit(.minutes(2)))
    func framesArriveWhole() async throws {
        let p = try await Pair.make()
        let videoReader = FrameReader(p.remoteVideo), audioReader = FrameReader(p.remoteAudio)
        var videoProgress = videoReader.progress.makeAsyncIterator(), audioProgress = audioReader.progress.makeAsyncIterator()
        let (frames, fromFfmpeg) = try TestMedia.vp8Frames()
        let packets = try TestMedia.opusPackets()
        try #require(frames.count >= 12 && packets.count >= 50)
        if !fromFfmpeg { print("note: ffmpeg is not installed; made-up VP8 frames only") }
        // One frame at a time, each waited for: loopback UDP loses nothing it is not flooded with.
        for (i, frame) in frames.enumerated() {
            try p.video.write(frame: frame.bytes, duration: .seconds(1) / 30)
            #expect(await videoReader.wait(for: i + 1, &videoProgress), "frame \(i)")
        }
        for (i, packet) in packets.enumerated() {
            try p.audio.write(frame: packet.bytes, duration: packet.duration)
            #expect(await audioReader.wait(for: i + 1, &audioProgress), "packet \(i)")
        }
        let video = videoReader.frames, audio = audioReader.frames
        try #require(video.count == frames.count && audio.count == packets.count)
        #expect(video.map(\.bytes) == frames.map(\.bytes))
        #expect(video.map(\.isKeyframe) == frames.map(\.isVp8Keyframe))
        #expect(video.first?.isKeyframe == true && video.first?.dimensions != nil)
        #expect(zip(video, video.dropFirst()).allSatisfy { $1.timestamp &- $0.timestamp == 3000 })
        #expect(video.contains { $0.packetCount >= 17 }, "a 20 kB frame spans many packets")
        #expect(audio.map(\.bytes) == packets.map(\.bytes))
        #expect(zip(audio, audio.dropFirst()).allSatisfy { $1.timestamp &- $0.timestamp == 960 })
        #expect(p.remoteVideo.incompleteFrames == 0 && p.remoteAudio.incompleteFrames == 0)
        #expect(p.remoteVideo.receivedFrames == UInt64(frames.count) && p.remoteVideo.droppedFrames == 0)
        // The marker bit ends each video frame; every packet fits 1,200 bytes protected.
        let stats = try #require(await p.a.stats().outboundRtp.first { $0.kind == "video" })
        #expect(stats.packetsSent == UInt64(video.map(\.packetCount).reduce(0, +)))

        // Errors: an empty frame, an Opus packet too large for one RTP packet, a negative duration.
        #expect(throws: RtpError.self) { try p.video.write(frame: [], duration: .milliseconds(33)) }
        #expect(throws: RtpError.self) { try p.audio.write(frame: [0xF8] + [UInt8](repeating: 1, count: 1500), duration: .milliseconds(20)) }
        #expect(throws: RtpError.self) { try p.audio.write(frame: [0xF8, 1], duration: .milliseconds(-20)) }
        await p.close()
        _ = await videoReader.task.value
        _ = await audioReader.task.value
    }

    @Test("H.264 access units (SPS, PPS, a 5 kB IDR in FU-A, small slices in STAP-A) arrive as Annex B, key frames flagged",
          .timeLimit(.minutes(1)))
    func h264() async throws {
        let a = try mediaPeer(), b = try mediaPeer()
        let links = trickle(a, b)
        let camera = LocalTrack(kind: .video, mimeType: "video/H264", id: "h264")
        let sender = try a.addTrack(camera)
        let channel = try a.createDataChannel("c")
        let tracks = b.trackEvents()
        try await negotiate(a, b)
        let remote = try #require(await first(1, of: tracks).first?.track)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        #expect(sender.codec?.name == "H264")
        let reader = FrameReader(remote)
        var progress = reader.progress.makeAsyncIterator()
        let start: [UInt8] = [0, 0, 0, 1]
        let sps: [UInt8] = [0x67, 0x42, 0xC0, 0x1F, 0x8C, 0x8D, 0x40]
        let pps: [UInt8] = [0x68, 0xCE, 0x3C, 0x80]
        let idr: [UInt8] = [0x65, 0x88] + (0..<5000).map { UInt8(1 + $0 % 250) }
        let slice: [UInt8] = [0x41, 0x9A] + (0..<300).map { UInt8(1 + $0 % 200) }
        let units = [start + sps + start + pps + start + idr, start + slice, start + slice + start + [0x41, 0x80, 7, 7]]
        for (i, unit) in units.enumerated() {
            try camera.write(frame: unit, duration: .seconds(1) / 30)
            #expect(await reader.wait(for: i + 1, &progress))
        }
        #expect(reader.frames.map(\.bytes) == units)
        #expect(reader.frames.map(\.isKeyframe) == [true, false, false])
        #expect(remote.incompleteFrames == 0)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
        _ = await reader.task.value
    }

    @Test("a packet lost on the wire and resent after B's NACK: the frame still arrives whole, in order", .timeLimit(.minutes(1)))
    func nackRecoveredFrame() async throws {
        let p = try await Pair.make()
        let reader = FrameReader(p.remoteVideo)
        var progress = reader.progress.makeAsyncIterator()
        let key: [UInt8] = [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 7, count: 3000)
        try p.video.write(frame: key, duration: .seconds(1) / 30)
        #expect(await reader.wait(for: 1, &progress))
        // The second packet of the next frame is lost once (the filter sees each packet as the
        // writer sends it; NACK answers go around it).
        let lost = Locked(false)
        p.a.core.media.setOutboundFilter { packet in
            lost.withLock { done in
                guard !done, packet.payload.count > 4, packet.payload[0] & 0x10 == 0 else { return true }
                done = true
                return false
            }
        }
        let frames = (0..<5).map { i in [0x31, 0x01, 0x00] + [UInt8](repeating: UInt8(i), count: 2500) }
        for frame in frames { try p.video.write(frame: frame, duration: .seconds(1) / 30) }
        #expect(await reader.wait(for: 6, &progress))
        #expect(lost.withLock { $0 })
        #expect(reader.frames.map(\.bytes) == [key] + frames)
        #expect(p.remoteVideo.incompleteFrames == 0)
        let inbound = try #require(await p.b.stats().inboundRtp.first { $0.kind == "video" })
        #expect(inbound.nackCount >= 1, "\(inbound)")
        await p.close()
        _ = await reader.task.value
    }

    @Test("a sequence gap inside a frame: the frame is dropped and counted, a keyframe is requested, later frames arrive",
          .timeLimit(.minutes(1)))
    func gapDropsFrame() async throws {
        let p = try await Pair.make()
        let reader = FrameReader(p.remoteVideo)
        var progress = reader.progress.makeAsyncIterator()
        let requests = p.video.keyframeRequests()
        let key: [UInt8] = [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 7, count: 3000)
        let delta: [UInt8] = [0x31, 0x01, 0x00] + [UInt8](repeating: 9, count: 3000)
        // Two seconds: the frame after the broken one comes 2 s later in RTP time, past the
        // 500 ms B waits for a missing packet before giving up on it.
        try p.video.write(frame: key, duration: .seconds(2))
        #expect(await reader.wait(for: 1, &progress))
        let start = try #require(reader.frames.first?.timestamp)

        // A frame of three packets, 1 s in, whose second one gets a sequence number never sent
        // (so no NACK can bring it back): written as packets, the binding's counter bumped between.
        var packetizer = Vp8Packetizer()
        let units = try packetizer.packetize(delta, timestamp: start &+ 90_000, firstSequenceNumber: 0, maximumPayloadSize: 1100)
        try #require(units.count == 3)
        let binding = try #require(p.a.transceivers.first { $0.kind == .video }?.id)
        for (i, unit) in units.enumerated() {
            if i == 1 { p.a.core.media.state.withLock { $0.bindings[binding]?.nextSequenceNumber &+= 1 } }
            p.video.write(RtpPacket(marker: unit.marker, payloadType: 96, sequenceNumber: 0, timestamp: unit.timestamp, ssrc: 1, payload: unit.payload))
        }
        try p.video.write(frame: key, duration: .seconds(1) / 30)
        #expect(await first(1, of: requests) == [.pli])
        #expect(await eventually { p.remoteVideo.incompleteFrames >= 1 })
        // The stream goes on: the next key frame arrives whole.
        #expect(await reader.wait(for: 2, &progress))
        #expect(reader.frames.map(\.bytes) == [key, key] && p.remoteVideo.incompleteFrames == 1)
        let inbound = try #require(await p.b.stats().inboundRtp.first { $0.kind == "video" })
        #expect(inbound.pliCount >= 1, "\(inbound)")
        await p.close()
        _ = await reader.task.value
    }

    @Test("hostile packets on the track (random payloads, markers, timestamps, lost numbers): bounded, and later frames arrive whole",
          .timeLimit(.minutes(1)))
    func hostilePackets() async throws {
        let p = try await Pair.make()
        let reader = FrameReader(p.remoteVideo)
        var progress = reader.progress.makeAsyncIterator()
        let key: [UInt8] = [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 5, count: 2000)
        try p.video.write(frame: key, duration: .seconds(1) / 30)
        #expect(await reader.wait(for: 1, &progress))
        let binding = try #require(p.a.transceivers.first { $0.kind == .video }?.id)
        var rng = SystemRandomNumberGenerator()
        // Through the writer (so SRTP's replay window and rollover counter stay sane, as a peer
        // that wants its own stream decrypted keeps them): random payloads (VP8 descriptors that
        // may claim a frame start, a key frame, or nothing sensible), markers and timestamps, and
        // sequence numbers skipped at random (never sent: no NACK brings them back).
        for _ in 0..<1000 {
            let payload = (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let skip = UInt16.random(in: 0...3, using: &rng) / 3
            p.a.core.media.state.withLock { $0.bindings[binding]?.nextSequenceNumber &+= skip }
            p.video.write(RtpPacket(marker: Bool.random(using: &rng), payloadType: 96, sequenceNumber: 0,
                                    timestamp: UInt32.random(in: 0...UInt32.max, using: &rng), ssrc: 1, payload: payload))
        }
        // The real stream goes on: its frames arrive whole again (the reorder stage and the
        // assembler find their way back within a bounded number of packets).
        let before = reader.frames.count
        var arrived = false
        for i in 0..<300 where !arrived {
            try p.video.write(frame: key, duration: .seconds(1) / 30)
            if i % 10 == 9 { arrived = await eventually(.milliseconds(200)) { reader.frames.suffix(from: before).contains { $0.bytes == key } } }
        }
        #expect(arrived, "no whole frame after the flood; incomplete \(p.remoteVideo.incompleteFrames)")
        await p.close()
        _ = await reader.task.value
    }
}
