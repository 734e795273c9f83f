import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// W3C `sctp` is null until a data section is negotiated: a media-only session (a WHIP ingest)
/// has none; the renegotiation that adds a data channel brings it.
@Suite("Media: PeerConnection.sctp in a media-only session")
struct MediaSctpPresenceTests {
    @Test("media only: sctp nil on both sides while media flows; a data channel's renegotiation sets it",
          .timeLimit(.minutes(1)))
    func sctpOnlyWhenNegotiated() async throws {
        let a = try mediaPeer(), b = try mediaPeer()
        let links = trickle(a, b)
        let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v")
        try a.addTrack(video, streamIds: ["s"])
        let tracks = b.trackEvents()
        #expect(a.sctp == nil && b.sctp == nil)
        try await negotiate(a, b)
        let remote = try #require(await first(1, of: tracks).first?.track)
        let reader = TrackReader(remote)
        var progress = reader.progress.makeAsyncIterator()
        // SRTP keys come with DTLS: a packet written before both sides are connected is dropped.
        try await a.dtlsTransport.waitUntilConnected(timeout: .seconds(20))
        try await b.dtlsTransport.waitUntilConnected(timeout: .seconds(20))
        video.write(serverPacket(0))
        #expect(await reader.wait(for: 1, &progress), "media flows (DTLS-SRTP is up)")
        #expect(a.sctp == nil && b.sctp == nil, "no data section negotiated")
        #expect(a.sctpTransport.state != .connected && b.sctpTransport.state != .connected)

        // A data channel: its renegotiation adds the data section and SCTP comes up.
        let needed = a.negotiationNeededEvents()
        let channel = try a.createDataChannel("late")
        #expect(await first(1, of: needed).count == 1)
        #expect(a.sctp == nil, "not before the exchange completes")
        try await negotiate(a, b)
        try await channel.waitUntilOpen(timeout: .seconds(20))
        let sctpA = try #require(a.sctp), sctpB = try #require(b.sctp)
        #expect(sctpA === a.sctpTransport && sctpB === b.sctpTransport && sctpA.state == .connected)

        links.forEach { $0.cancel() }
        await a.closeAndWait()
        await b.closeAndWait()
        _ = await reader.task.value
        #expect(a.sctp?.state == .closed, "closing keeps the negotiated transport, closed")
    }
}
