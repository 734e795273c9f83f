import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The retransmission watchdog: what makes a transfer finish when usrsctp stops retransmitting.
///
/// **Why this exists.** usrsctp 0.9.5.0 sometimes leaves DATA unacknowledged without its T3-rtx
/// timer running (upstream sctplab/usrsctp#750: the timer is not rescheduled while chunks sit in
/// the sent queue). When the peer's SACKs of the last DATA chunks are then lost, usrsctp holds the
/// data, sends nothing more (no retransmission, new data blocked by cwnd) and only HEARTBEATs flow:
/// seen against Chromium, whose socket dropped sends (`packetsDiscardedOnSend` 41; no SACK and no
/// retransmission for 40 s with rto_max 10 s, issue 17), and on loopback under load
/// (`SctpRetransmissionTests.lostFinalSacks`).
///
/// **What it does.** It keeps a copy of the last DATA-bearing packet usrsctp wrote (one packet, at
/// most ``maximumPacket`` bytes, replaced on each such write). While usrsctp reports DATA sent and
/// not acknowledged (`SCTP_STATUS` `sstat_unackdata`), a timer on the context thread looks every
/// ``tick``; when neither a SACK advanced the cumulative TSN nor usrsctp wrote DATA for the stall
/// interval (3 × smoothed RTT, within 1–3 s, doubled per attempt, at most ``maximumInterval``), it
/// sends the copy again through the same DTLS path. Its TSN is one the peer already has or will
/// take: a packet of duplicate DATA must be acknowledged at once (RFC 9260 §6.7; usrsctp's
/// `sctp_sack_check` sends the SACK immediately when `numduptsns` > 0), and that SACK reaches
/// usrsctp, which then frees what it acknowledges, restarts T3 and sends what waits. After
/// ``maximumAttempts`` without progress it stops and leaves the association to its own failure
/// detection (HEARTBEAT, path and association max retransmissions). No timer runs while nothing is
/// unacknowledged; none after the association ended, and nothing is resent after it.
///
/// **Locks.** ``SctpWatchdog/state`` is a leaf: taken by the write callback (under usrsctp's
/// locks), by the inbound path (under the association's `state`) and by the timer (alone). The
/// timer reads usrsctp's status under `state` (as every socket read), releases it, and sends the
/// copy holding only ``SctpCore/sendGate`` (taken with `tryLock`, never waited for on the context
/// thread), as every usrsctp send holds it across usrsctp → DTLS: so the socket cannot be closed
/// (that happens under the gate) between the check that the association is open and the resend.
final class SctpWatchdog: Sendable {
    struct State {
        /// The last DATA-bearing packet usrsctp wrote (cleared when nothing is unacknowledged).
        var lastData: [UInt8]?
        /// DATA packets usrsctp wrote (first transmissions and retransmissions).
        var dataWrites: UInt64 = 0
        /// The highest cumulative TSN acknowledged by a SACK that reached usrsctp.
        var cumulativeAck: UInt32?
        /// The last SACK advance or DATA write.
        var lastProgress: ContinuousClock.Instant = .now
        /// Resends since the last progress.
        var attempts = 0
        var armed = false
        var ended = false
    }

    /// A tick of the timer while DATA is unacknowledged.
    static let tick: Duration = .seconds(1)
    /// The stall interval's bounds before backing off (RFC 9260's RTO.Min is 1 s; usrsctp's rto_max
    /// here is 10 s, too slow for users).
    static let minimumInterval: Duration = .seconds(1)
    static let baseIntervalCap: Duration = .seconds(3)
    /// The backed-off interval's cap.
    static let maximumInterval: Duration = .seconds(16)
    /// Resends without progress before the watchdog leaves the association to usrsctp.
    static let maximumAttempts = 6
    /// What one kept packet may be: usrsctp's packets fit its path MTU (1,092 bytes, see
    /// `UsrsctpSocket`); anything larger is not kept.
    static let maximumPacket = 1_500

    let state = Locked(State())

    /// The stall interval before resend number `attempt` (0-based).
    static func interval(smoothedRTT: Duration?, attempt: Int) -> Duration {
        let base = min(max((smoothedRTT ?? .zero) * 3, minimumInterval), baseIntervalCap)
        var d = base
        for _ in 0..<min(attempt, 8) { d = min(d * 2, maximumInterval) }
        return d
    }

    /// Whether the packet carries a DATA chunk; the cumulative TSN of its first SACK chunk.
    static func scan(_ packet: UnsafeRawBufferPointer) -> (data: Bool, sack: UInt32?) {
        var o = 12
        var chunks = 0
        var data = false
        var sack: UInt32?
        while o + 4 <= packet.count, chunks < SctpWireCount.maximumChunks {
            chunks += 1
            let type = packet[o]
            let length = Int(packet[o + 2]) << 8 | Int(packet[o + 3])
            guard length >= 4, o + length <= packet.count else { break }
            if type == 0, length >= 16 { data = true }
            if type == 3, length >= 16, sack == nil {
                sack = UInt32(packet[o + 4]) << 24 | UInt32(packet[o + 5]) << 16 | UInt32(packet[o + 6]) << 8 | UInt32(packet[o + 7])
            }
            o += (length + 3) & ~3
        }
        return (data, sack)
    }
}

