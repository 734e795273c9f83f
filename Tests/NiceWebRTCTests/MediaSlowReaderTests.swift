import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// Issue 19's "a stream whose receiver never reads slows nothing else": a remote track whose
/// packet stream nobody reads keeps only its newest packets (bounded, drops counted), and the
/// other track of the same session, on the same transport, gets every packet in order.
@Suite("Media: a track nobody reads")
struct MediaSlowReaderTests {
    @Test("a video stream nobody reads keeps its newest 16 packets and counts the rest; audio beside it gets all 500, in order",
          .timeLimit(.minutes(1)))
    func unreadTrackSlowsNothing() async throws {
        let p = try await MediaFramesTests.Pair.make()
        let unread = p.remoteVideo.packets(bufferCapacity: 16)
        let reader = TrackReader(p.remoteAudio)
        var progress = reader.progress.makeAsyncIterator()
        let batches = 20, videoPerBatch = 100, audioPerBatch = 25
        for batch in 0..<batches {
            for i in 0..<videoPerBatch { p.video.write(serverPacket(batch * videoPerBatch + i)) }
            for i in 0..<audioPerBatch { p.audio.write(serverPacket(batch * audioPerBatch + i, payloadType: 111)) }
            // Audio goes after each video batch on the same transport: once it is read, the
            // video before it has been handled too (no sleep, no socket overrun).
            #expect(await reader.wait(for: (batch + 1) * audioPerBatch, &progress), "batch \(batch)")
        }
        let audio = reader.peek(batches * audioPerBatch)
        #expect(audio.map { $0.timestamp / 3000 } == (0..<UInt32(batches * audioPerBatch)).map { $0 })
        #expect(p.remoteAudio.droppedPackets == 0)

        let videoTotal = batches * videoPerBatch
        let dropped = p.remoteVideo.droppedPackets
        #expect(dropped >= UInt64(videoTotal - 16 - 50) && dropped <= UInt64(videoTotal - 16), "dropped \(dropped)")
        await p.close()
        _ = await reader.task.value
        // Closed: the stream hands over what it kept, the newest, and ends.
        var kept: [UInt32] = []
        for await packet in unread { kept.append(packet.timestamp / 3000) }
        #expect(kept.count == 16 && kept == kept.sorted() && (kept.last ?? 0) == UInt32(videoTotal - 1), "\(kept)")
    }
}
