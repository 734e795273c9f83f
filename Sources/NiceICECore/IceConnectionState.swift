/// The ICE connection state of a ``IceTransport``, with exactly the seven values and meanings of
/// W3C `RTCIceConnectionState`.
///
/// The value aggregates every component of every stream (W3C order: any `failed` wins, then any
/// `disconnected`, then all `new`, then any `new`/`checking`, then all `completed`, then all
/// `connected`/`completed`). See <doc:StateMachine> for how libnice's component states map here.
public enum IceConnectionState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Gathering or waiting for remote candidates; no connectivity check has started.
    case new
    /// Remote candidates are known and connectivity checks are running; nothing nominated yet.
    case checking
    /// A usable (nominated) candidate pair exists for every component; checks may still be running,
    /// or the remote side has not signalled end-of-candidates yet.
    case connected
    /// Checks are finished, both sides signalled end-of-candidates, and every component has a
    /// selected pair.
    case completed
    /// Checks failed with all candidates known, or a `disconnected` state outlasted the grace period.
    /// Terminal until ``IceTransport/restartIce()``.
    case failed
    /// Connectivity was lost (consent expired or was revoked) or every pair failed while more
    /// candidates may still come. Becomes `failed` after the configured grace period.
    case disconnected
    /// ``IceTransport/close()`` was called. Terminal; set without any event.
    case closed

    public var description: String { rawValue }
}

/// W3C `RTCIceGatheringState`.
public enum IceGatheringState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Gathering has not started.
    case new
    /// Local candidates are being gathered.
    case gathering
    /// Every stream finished gathering; the end-of-candidates (`nil`) candidate was delivered.
    case complete

    public var description: String { rawValue }
}

/// Why the ICE connection state changed, where libnice or the wrapper knows it.
public enum IceStateChangeReason: String, Sendable, Hashable, CustomStringConvertible {
    /// The first candidate pair was formed and connectivity checks started.
    case checksStarted
    /// A candidate pair was nominated and selected.
    case pairSelected
    /// All checks finished and both sides signalled end-of-candidates.
    case checksCompleted
    /// A new candidate pair (a late remote candidate or a peer-reflexive one) reopened checks.
    case newCandidatePair
    /// Every candidate pair failed (no response, or an error response such as a 401 for wrong
    /// credentials, which libnice does not tell apart).
    case checksExhausted
    /// RFC 7675 consent to send expired or was revoked by the peer (403), or the selected TCP
    /// connection closed, after the connection was up.
    case consentLost
    /// ``IceTransport/restartIce()`` or a remote ICE restart.
    case iceRestart
    /// The agent could not be set up: no local port could be bound, a STUN/TURN host name did not
    /// resolve, or libnice refused the configuration. ``IceTransport/setupError`` says which.
    /// The state stays `failed`; create a new connection.
    case setupFailed
    /// The peer made libnice learn more peer-reflexive candidates than
    /// ``IceTransport/Configuration/maximumPeerReflexiveCandidates`` in one ICE generation:
    /// authenticated checks from that many source addresses, which no browser or ICE agent sends
    /// (each is a new address libnice keeps, scans on every packet and checks back). The
    /// connection is `failed` for good and its agent is released; create a new one.
    case peerReflexiveFlood

    public var description: String { rawValue }
}

/// One change of ``IceConnectionState``, as delivered to ``IceTransport/stateUpdateHandler``
/// and ``IceTransport/stateChanges()``.
public struct IceStateChange: Sendable, Hashable, CustomStringConvertible {
    /// The new state.
    public var state: IceConnectionState
    /// Why it changed, when known. A `failed` that follows `disconnected` keeps the reason of the
    /// `disconnected` (for example ``IceStateChangeReason/consentLost``).
    public var reason: IceStateChangeReason?
    /// When NiceICE produced the change: inside libnice's signal handler on the GLib thread (or
    /// when the grace timer fired). For measuring delivery latency; not part of equality.
    @_spi(Benchmarks) public var producedAt: ContinuousClock.Instant

    /// Creates a state change.
    public init(state: IceConnectionState, reason: IceStateChangeReason?) {
        self.state = state
        self.reason = reason
        self.producedAt = .now
    }

    public static func == (a: IceStateChange, b: IceStateChange) -> Bool {
        a.state == b.state && a.reason == b.reason
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(state)
        hasher.combine(reason)
    }

    public var description: String {
        reason.map { "\(state) (\($0))" } ?? state.rawValue
    }
}
