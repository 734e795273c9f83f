import NiceWebRTCCore

/// Puts a video track's packets back in sequence order before they are assembled into frames,
/// waiting a bounded while for the missing ones that NACK (``RtcpEngine``) brings back late.
///
/// A packet after a gap is held until the gap fills, or until the held packets reach
/// ``maximumHeld``, or span more than ``maximumDelayMilliseconds`` of RTP time; then the reader skips to the
/// oldest held packet (the assembler sees the gap and drops that frame). A packet before the
/// next expected one (a duplicate, or too late) is dropped. A jump of ``restartDistance`` or
/// more either way (a new stream), or a 65th late packet in a row, releases everything held and
/// starts again. Bounded: at most
/// ``maximumHeld`` packets, each step O(held).
struct FrameReorder: Sendable {
    /// Packets held at most while waiting for a missing one (reaching it ends the wait).
    static let maximumHeld = 512
    /// RTP time waited at most for a missing packet, in milliseconds (half the NACK generator's
    /// 1 s give-up).
    static let maximumDelayMilliseconds: Int64 = 500
    /// A sequence jump this large is a new stream, not a gap.
    static let restartDistance = 3000

    let clockRate: UInt32
    /// Whether a gap is waited for (video, whose losses NACK repairs); without, the stage only
    /// drops late packets and notices restarts (audio: no wait for what will not come).
    let waits: Bool
    private var expected: UInt16?
    private var held: [UInt16: RtpPacket] = [:]
    /// Packets in a row this far behind are a new stream too (a sender that restarted its
    /// numbers a little behind ours would otherwise be dropped as late until it caught up).
    static let restartAfterLatePackets = 64

    /// Packets dropped as duplicates or arriving after their position was skipped.
    private(set) var latePackets = 0
    private var lateInARow = 0

    init(clockRate: UInt32, waits: Bool = true) {
        self.clockRate = clockRate
        self.waits = waits
    }

    /// The packets `packet` lets go, in sequence order (possibly with gaps when waiting ended),
    /// and, when the numbering started again, the index in them where the new numbers begin (the
    /// assembler must forget its position there: what follows is not after what it saw).
    mutating func push(_ packet: RtpPacket) -> (packets: [RtpPacket], restartIndex: Int?) {
        guard let next = expected else {
            expected = packet.sequenceNumber &+ 1
            return ([packet], nil)
        }
        let distance = Int(Int16(bitPattern: packet.sequenceNumber &- next))
        var out: [RtpPacket] = []
        var restartIndex: Int?
        if abs(distance) >= Self.restartDistance || (distance < 0 && lateInARow >= Self.restartAfterLatePackets) {
            // What waited goes to the assembler first, then the new numbers from `restartIndex`.
            out = drainInOrder()
            restartIndex = out.count
            expected = packet.sequenceNumber
        } else if distance < 0 || held[packet.sequenceNumber] != nil {
            latePackets += 1
            if distance < 0 { lateInARow += 1 }
            return ([], nil)
        }
        lateInARow = 0
        held[packet.sequenceNumber] = packet
        releaseConsecutive(into: &out)
        // Waiting ends when too much is held or the newest packet is too far ahead in RTP time.
        let limit = Int64(clockRate) * Self.maximumDelayMilliseconds / 1000
        for _ in 0..<Self.maximumHeld where !held.isEmpty {
            guard let oldest = oldestHeld() else { break }
            let waited = Int64(Int32(bitPattern: packet.timestamp &- oldest.timestamp))
            guard !waits || held.count >= Self.maximumHeld || waited > limit else { break }
            expected = oldest.sequenceNumber
            releaseConsecutive(into: &out)
        }
        return (out, restartIndex)
    }

    private mutating func releaseConsecutive(into out: inout [RtpPacket]) {
        guard var next = expected else { return }
        while let packet = held.removeValue(forKey: next) {
            out.append(packet)
            next &+= 1
        }
        expected = next
    }

    /// The held packet nearest after the expected position.
    private func oldestHeld() -> RtpPacket? {
        guard let next = expected else { return nil }
        return held.values.min { ($0.sequenceNumber &- next) < ($1.sequenceNumber &- next) }
    }

    /// Everything held, in order from the expected position; nothing is held afterwards.
    private mutating func drainInOrder() -> [RtpPacket] {
        guard let next = expected else { return [] }
        let packets = held.values.sorted { ($0.sequenceNumber &- next) < ($1.sequenceNumber &- next) }
        held = [:]
        return packets
    }
}
