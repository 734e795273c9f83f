/// Turns RTP packets, given in sequence order, into whole encoded frames.
///
/// Packets come from a reordering stage (a jitter buffer, NACK recovery) in increasing sequence
/// numbers, wrapping at 2^16; losses show as gaps. A frame ends with its marker bit, or when the
/// next packet in sequence has another timestamp. A frame is emitted only when no packet of it is
/// missing: none inside (a gap while it was assembled) and none before it (its first packet
/// follows the previous frame's end directly, or the codec says it starts a frame). Frames with a
/// gap, past ``Limits``, or refused by the depacketizer are dropped and counted in ``counters``;
/// at most one frame is held, bounded in bytes and packets.
///
/// A value: one assembler per incoming stream, used from one place at a time.
public struct FrameAssembler: Sendable {
    /// The codec's depacketizer.
    public let depacketizer: any RtpDepacketizer
    /// The bounds of one frame.
    public let limits: Limits
    /// What happened so far.
    public private(set) var counters = Counters()

    private var lastSequenceNumber: UInt16?
    /// Whether the packet after the last one taken starts a frame cleanly (the last one ended a
    /// frame and nothing was lost since).
    private var atFrameBoundary = false
    private var pending: Pending?

    private struct Pending: Sendable {
        enum State: Sendable { case collecting, incomplete, oversized }
        var timestamp: UInt32
        var state: State
        var units: [RtpPayloadUnit] = []
        var bytes = 0
    }

    public init(depacketizer: any RtpDepacketizer, limits: Limits = Limits()) {
        self.depacketizer = depacketizer
        self.limits = limits
    }

    /// Takes the next packet; returns the frames it completes (none, one, or two: the frame its
    /// new timestamp ends and its own, when it is a one-packet frame with the marker bit).
    public mutating func push(_ unit: RtpPayloadUnit) -> [EncodedFrame] {
        counters.packets += 1
        var gap = false
        if let last = lastSequenceNumber {
            let delta = Int(Int16(bitPattern: unit.sequenceNumber &- last))
            guard delta > 0 else {
                counters.stalePackets += 1
                return []
            }
            if delta > 1 {
                gap = true
                counters.lostPackets += delta - 1
                if pending?.state == .collecting { dropPending(as: .incomplete) }
                atFrameBoundary = false
            }
        }
        lastSequenceNumber = unit.sequenceNumber
        var frames: [EncodedFrame] = []

        if depacketizer.framesAreSinglePackets {
            if unit.payload.count > limits.maximumFrameBytes {
                counters.oversizedFrames += 1
            } else if let frame = depacketize([unit]) {
                frames.append(frame)
            }
            return frames
        }

        if let current = pending, current.timestamp != unit.timestamp {
            if let frame = finish() { frames.append(frame) }
            // The timestamp changed right after the last packet: that one ended its frame.
            atFrameBoundary = !gap
        }
        if pending == nil {
            let clean = atFrameBoundary || depacketizer.startsFrame(unit.payload)
            pending = Pending(timestamp: unit.timestamp, state: clean ? .collecting : .incomplete)
        }
        add(unit)
        atFrameBoundary = false
        if unit.marker {
            if let frame = finish() { frames.append(frame) }
            atFrameBoundary = true
        }
        return frames
    }

    /// Forgets the frame in assembly and the sequence position (a new SSRC, a restart); the
    /// counters stay.
    public mutating func reset() {
        pending = nil
        lastSequenceNumber = nil
        atFrameBoundary = false
    }

    private mutating func add(_ unit: RtpPayloadUnit) {
        guard var current = pending, current.state == .collecting else { return }
        let bytes = current.bytes + unit.payload.count
        guard current.units.count < limits.maximumPacketsPerFrame, bytes <= limits.maximumFrameBytes else {
            dropPending(as: .oversized)
            return
        }
        pending = nil  // keep `current.units` uniquely referenced while appending
        current.units.append(unit)
        current.bytes = bytes
        pending = current
    }

    /// Keeps the frame's timestamp (its later packets are discarded too) but not its packets.
    private mutating func dropPending(as state: Pending.State) {
        guard let current = pending else { return }
        pending = Pending(timestamp: current.timestamp, state: state)
    }

    /// Ends the frame in assembly: emitted if whole, otherwise counted.
    private mutating func finish() -> EncodedFrame? {
        guard let current = pending else { return nil }
        pending = nil
        switch current.state {
        case .incomplete:
            counters.incompleteFrames += 1
            return nil
        case .oversized:
            counters.oversizedFrames += 1
            return nil
        case .collecting:
            return depacketize(current.units)
        }
    }

    private mutating func depacketize(_ units: [RtpPayloadUnit]) -> EncodedFrame? {
        do {
            let frame = try depacketizer.depacketize(units, maximumFrameSize: limits.maximumFrameBytes)
            counters.frames += 1
            return frame
        } catch {
            if error.code == .frameTooLarge {
                counters.oversizedFrames += 1
            } else {
                counters.malformedFrames += 1
                counters.lastError = error
            }
            return nil
        }
    }
}