extension SctpCore {
    /// usrsctp wrote `packet` (write callback, under usrsctp's locks): a DATA packet is progress,
    /// its copy replaces the kept one, and the timer starts if it is not running.
    func watchdogSawOutbound(_ packet: UnsafeRawBufferPointer) {
        guard Self.watchdogEnabled, SctpWatchdog.scan(packet).data else { return }
        let arm = watchdog.state.withLock { w -> Bool in
            guard !w.ended else { return false }
            if packet.count > SctpWatchdog.maximumPacket {
                w.lastData = nil
            } else if w.lastData == nil {
                w.lastData = Array(packet)
            } else {
                w.lastData!.replaceSubrange(0..., with: packet)  // the buffer reused, unless a resend holds it
            }
            w.dataWrites &+= 1
            w.lastProgress = .now
            w.attempts = 0
            guard !w.armed else { return false }
            w.armed = true
            return true
        }
        if arm { scheduleWatchdog() }
    }

    /// A packet from the peer is about to reach usrsctp (context thread, `state` held): a SACK
    /// that advances the cumulative TSN is progress.
    func watchdogSawInbound(_ packet: UnsafeRawBufferPointer) {
        guard Self.watchdogEnabled, let cum = SctpWatchdog.scan(packet).sack else { return }
        watchdog.state.withLock { w in
            if let old = w.cumulativeAck, Int32(bitPattern: cum &- old) <= 0 { return }
            w.cumulativeAck = cum
            w.lastProgress = .now
            w.attempts = 0
        }
    }

    /// The association ended (`state` held): no more timer, no resend, the copy goes.
    func watchdogEnd() {
        watchdog.state.withLock { w in
            w.ended = true
            w.lastData = nil
        }
    }

    /// The watchdog is on for every association. `NICE_SCTP_WATCHDOG=0` in the environment turns
    /// it off (diagnostics only: to see usrsctp alone, as in the before/after runs of issue 17).
    static let watchdogEnabled: Bool = {
        guard let v = getenv("NICE_SCTP_WATCHDOG") else { return true }
        return String(cString: v) != "0"
    }()

    private func scheduleWatchdog() {
        dtls.connection.scheduleOnContext(after: SctpWatchdog.tick) { [weak self] in self?.watchdogTick() }
    }

    /// One look (context thread).
    private func watchdogTick() {
        let writesBefore = watchdog.state.withLock { $0.dataWrites }
        // usrsctp's status, read under `state` as every socket read; nil once the association ended.
        let status = locked { a -> (unacknowledged: Int, rtt: Duration?)? in
            guard !a.closed, a.state == .connected, let socket = a.socket else { return nil }
            return (socket.unacknowledgedChunks() ?? 0, socket.smoothedRoundTripTime())
        }
        enum Plan { case stop, wait, resend([UInt8], attempt: Int, stalled: Duration) }
        let plan = watchdog.state.withLock { w -> Plan in
            guard !w.ended, let status else {
                w.armed = false
                w.lastData = nil
                return .stop
            }
            if status.unacknowledged == 0 {
                // Nothing in flight: stop, unless usrsctp wrote DATA meanwhile (it found the timer armed).
                if w.dataWrites == writesBefore {
                    w.armed = false
                    w.lastData = nil
                    w.attempts = 0
                    return .stop
                }
                return .wait
            }
            let stalled = ContinuousClock.now - w.lastProgress
            guard let copy = w.lastData, w.attempts < SctpWatchdog.maximumAttempts,
                stalled >= SctpWatchdog.interval(smoothedRTT: status.rtt, attempt: w.attempts)
            else { return .wait }
            w.attempts += 1
            w.lastProgress = .now  // the next attempt waits a full (backed-off) interval
            return .resend(copy, attempt: w.attempts, stalled: stalled)
        }
        switch plan {
        case .stop:
            return
        case .wait:
            break
        case .resend(let packet, let attempt, let stalled):
            watchdogResend(packet, attempt: attempt, stalled: stalled, unacknowledged: status?.unacknowledged ?? 0)
        }
        scheduleWatchdog()
    }

    /// Sends the kept copy again, with only the send gate held (see ``SctpWatchdog``). A gate held
    /// by a sender means the next tick tries again (the context thread never waits for it).
    private func watchdogResend(_ packet: [UInt8], attempt: Int, stalled: Duration, unacknowledged: Int) {
        guard sendGate.tryLock() else {
            watchdog.state.withLock { w in w.attempts -= 1 }
            return
        }
        defer { releaseGate() }
        // Under the gate: if the association is still open, its socket stays open until we release.
        let open = state.withLock { a in !a.closed && a.socket != nil }
        guard open, !watchdog.state.withLock({ $0.ended }) else { return }
        counters.watchdogResends.wrappingAdd(1, ordering: .relaxed)
        logger.debug(
            "SCTP watchdog: \(unacknowledged) DATA chunks unacknowledged, no SACK progress and no DATA out for \(stalled): resent the last DATA packet (\(packet.count) bytes), attempt \(attempt) of \(SctpWatchdog.maximumAttempts)"
        )
        packet.withUnsafeBytes { bytes in
            logger.trace("sctp out (watchdog): \(SctpPacketSummary(bytes))")
            _ = toDtls(bytes)
        }
    }
}
