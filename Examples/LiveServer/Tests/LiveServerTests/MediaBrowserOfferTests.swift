import Foundation
import NiceWebRTC
import Testing
@testable import LiveServer

/// Real browsers' offers (the repository's SDP fixtures, Fuzz/seed) answered as WHIP and WHEP
/// offers (nothing connects: the answers are checked).
@Suite("Media: browser offers (Chrome, Firefox fixtures)")
struct MediaBrowserOfferTests {
    static func fixture(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("Fuzz/seed/sdp-\(name).sdp"), encoding: .utf8)
    }

    @Test("Chrome's and Firefox's sendrecv offers publish (VP8 + Opus received); recvonly ones watch (sent)", .timeLimit(.minutes(1)))
    func browserOffers() async throws {
        let (streams, _) = makeStreams()
        for (name, stream) in [("chromeOffer", "chrome"), ("firefoxOffer", "firefox")] {
            let offer = try Self.fixture(name)
            let published = try await streams.publish(stream: stream, offer: offer)
            let sections = try MediaDescription.sections(of: published.sdp).values
            #expect(sections.contains { $0.kind == .video && $0.direction == .recvonly && $0.codecs.first?.name == "VP8" }, "\(name)")
            #expect(sections.contains { $0.kind == .audio && $0.direction == .recvonly && $0.codecs.first?.name == "opus" }, "\(name)")
            #expect(published.sdp.contains("a=candidate:") && published.sdp.contains("a=end-of-candidates"))
            #expect(streams.stream(named: stream)?.codecs == [.video: "video/VP8", .audio: "audio/opus"])

            let watching = try await streams.watch(stream: stream, offer: offer.replacingOccurrences(of: "a=sendrecv", with: "a=recvonly"))
            let sent = try MediaDescription.sections(of: watching.sdp).values
            #expect(sent.contains { $0.kind == .video && $0.direction == .sendonly && $0.codecs.first?.name == "VP8" && !$0.msid.isEmpty })
            #expect(sent.contains { $0.kind == .audio && $0.direction == .sendonly && !$0.msid.isEmpty })
        }
        #expect(streams.allSessions().count == 4)
        await streams.shutdown()
    }
}
