import NiceICECore

/// The W3C `RTCPeerConnectionState` (`connectionState`): the aggregate of the ICE and DTLS
/// transports' states.
public enum PeerConnectionState: String, Sendable, Hashable, CaseIterable {
    case new, connecting, connected, disconnected, failed, closed

    /// The state of a connection with one ICE transport and one DTLS transport (BUNDLE), by the
    /// rules of webrtc-pc's `RTCPeerConnectionState` table, applied in its order:
    ///
    /// 1. `closed` — the connection is closed (``IceConnectionState/closed``).
    /// 2. `failed` — ICE is `failed` or DTLS is `failed`.
    /// 3. `disconnected` — ICE is `disconnected`.
    /// 4. `new` — ICE is `new` (or `closed`) and DTLS is `new` (or `closed`).
    /// 5. `connecting` — ICE is `new` or `checking`, or DTLS is `new` or `connecting`.
    /// 6. `connected` — ICE is `connected`, `completed` (or `closed`) and DTLS is `connected` (or
    ///    `closed`).
    ///
    /// As in the table, a DTLS transport the peer closed (close_notify) leaves the connection
    /// `connected` while ICE is: it counts like a closed transport, not like a failed one.
    public static func aggregate(ice: IceConnectionState, dtls: DtlsTransportState) -> PeerConnectionState {
        if ice == .closed { return .closed }
        if ice == .failed || dtls == .failed { return .failed }
        if ice == .disconnected { return .disconnected }
        if ice == .new && (dtls == .new || dtls == .closed) { return .new }
        if ice == .new || ice == .checking || dtls == .new || dtls == .connecting { return .connecting }
        return .connected  // ICE connected/completed, DTLS connected/closed
    }
}

/// A change of ``PeerConnectionState`` with the transport states that caused it.
public struct PeerConnectionStateChange: Sendable, Hashable, CustomStringConvertible {
    public var state: PeerConnectionState
    /// The ICE state (and its reason) at the change.
    public var ice: IceStateChange
    /// The DTLS state (and its reason) at the change.
    public var dtls: DtlsTransportStateChange

    public init(state: PeerConnectionState, ice: IceStateChange, dtls: DtlsTransportStateChange) {
        self.state = state
        self.ice = ice
        self.dtls = dtls
    }

    public var description: String { "\(state.rawValue) (ICE \(ice), DTLS \(dtls))" }
}
