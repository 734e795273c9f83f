import Synchronization

/// A protocol layer that runs on top of a connection's component 1 — NiceWebRTC's DTLS transport —
/// and takes its datagrams instead of the receive handler and streams (package-internal: the hook
/// between the two products, not public API).
package protocol IceUpperLayer: AnyObject, Sendable {
    /// Each datagram received on component 1 while the layer is attached, on the context thread,
    /// inside libnice's receive callback (no NiceICE or libnice lock held). The bytes are valid only
    /// during the call.
    func iceDidReceive(_ bytes: UnsafeRawBufferPointer)
    /// ``IceTransport/iceConnectionState`` may have changed (also on `close()`). Called on the thread
    /// that changed it, with no lock held; read the state again rather than relying on call order.
    func iceStateDidChange()
}

/// The attached layer, held weakly: the layer owns the connection, not the other way round.
struct UpperLayerSlot: Sendable {
    weak var layer: (any IceUpperLayer)?
}

extension IceTransport {
    /// Attaches the layer above ICE. False when one is attached already or the connection is closed.
    /// From then on component 1's datagrams go to the layer only (counted in ``counters`` as
    /// `datagramsArrived`, but neither as received nor dropped: the layer counts what it does with them).
    package func attachUpperLayer(_ layer: any IceUpperLayer) -> Bool {
        let attached = hub.upper.withLock { slot -> Bool in
            guard slot.layer == nil, !hub.isClosed else { return false }
            slot.layer = layer
            return true
        }
        if attached { hub.hasUpperLayer.store(true, ordering: .releasing) }
        return attached
    }

    /// Runs `body` on the connection's context thread, later (never inline), in call order.
    package func executeOnContext(_ body: @escaping @Sendable () -> Void) {
        context.execute(body)
    }

    /// Runs `body` on the connection's context thread after `delay`.
    package func scheduleOnContext(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        context.schedule(after: delay, body)
    }
}

extension IceTransport {
    /// The last ``iceConnectionState`` change, with its reason (what a state stream yields first).
    package var lastIceStateChange: IceStateChange { hub.withValues { $0.lastChange } }
}

extension IceTransport {
    /// What ``setTap(_:)`` is told of.
    package enum TapEvent: Sendable {
        case state(IceStateChange)
        case selectedPair(CandidatePair)
    }

    /// Sets what is told of each ``iceConnectionState`` change and each selected pair in the
    /// critical section that records it (on the thread that produced it, in the transport's order,
    /// before any handler queue sees it; nil clears it). The peer connection above follows the ICE
    /// transport this way, without a queue hop, so its states keep the transports' order. `tap`
    /// runs under the hub's lock: it must only take leaf locks and never call user code. Ignored
    /// once closed.
    package func setTap(_ tap: (@Sendable (TapEvent) -> Void)?) {
        var hubTap: (@Sendable (HubEvent) -> Void)?
        if let tap {
            hubTap = { event in
                switch event {
                case .state(let change): tap(.state(change))
                case .selectedPair(let pair): tap(.selectedPair(pair))
                case .gathering, .candidate, .candidateError: break
                }
            }
        }
        hub.withValues { s in
            guard !s.machine.isClosed else { return }
            s.tap = hubTap
        }
    }
}
