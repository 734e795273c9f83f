import Logging
import NiceWebRTC

/// The client's `a=end-of-candidates` for an ICE generation it restarted, held until that
/// generation selected a pair.
///
/// After an ICE restart the server's agent (libnice, controlled) keeps the previous selected pair
/// for the media while the new generation's checks run, and waits for the browser (controlling)
/// to nominate a new pair. Once it has the peer's end-of-candidates it gives that nomination
/// about 6 s, then fails the whole connection, and the session ends. Chromium moves to the new
/// generation only when the new pair ranks at least as well as the previous one, or once the
/// previous pair stops being answered (the server's old credentials are gone: ~5 s of
/// unanswered checks). With several local networks (the test on 127.0.0.1: the previous pair's
/// local side is another interface than the one that reaches the server's new candidate) the two
/// delays race (browser-test/README.md, "ICE restart and end-of-candidates"). The end-of-candidates
/// only lets ICE give up early, so it waits for the new generation's first selected pair; a
/// generation that never selects one stays as it would without it.
struct RestartEndOfCandidates: Sendable {
    /// Counts the session's restarts: a newer restart makes an older one's wait moot.
    var generation = 0
    /// The generation waiting for its selected pair (nil: none).
    var waiting: Int?
    /// Whether the client's end-of-candidates for `waiting` came.
    var held = false

    /// A new restart: its end-of-candidates waits. Returns the restart's generation.
    mutating func begin() -> Int {
        generation += 1
        waiting = generation
        held = false
        return generation
    }

    /// `fragment` without its end-of-candidates while a restarted generation waits (the
    /// end-of-candidates is remembered).
    mutating func hold(_ fragment: TrickleIceFragment) -> TrickleIceFragment {
        guard fragment.endOfCandidates, waiting != nil else { return fragment }
        held = true
        var kept = fragment
        kept.endOfCandidates = false
        return kept
    }

    /// The restart `generation` selected a pair (or failed to start): whether its held
    /// end-of-candidates is to be applied now.
    mutating func release(_ generation: Int) -> Bool {
        guard waiting == generation else { return false }
        defer {
            waiting = nil
            held = false
        }
        return held
    }
}

extension LiveStreams {
    /// Waits (in a task bound to the connection's life) for the restarted generation's first
    /// selected pair: a pair other than `previous` (the one in effect once the restart offer was
    /// applied: libnice keeps it for the media) on `pairs` (subscribed after reading `previous`,
    /// so a selection in between is not missed), then applies the end-of-candidates held
    /// meanwhile.
    func releaseEndOfCandidates(of session: LiveSession, generation: Int, after previous: CandidatePair?, pairs: AsyncStream<CandidatePair>) {
        let connection = session.connection
        let logger = self.logger
        Task {
            for await pair in pairs {
                if pair == previous { continue }
                // A newer restart took over (its own task waits).
                guard session.withState({ $0.restartEnd.waiting == generation }) else { return }
                let apply = session.withState { $0.restartEnd.release(generation) }
                logger.debug("ICE restart of \(session.id): the new generation selected \(pair)\(apply ? "; the client's end-of-candidates applied" : "")")
                if apply { try? await connection.addIceCandidate(nil) }
                return
            }
        }
    }
}
