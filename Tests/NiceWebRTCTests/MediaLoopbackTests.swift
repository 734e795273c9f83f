import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

@Suite("Media: two PeerConnections sending RTP over 127.0.0.1")
struct MediaLoopbackTests {
    @Test("tracks, 500 video + 500 audio packets rewritten and delivered in order, PLI, replaceTrack, direction change, close",
          .timeLimit(.minutes(1)))
    func sendReceive() async throws {
        let a = try mediaPeer(), b = try mediaPeer()
        let links = trickle(a, b)
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "camera", streamId: "stream-1")
        let audio = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "mic", streamId: "stream-1")
        let negotiationNeeded = a.negotiationNeededEvents()
        let videoSender = try a.addTrack(video)
        let audioSender = try a.addTrack(audio)
        #expect(await first(1, of: negotiationNeeded).count == 1)
        let channel = try a.createDataChannel("control")
        let trackEvents = b.trackEvents()
        try await negotiate(a, b)
        let events = await first(2, of: trackEvents)
        try #require(events.count == 2)
        let remoteVideo = try #require(events.first { $0.track.kind == .video }?.track)
        let remoteAudio = try #require(events.first { $0.track.kind == .audio }?.track)
        #expect(events.allSatisfy { $0.streamIds == ["stream-1"] && $0.receiver.track === $0.track })
        #expect(remoteVideo.id == "camera" && remoteAudio.id == "mic")
        #expect(a.transceivers.count == 2 && b.transceivers.count == 2)
        #expect(a.transceivers.allSatisfy { $0.currentDirection == .sendonly && $0.mid != nil })
        #expect(b.transceivers.allSatisfy { $0.currentDirection == .recvonly })
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let videoType = try #require(videoSender.codec?.payloadType)
        let audioType = try #require(audioSender.codec?.payloadType)
        #expect(videoSender.codec?.name == "VP8" && audioSender.codec?.name == "opus")

        let videoReader = TrackReader(remoteVideo), audioReader = TrackReader(remoteAudio)
        var videoProgress = videoReader.progress.makeAsyncIterator(), audioProgress = audioReader.progress.makeAsyncIterator()
        let total = 500, batch = 25
        for start in stride(from: 0, to: total, by: batch) {
            for i in start..<(start + batch) {
                video.write(serverPacket(i, payloadType: 33))
                audio.write(serverPacket(i, payloadType: 44))
            }
            #expect(await videoReader.wait(for: start + batch, &videoProgress))
            #expect(await audioReader.wait(for: start + batch, &audioProgress))
        }
        for (reader, sender, payloadType) in [(videoReader, videoSender, videoType), (audioReader, audioSender, audioType)] {
            let packets = reader.peek(total)
            try #require(packets.count == total)
            for (i, p) in packets.enumerated() {
                #expect(p.ssrc == sender.ssrc && p.payloadType == payloadType)
                #expect(p.payload == serverPacket(i).payload && p.timestamp == serverPacket(i).timestamp)
                if i > 0 { #expect(p.sequenceNumber == packets[i - 1].sequenceNumber &+ 1) }
            }
        }
        #expect(remoteVideo.ssrc == videoSender.ssrc && remoteVideo.droppedPackets == 0)

        // A keyframe request from b reaches a's track.
        let requests = video.keyframeRequests()
        #expect(remoteVideo.requestKeyframe())
        #expect(await first(1, of: requests) == [.pli])
        #expect(video.keyframeRequestCount == 1)
        let audioRequests = audio.keyframeRequests()

        // replaceTrack: the sequence numbers go on.
        let lastSeq = try #require(videoReader.peek(total).last?.sequenceNumber)
        let video2 = LocalTrack(kind: .video, mimeType: "video/VP8", id: "screen")
        try videoSender.replaceTrack(video2)
        #expect(videoSender.track === video2)
        video.write(serverPacket(0))  // the old track sends nothing any more
        for i in 0..<10 { video2.write(serverPacket(1000 + i)) }
        #expect(await videoReader.wait(for: total + 10, &videoProgress))
        let replaced = Array(videoReader.peek(total + 10).suffix(10))
        #expect(replaced.map(\.sequenceNumber) == (1...10).map { lastSeq &+ UInt16($0) })
        #expect(replaced.first?.payload == serverPacket(1000).payload)

        let statsA = await a.stats(), statsB = await b.stats()
        #expect(statsA.outboundRtp.count == 2 && statsA.outboundRtp.allSatisfy { $0.packetsSent >= UInt64(total) })
        #expect(statsB.inboundRtp.count == 2 && statsB.inboundRtp.allSatisfy { $0.packetsReceived >= UInt64(total) })
        #expect(statsB.entries.contains { $0.type == "inbound-rtp" })

        // sendonly → inactive: renegotiated, video stops, audio goes on.
        let videoTransceiver = try #require(a.transceivers.first { $0.kind == .video })
        let needed = a.negotiationNeededEvents()
        try videoTransceiver.setDirection(.inactive)
        #expect(await first(1, of: needed).count == 1)
        try await negotiate(a, b)
        #expect(videoTransceiver.currentDirection == .inactive)
        let dropped = a.core.media.counters.writesDropped
        let videoBefore = remoteVideo.receivedPackets
        for i in 0..<5 { video2.write(serverPacket(2000 + i)) }
        #expect(a.core.media.counters.writesDropped == dropped + 5)
        for i in 0..<5 { audio.write(serverPacket(total + i)) }
        #expect(await audioReader.wait(for: total + 5, &audioProgress))
        #expect(remoteVideo.receivedPackets == videoBefore)

        // close: every track stream ends, no event after.
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
        #expect(remoteVideo.isEnded && remoteAudio.isEnded)
        // The local tracks' keyframe streams finish with the last connection that sends them.
        for await _ in audioRequests {}
        _ = await videoReader.task.value
        _ = await audioReader.task.value
        #expect(await first(3, of: b.trackEvents()).isEmpty)
        #expect(a.transceivers.isEmpty)
    }

    @Test("default policy (reject): the answer rejects media with port 0 and the data channel still opens", .timeLimit(.minutes(1)))
    func rejectedMedia() async throws {
        let a = try mediaPeer(), b = try loopbackPeer()
        let links = trickle(a, b)
        let transceiver = try a.addTransceiver(.video, .init(direction: .sendonly))
        let channel = try a.createDataChannel("only-data")
        let tracks = b.trackEvents()
        try await negotiate(a, b)
        let answer = try #require(b.currentLocalDescription?.sdp)
        #expect(answer.contains("m=video 0 "))
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let incoming = try await firstIncoming(b)
        #expect(incoming.label == "only-data")
        #expect(transceiver.isStopped && transceiver.currentDirection == nil)
        #expect(b.transceivers.isEmpty)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
        #expect(await first(1, of: tracks).isEmpty)
    }
}

