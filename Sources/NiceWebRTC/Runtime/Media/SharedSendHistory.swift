import NiceICE
import NiceWebRTCCore

/// The packets one ``LocalTrack`` wrote with ``LocalTrack/write(_:)``, kept once for all its
/// senders to answer NACKs from (issue 20): an ``RtpTrackHistory`` behind a leaf lock.
///
/// Each write is stored once, before it is rewritten for the senders; a sender's NACK responder
/// keeps per sequence number only the write index (``RtpSharedPacket``, holding this store
/// weakly), so the store goes with its track. Bounded in count and bytes by the ring.
///
/// **Locks.** `ring` is a leaf: nothing is called while it is held. It is taken under the RTCP
/// engine's lock (a NACK's lookups) and under no other lock (the track's writes).
final class SharedSendHistory: RtpPacketStore {
    let ring: Locked<RtpTrackHistory>

    /// A store of `capacity` packets and `maxBytes` bytes at most.
    init(capacity: Int = 512, maxBytes: Int = 1 << 20) {
        ring = Locked(RtpTrackHistory(capacity: capacity, maxBytes: maxBytes))
    }

    /// Stores a written packet: its write index, or nil when it is too large to keep.
    func append(_ packet: RtpPacket) -> UInt64? { ring.withLock { $0.append(packet) } }

    func packet(at index: UInt64) -> RtpPacket? { ring.withLock { $0.packet(at: index) } }

    /// What the ring did so far, and what it holds.
    var snapshot: (counters: RtpTrackHistory.Counters, count: Int, storedBytes: Int) {
        ring.withLock { ($0.counters, $0.count, $0.storedBytes) }
    }
}
