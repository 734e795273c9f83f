import NiceICECore

/// What ``Negotiation`` restores on a rollback: the values of the last stable state that an
/// offer may have changed.
struct NegotiationSnapshot: Sendable, Hashable {
    var iceRole: IceRole?
    var dataMid: String?
    var dataMLineIndex: Int?
    var remoteIce: IceParameters?
    var remoteIceLite: Bool
    var localIce: IceParameters
    var transceivers: [MediaTransceiver]
}
