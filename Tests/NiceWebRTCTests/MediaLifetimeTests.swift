import Foundation
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// Weak references to one side's media objects.
struct WeakMedia: Sendable {
    // Sendable: only read from the test task after the session ended.
    nonisolated(unsafe) weak var pc: PeerConnection?
    nonisolated(unsafe) weak var session: MediaSession?
    nonisolated(unsafe) weak var transceiver: RtpTransceiver?
    nonisolated(unsafe) weak var remoteTrack: RemoteTrack?
    nonisolated(unsafe) weak var localTrack: LocalTrack?

    var alive: String {
        [pc.map { _ in "PeerConnection" }, session.map { _ in "MediaSession" }, transceiver.map { _ in "RtpTransceiver" },
         remoteTrack.map { _ in "RemoteTrack" }, localTrack.map { _ in "LocalTrack" }].compactMap { $0 }.joined(separator: ", ")
    }
}

/// One media session whose handlers capture the objects (the cycles people write), closed.
func mediaSessionThenClose() async throws -> (WeakMedia, WeakMedia) {
    var wa = WeakMedia(), wb = WeakMedia()
    let a = try mediaPeer(), b = try mediaPeer()
    let links = trickle(a, b)
    let video = LocalTrack(kind: .video, mimeType: "video/VP8", id: "v")
    try a.addTrack(video)
    let channel = try a.createDataChannel("c")
    b.trackHandler = { event in
        // A handler that captures the connection and the track (a cycle close must break).
        _ = b.transceivers
        Task { for await _ in event.track.packets() {} }
        Task { for await _ in event.track.frames() {} }
    }
    let tracks = b.trackEvents()
    try await negotiate(a, b)
    let event = try #require(await first(1, of: tracks).first)
    try await channel.waitUntilOpen(timeout: .seconds(20))
    for i in 0..<20 { video.write(serverPacket(i)) }
    // Frames too: the binding's packetizer and the remote track's assembler are released with them.
    for _ in 0..<5 { try video.write(frame: [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 3, count: 2500), duration: .milliseconds(33)) }
    wa.pc = a
    wa.session = a.core.media
    wa.transceiver = a.transceivers.first
    wa.localTrack = video
    wb.pc = b
    wb.session = b.core.media
    wb.transceiver = event.transceiver
    wb.remoteTrack = event.track
    links.forEach { $0.cancel() }
    await a.closeAndWait()
    await b.closeAndWait()
    return (wa, wb)
}

@Suite("Media: lifetime")
struct MediaLifetimeTests {
    @Test("after close, PeerConnections, MediaSessions, transceivers and tracks (packet and frame streams open) are released", .timeLimit(.minutes(1)))
    func releasedAfterClose() async throws {
        let (wa, wb) = try await mediaSessionThenClose()
        #expect(await eventually(.seconds(5)) { wa.alive.isEmpty }, "a still alive: \(wa.alive)")
        #expect(await eventually(.seconds(5)) { wb.alive.isEmpty }, "b still alive: \(wb.alive)")
    }
}
