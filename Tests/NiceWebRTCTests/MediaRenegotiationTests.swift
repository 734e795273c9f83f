import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

@Suite("Media: the answerer sends back")
struct MediaRenegotiationTests {
    @Test("track event at setRemoteDescription(offer); addTrack reuses the remote offer's transceiver; b → a learnt by mid",
          .timeLimit(.minutes(1)))
    func answererSendsBack() async throws {
        let a = try mediaPeer(), b = try mediaPeer()
        let links = trickle(a, b)
        let toB = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "a-mic", streamId: "a-stream")
        try a.addTrack(toB)
        let channel = try a.createDataChannel("c")
        let bTracks = b.trackEvents()
        // W3C: the answerer's track event fires during setRemoteDescription(offer).
        try await b.setRemoteDescription(try await a.setLocalDescription())
        let fromA = try #require(await first(1, of: bTracks).first)
        #expect(fromA.track.kind == .audio && fromA.streamIds == ["a-stream"] && fromA.track.id == "a-mic")
        #expect(b.signalingState == .haveRemoteOffer)
        try await a.setRemoteDescription(try await b.setLocalDescription())
        try await channel.waitUntilOpen(timeout: .seconds(20))

        // b sends back on the same transceiver (W3C addTrack reuse), after a renegotiation it offers.
        let toA = LocalTrack(kind: .audio, mimeType: "audio/opus", id: "b-mic")
        let needed = b.negotiationNeededEvents()
        let sender = try b.addTrack(toA)
        #expect(b.transceivers.count == 1 && sender === fromA.transceiver.sender)
        #expect(fromA.transceiver.direction == .sendrecv)
        #expect(await first(1, of: needed).count == 1)
        let aTracks = a.trackEvents()
        try await negotiate(b, a)
        let back = try #require(await first(1, of: aTracks).first)
        #expect(back.track.kind == .audio && fromA.transceiver.currentDirection == .sendrecv)
        let reader = TrackReader(back.track)
        var progress = reader.progress.makeAsyncIterator()
        for i in 0..<50 { try toA.write(rtp: try serverPacket(i).serialized()) }
        #expect(await reader.wait(for: 50, &progress))
        let packets = reader.peek(50)
        #expect(packets.allSatisfy { $0.ssrc == sender.ssrc && $0.payloadType == sender.codec?.payloadType })
        #expect(packets.enumerated().allSatisfy { $0.element.payload == serverPacket($0.offset).payload })
        #expect(back.track.ssrc == sender.ssrc)
        // b's transceiver came from a's offer: no a=ssrc line, a learnt the SSRC from the mid extension.
        #expect(a.core.media.state.withLock { $0.learnt } == 1)
        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
    }
}
