import Testing

@testable import NiceICE

/// One direction of an ordered signalling channel, as between a browser and a server: the offer
/// or answer (parameters) goes before the candidates that belong to it. Candidates produced before
/// the peer has our current parameters (for example right after `restartIce()`) are held back.
///
/// Nothing is swallowed: a candidate the peer refuses is a test failure. Candidates are posted from
/// the handler queue, outside the test's task, where an issue could not be attributed to the test;
/// so `post` keeps the error and ``reportErrors(_:)`` (called by the harnesses' waits and closes,
/// in the test's task) records it. Errors still unreported when the channel is released are
/// recorded then, unattributed, which still fails the run.
final class OrderedSignalling: Sendable {
    private let outbox = Locked<(delivered: String?, held: [IceCandidate?])>((nil, []))
    private let unreported = Locked<[String]>([])

    /// Sends `candidate` (nil = end-of-candidates) from `local` to `remote` now, or holds it.
    func post(_ candidate: IceCandidate?, from local: IceTransport, to remote: IceTransport) {
        let ufrag = local.localParameters.usernameFragment
        let send = outbox.withLock { box -> Bool in
            if box.delivered == ufrag { return true }
            box.held.append(candidate)
            return false
        }
        guard send else { return }
        do {
            try remote.addIceCandidate(candidate)
        } catch {
            unreported.withLock { $0.append(Self.describe(candidate, error)) }
        }
    }

    /// Gives `remote` the current parameters of `local` (optionally altered), then what was held.
    /// Throws the first error of either (every held candidate is still offered).
    func deliverParameters(
        from local: IceTransport, to remote: IceTransport,
        _ transform: @Sendable (IceParameters) -> IceParameters = { $0 }
    ) throws {
        let parameters = local.localParameters
        try remote.setRemoteParameters(transform(parameters))
        let held = outbox.withLock { box in
            box.delivered = parameters.usernameFragment
            defer { box.held = [] }
            return box.held
        }
        var firstError: SignallingError?
        for c in held {
            do {
                try remote.addIceCandidate(c)
            } catch {
                firstError = firstError ?? SignallingError(description: Self.describe(c, error))
            }
        }
        if let firstError { throw firstError }
    }

    /// Records every error `post` met since the last call as an issue of the current test.
    func reportErrors(_ who: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = unreported.withLock { errors in
            defer { errors = [] }
            return errors
        }
        for e in errors { Issue.record("\(who) signalling: \(e)", sourceLocation: sourceLocation) }
    }

    deinit {
        for e in unreported.withLock({ $0 }) { Issue.record("signalling error never reported by the test: \(e)") }
    }

    struct SignallingError: Error, CustomStringConvertible {
        var description: String
    }

    private static func describe(_ candidate: IceCandidate?, _ error: IceError) -> String {
        "addIceCandidate(\(candidate.map { "\($0)" } ?? "end-of-candidates")) threw \(error)"
    }
}
