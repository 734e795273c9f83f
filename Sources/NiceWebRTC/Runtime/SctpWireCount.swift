import Synchronization

/// What usrsctp put on the wire, counted in its write callback from the DATA chunks of each
/// outgoing packet (RFC 9260 §3.3.1): how many messages left usrsctp's queues for the first time (a
/// DATA chunk with the E flag and a TSN above every TSN sent before) and how many DATA chunks were
/// sent again (a TSN not above the highest: a retransmission).
///
/// The first count is half of the association's measure of what usrsctp holds (see
/// ``SctpCore/usrsctpHeldMessages(_:_:)``): a message handed to `usrsctp_sendv` and not yet on the
/// wire waits in usrsctp's stream or send queues, which no socket option counts.
///
/// Called under usrsctp's locks (possibly on its timer thread): one leaf lock, a walk over the
/// chunk headers (at most ``maximumChunks``), no allocation.
final class SctpWireCount: Sendable {
    struct Counts {
        var highestTSN: UInt32?
        /// Messages whose last DATA chunk went out (first transmissions only).
        var messagesOut = 0
        /// DATA chunks sent with a TSN sent before.
        var retransmittedChunks = 0
    }

    static let maximumChunks = 64

    let counts = Locked(Counts())

    var messagesOut: Int { counts.withLock { $0.messagesOut } }
    var retransmittedChunks: Int { counts.withLock { $0.retransmittedChunks } }

    func record(_ packet: UnsafeRawBufferPointer) {
        guard packet.count >= 12 + 16 else { return }
        counts.withLock { c in
            var o = 12
            var chunks = 0
            var newMessages = 0
            var retransmitted = 0
            var highest = c.highestTSN
            var sawData = false
            while o + 4 <= packet.count, chunks < Self.maximumChunks {
                chunks += 1
                let type = packet[o], flags = packet[o + 1]
                let length = Int(packet[o + 2]) << 8 | Int(packet[o + 3])
                guard length >= 4, o + length <= packet.count else { break }
                if type == 0, length >= 16 {  // DATA
                    sawData = true
                    let tsn = UInt32(packet[o + 4]) << 24 | UInt32(packet[o + 5]) << 16 | UInt32(packet[o + 6]) << 8 | UInt32(packet[o + 7])
                    // Serial number arithmetic (RFC 1982): the TSN space wraps.
                    if let h = highest, Int32(bitPattern: tsn &- h) <= 0 {
                        retransmitted += 1
                    } else {
                        highest = tsn
                        if flags & 1 != 0 { newMessages += 1 }
                    }
                }
                o += (length + 3) & ~3
            }
            guard sawData else { return }
            c.highestTSN = highest
            c.messagesOut += newMessages
            c.retransmittedChunks += retransmitted
        }
    }
}
