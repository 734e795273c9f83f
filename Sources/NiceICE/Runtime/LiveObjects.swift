import Synchronization

/// How many objects of each kind live now, counted in debug builds only: what lifetime tests read
/// after a thousand sessions (issue 17 §1). Release builds count nothing and report nil.
package enum LiveObjects {
    package enum Kind: Int, CaseIterable, Sendable {
        /// `peerConnection` counts ``IceTransport``s (its name before issue 18); `session` counts
        /// NiceWebRTC's `PeerConnection`s.
        case peerConnection, dtlsTransport, dtlsCore, sctpTransport, sctpCore, dataChannel, session
    }

    #if DEBUG
    /// One counter per kind (an array cannot hold the non-copyable `Atomic`).
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
    private static let counts: [Counter] = Kind.allCases.map { _ in Counter() }
    #endif

    @inline(__always)
    package static func born(_ kind: Kind) {
        #if DEBUG
        counts[kind.rawValue].value.wrappingAdd(1, ordering: .relaxed)
        #endif
    }

    @inline(__always)
    package static func died(_ kind: Kind) {
        #if DEBUG
        counts[kind.rawValue].value.wrappingSubtract(1, ordering: .relaxed)
        #endif
    }

    /// The live count of `kind`; nil in release builds.
    package static func count(_ kind: Kind) -> Int? {
        #if DEBUG
        return counts[kind.rawValue].value.load(ordering: .relaxed)
        #else
        return nil
        #endif
    }
}
