// A whole session against the server on 127.0.0.1, with a Swift PeerConnection as the page: the
// signalling contract of docs/echo-signalling.md (offer, answer first, trickle both ways, states),
// the echo on two channels, an ICE restart offered mid-session, and the page's bye.
import Foundation
import NiceWebRTC
import Synchronization
import Testing

@testable import EchoServer

@Suite("EchoServer sessions, with a Swift PeerConnection as the page")
struct EchoSessionTests {
    @Test("offer, answer, trickle, echo on two channels, ICE restart, bye", .timeLimit(.minutes(1)))
    func session() async throws {
        try await EchoServerPolicyTests().withServer { port, registry in
            try await withConnection(port) { wire in
                try await wire.send(upgradeRequest(port: port, origin: nil))
                #expect(try await wire.readHead()?.status == 101)
                let page = try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"]))
                defer { page.close() }
                let candidates = Candidates(page)
                let echo = try page.createDataChannel("echo")
                let unordered = try page.createDataChannel("unordered", options: DataChannelOptions(ordered: false, maxRetransmits: 3))
                var server = ServerSide()

                let first = try await negotiate(page, over: wire, candidates: candidates, server: &server)
                try await echo.waitUntilOpen(timeout: .seconds(10))
                try await unordered.waitUntilOpen(timeout: .seconds(10))
                try await expectEcho(on: echo, .text("hello"))
                try await expectEcho(on: unordered, .binary([0, 1, 2, 255]))

                page.restartIce()
                let second = try await negotiate(page, over: wire, candidates: candidates, server: &server)
                #expect(second != first, "the server answered the restart with its old ufrag")
                #expect(page.iceTransport.remoteParameters?.usernameFragment == second)
                try await expectEcho(on: echo, .text("after the restart"))

                // The states the server reported so far; the page's bye ends the session with
                // every layer closed and no bye back.
                try await wire.sendText(#"{"type":"bye"}"#)
                while let text = try await wire.readTextMessage() { try server.take(text) }
                #expect(server.bye == nil)
                #expect(server.errors.isEmpty, "\(server.errors)")
                for layer in ["ice", "connection", "dtls", "sctp"] {
                    #expect(server.history[layer]?.last == "closed", "\(layer): \(server.history[layer] ?? [])")
                }
                #expect(server.history["connection"]?.contains("connected") == true)
                #expect(server.history["dtls"]?.first == "new" && server.history["dtls"]?.contains("connected") == true)
                #expect(server.history["channel echo"] == ["open", "closed"], "\(server.history)")
                #expect(server.pairs > 0)
            }
            #expect(registry.count == 0 || registry.count == 1)  // removed once its sockets are released
        }
    }

    /// One offer/answer round: the page's offer and candidates out, the server's answer (which
    /// must come before its candidates) and candidates in, up to its end-of-candidates. Returns
    /// the server's ufrag.
    func negotiate(_ page: PeerConnection, over wire: Wire, candidates: Candidates, server: inout ServerSide) async throws -> String? {
        let offer = try await page.setLocalDescription()
        let ufrag = Self.ufrag(of: offer.sdp)
        try await wire.sendText(Self.json(["type": "offer", "sdp": offer.sdp]))
        for candidate in await candidates.round(ufrag: ufrag) {
            try await wire.sendText(Self.json([
                "type": "candidate", "candidate": candidate.candidate, "sdpMid": candidate.sdpMid ?? "0",
                "sdpMLineIndex": candidate.sdpMLineIndex ?? 0, "usernameFragment": candidate.usernameFragment ?? "",
            ]))
        }
        try await wire.sendText(#"{"type":"end-of-candidates"}"#)
        var answered: String?
        while let text = try await wire.readTextMessage() {
            let message = try server.take(text)
            switch message["type"] as? String {
            case "answer":
                let sdp = try #require(message["sdp"] as? String)
                try await page.setRemoteDescription(SessionDescription(type: .answer, sdp: sdp))
                answered = Self.ufrag(of: sdp)
            case "candidate":
                try #require(answered != nil, "a candidate before the answer: \(text)")
                #expect(message["usernameFragment"] as? String == answered)
                try await page.addIceCandidate(IceCandidateInit(
                    candidate: try #require(message["candidate"] as? String), sdpMid: message["sdpMid"] as? String,
                    sdpMLineIndex: message["sdpMLineIndex"] as? Int, usernameFragment: message["usernameFragment"] as? String))
            case "end-of-candidates":
                try #require(answered != nil, "end-of-candidates before the answer")
                try await page.addIceCandidate(nil)
                return answered
            default:
                continue
            }
        }
        Issue.record("the server closed the WebSocket during the negotiation")
        return nil
    }

    func expectEcho(on channel: DataChannel, _ message: DataChannelMessage) async throws {
        var messages = channel.messages().makeAsyncIterator()
        try await channel.write(message)
        #expect(await messages.next() == message)
    }

    static func ufrag(of sdp: String) -> String? {
        sdp.split(whereSeparator: \.isNewline).first { $0.hasPrefix("a=ice-ufrag:") }.map { String($0.dropFirst(12)) }
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
}

/// What the server said: each layer's states in order (channels as `channel LABEL`), selected
/// pairs, errors, bye.
struct ServerSide {
    var history: [String: [String]] = [:]
    var pairs = 0
    var errors: [String] = []
    var bye: String?

    @discardableResult
    mutating func take(_ text: String) throws -> [String: Any] {
        let message = try #require(jsonObject(text), "not a JSON object: \(text)")
        switch message["type"] as? String {
        case "state":
            let layer = try #require(message["layer"] as? String)
            let key = layer == "channel" ? "channel \(message["label"] as? String ?? "?")" : layer
            history[key, default: []].append(try #require(message["state"] as? String))
        case "pair": pairs += 1
        case "error": errors.append(text)
        case "bye": bye = message["reason"] as? String
        default: break
        }
        return message
    }
}

/// The page's local candidates, from its handler, by ICE generation (ufrag).
final class Candidates: Sendable {
    private let state = Mutex<(rounds: [String: [IceCandidateInit]], waiter: (ufrag: String, k: CheckedContinuation<[IceCandidateInit], Never>)?)>(([:], nil))

    init(_ page: PeerConnection) {
        page.iceCandidateHandler = { [weak self] candidate in
            guard let self, let candidate, let ufrag = candidate.usernameFragment else { return }
            let done = self.state.withLock { s -> (CheckedContinuation<[IceCandidateInit], Never>, [IceCandidateInit])? in
                s.rounds[ufrag, default: []].append(candidate)
                guard candidate.isEndOfCandidates, let waiter = s.waiter, waiter.ufrag == ufrag else { return nil }
                s.waiter = nil
                return (waiter.k, s.rounds[ufrag, default: []].filter { !$0.isEndOfCandidates })
            }
            if let (k, round) = done { k.resume(returning: round) }
        }
    }

    /// The candidates of the round with this ufrag, once it ended.
    func round(ufrag: String?) async -> [IceCandidateInit] {
        guard let ufrag else { return [] }
        return await withCheckedContinuation { k in
            let ready = state.withLock { s -> [IceCandidateInit]? in
                if let round = s.rounds[ufrag], round.contains(where: \.isEndOfCandidates) { return round.filter { !$0.isEndOfCandidates } }
                s.waiter = (ufrag, k)
                return nil
            }
            if let ready { k.resume(returning: ready) }
        }
    }
}
