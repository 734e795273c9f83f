import Dispatch
import Foundation
import NiceICE
import NiceWebRTC
import Synchronization
import Testing

/// A PeerConnection on 127.0.0.1 only.
func loopbackPeer(queue: DispatchQueue? = nil) throws -> PeerConnection {
    try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"], queue: queue))
}

/// Forwards each side's local candidates to the other as they are signalled; cancel (or close
/// both) to stop.
func trickle(_ a: PeerConnection, _ b: PeerConnection) -> [Task<Void, Never>] {
    [
        Task { [weak b] in for await c in a.iceCandidates() { try? await b?.addIceCandidate(c) } },
        Task { [weak a] in for await c in b.iceCandidates() { try? await a?.addIceCandidate(c) } },
    ]
}

/// One offer/answer exchange, `offerer` first.
func negotiate(_ offerer: PeerConnection, _ answerer: PeerConnection) async throws {
    let offer = try await offerer.setLocalDescription()
    try await answerer.setRemoteDescription(offer)
    let answer = try await answerer.setLocalDescription()
    try await offerer.setRemoteDescription(answer)
}

/// The first channel the peer opens on `pc`.
func firstIncoming(_ pc: PeerConnection, timeout: Duration = .seconds(20)) async throws -> DataChannel {
    let stream = pc.incomingDataChannels()
    let channel = await withDeadline(timeout) { await stream.first { _ in true } } ?? nil
    return try #require(channel, "no incoming data channel within \(timeout)")
}

/// The next message on a channel.
func nextMessage(_ channel: DataChannel, timeout: Duration = .seconds(20)) async throws -> DataChannelMessage {
    let message = await withDeadline(timeout) { () async -> DataChannelMessage? in
        var it = channel.messages().makeAsyncIterator()
        return await it.next()
    } ?? nil
    return try #require(message, "no message within \(timeout)")
}

/// What a signalling channel carries between two peers, and (never sent) a side's own
/// `negotiationneeded`, queued with what arrives so one task handles both in order.
enum Signal: Sendable {
    case description(SessionDescription)
    case candidate(IceCandidateInit?)
    case negotiationNeeded
}

/// W3C's perfect negotiation between two PeerConnections (webrtc-pc §10.7): each side answers
/// `negotiationneeded` with the implicit `setLocalDescription()`, the impolite side ignores an
/// offer that collides with its own, the polite side rolls its own back (implicitly, inside
/// `setRemoteDescription`). Signals travel in order through one stream per direction. Each side
/// handles its signals and its own `negotiationneeded` one at a time, as the browser's single
/// thread does for the W3C example (handled concurrently, an offer made while a remote offer was
/// being answered turned into a second answer).
final class PerfectNegotiation: Sendable {
    final class Side: Sendable {
        let pc: PeerConnection
        let polite: Bool
        let makingOffer = Mutex(false)
        let ignoreOffer = Mutex(false)
        let errors = Mutex<[String]>([])
        let outbox: AsyncStream<Signal>.Continuation
        let inbox: AsyncStream<Signal>
        let inboxInput: AsyncStream<Signal>.Continuation

        init(pc: PeerConnection, polite: Bool, outbox: AsyncStream<Signal>.Continuation, inbox: AsyncStream<Signal>,
             inboxInput: AsyncStream<Signal>.Continuation) {
            self.pc = pc
            self.polite = polite
            self.outbox = outbox
            self.inbox = inbox
            self.inboxInput = inboxInput
        }

        func record(_ error: any Error) {
            errors.withLock { $0.append("\(polite ? "polite" : "impolite"): \(error)") }
        }

        /// The W3C example's `onnegotiationneeded` (a browser fires it only in stable).
        func negotiationNeeded() async {
            guard pc.signalingState == .stable else { return }
            makingOffer.withLock { $0 = true }
            defer { makingOffer.withLock { $0 = false } }
            do {
                let description = try await pc.setLocalDescription()
                outbox.yield(.description(description))
            } catch {
                record(error)
            }
        }

        /// The W3C example's `onmessage`, one signal at a time.
        func receive(_ signal: Signal) async {
            switch signal {
            case .negotiationNeeded:
                await negotiationNeeded()
            case .description(let description):
                let collision = description.type == .offer && (makingOffer.withLock { $0 } || pc.signalingState != .stable)
                let ignore = !polite && collision
                ignoreOffer.withLock { $0 = ignore }
                if ignore { return }
                do {
                    try await pc.setRemoteDescription(description)
                    if description.type == .offer {
                        outbox.yield(.description(try await pc.setLocalDescription()))
                    }
                } catch {
                    record(error)
                }
            case .candidate(let candidate):
                do {
                    try await pc.addIceCandidate(candidate)
                } catch {
                    if !ignoreOffer.withLock({ $0 }) { record(error) }
                }
            }
        }
    }

    let impolite: Side
    let polite: Side
    let tasks: Mutex<[Task<Void, Never>]> = Mutex([])

    init(impolite a: PeerConnection, polite b: PeerConnection) {
        let (toB, toBk) = AsyncStream.makeStream(of: Signal.self)
        let (toA, toAk) = AsyncStream.makeStream(of: Signal.self)
        impolite = Side(pc: a, polite: false, outbox: toBk, inbox: toA, inboxInput: toAk)
        polite = Side(pc: b, polite: true, outbox: toAk, inbox: toB, inboxInput: toBk)
        var started: [Task<Void, Never>] = []
        for side in [impolite, polite] {
            let own = side.inboxInput
            side.pc.negotiationNeededHandler = { own.yield(.negotiationNeeded) }
            let pc = side.pc, outbox = side.outbox
            started.append(Task { for await c in pc.iceCandidates() { outbox.yield(.candidate(c)) } })
            started.append(Task { [weak side] in
                guard let inbox = side?.inbox else { return }
                for await signal in inbox {
                    guard let side else { return }
                    await side.receive(signal)
                }
            })
        }
        tasks.withLock { $0 = started }
    }

    var errors: [String] { impolite.errors.withLock { $0 } + polite.errors.withLock { $0 } }

    func stop() {
        impolite.outbox.finish()
        polite.outbox.finish()
        tasks.withLock { ts in
            for t in ts { t.cancel() }
            ts = []
        }
    }
}
