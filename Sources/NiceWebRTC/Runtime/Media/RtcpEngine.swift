import NiceWebRTCCore

/// The real ``MediaControl`` (issue 19): per outgoing SSRC a ``RtpNackResponder`` (bounded send
/// history) and ``RtpSenderStatistics``; per remote SSRC a ``RtpReceiveStatistics`` and an
/// ``RtpNackGenerator``; a ``KeyframeRequestLimiter`` per source each way. NACKs are answered
/// from the history; SR (when we send) or RR compounds with report blocks and SDES CNAME go on
/// an ``RtcpIntervalTimer`` schedule; NACK generators are polled at their deadlines; a
/// generator's give-up asks for a keyframe (PLI, rate-limited).
///
/// **Threads and locks.** One lock, `state`, a leaf: never held across ``MediaSession`` (its
/// lock or its sends), SrtpCore or user code. Lock order: `MediaSession.state` is never held
/// when the engine is called, and the engine reads the session (weakly held) only after its own
/// lock is released. Timers run on the ICE context thread (``IceTransport/scheduleOnContext``):
/// one report timer and at most one NACK-poll timer pending per session, armed once media flows,
/// never re-armed after ``close()``.
final class RtcpEngine: MediaControl {
    struct Outgoing: Sendable {
        var kind: MediaKind
        var responder: RtpNackResponder
        var stats: RtpSenderStatistics
        /// When the last packet was sent (monotonic ns).
        var lastSentAt: UInt64
    }

    struct Incoming: Sendable {
        var kind: MediaKind
        var stats: RtpReceiveStatistics
        var generator: RtpNackGenerator
    }

    struct State: Sendable {
        weak var session: MediaSession?
        var outgoing: [UInt32: Outgoing] = [:]
        var incoming: [UInt32: Incoming] = [:]
        /// Incoming PLI/FIR per our SSRC.
        var sendLimiters: [UInt32: KeyframeRequestLimiter] = [:]
        /// Outgoing PLI/FIR per remote SSRC.
        var receiveLimiters: [UInt32: KeyframeRequestLimiter] = [:]
        var reportTimer: RtcpIntervalTimer?
        var reportArmed = false
        /// The last report tick found nothing to report (no re-arm until the next packet).
        var idle = false
        var nackArmed = false
        var closed = false
        /// The last RTT measured from a report block, nanoseconds.
        var roundTripTime: UInt64?
        var counters = RtcpEngineCounters()
        /// Transport-wide CC (RtcpEngine+TransportWideCc.swift).
        var transportCc = TransportCcState()
    }

    /// Streams tracked each way at most (SSRCs beyond are ignored, counted).
    static let streamLimit = 64
    /// The interval between two keyframe requests each way.
    static let keyframeInterval = 500 * RtpClock.millisecond

    let state = Locked(State())
    /// Our SDES CNAME (the one of our `a=ssrc` lines).
    let cname: String
    /// The engine's clocks (the system's; a test may advance them).
    let clock = MediaClock()

    init(cname: String) { self.cname = cname }

    var counters: RtcpEngineCounters { state.withLock { $0.counters } }

    func attach(_ session: MediaSession) { state.withLock { $0.session = session } }

    func close() {
        state.withLock { s in
            s.closed = true
            s.session = nil
        }
    }

    // MARK: Packets

    func didSend(_ packet: RtpPacket, bytes: [UInt8], stream: MediaStreamInfo, shared: RtpSharedPacket?) {
        let now = clock.monotonic()
        let arm = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            // `index(forKey:)`, not `s.outgoing[ssrc] == nil`: the getter copies the whole
            // `Outgoing` (its histories) once per packet sent (perf: 1.5 % of a forwarding server).
            if s.outgoing.index(forKey: packet.ssrc) == nil {
                guard s.outgoing.count < Self.streamLimit else {
                    s.counters.streamsIgnored &+= 1
                    return false
                }
                s.outgoing[packet.ssrc] = Outgoing(
                    kind: stream.kind, responder: RtpNackResponder(ssrc: packet.ssrc),
                    stats: RtpSenderStatistics(ssrc: packet.ssrc, clockRate: stream.clockRate), lastSentAt: now)
            }
            s.outgoing[packet.ssrc]?.lastSentAt = now
            if let shared {
                s.outgoing[packet.ssrc]?.responder.recordSent(sequenceNumber: packet.sequenceNumber, shared: shared, now: now)
            } else {
                s.outgoing[packet.ssrc]?.responder.recordSent(sequenceNumber: packet.sequenceNumber, bytes: bytes, now: now)
            }
            s.outgoing[packet.ssrc]?.stats.recordSent(
                payloadBytes: packet.payload.count, headerBytes: bytes.count - packet.payload.count, rtpTimestamp: packet.timestamp,
                capturedAt: now)
            return !s.reportArmed
        }
        if arm { armReports() }
    }

    func didReceive(_ packet: RtpPacket, wireCount: Int, repaired: Bool, stream: MediaStreamInfo) {
        let now = clock.monotonic()
        let (arm, keyframe, nackDue) = state.withLock { s -> (Bool, RtcpPacket?, Bool) in
            guard !s.closed else { return (false, nil, false) }
            if s.incoming[packet.ssrc] == nil {
                guard s.incoming.count < Self.streamLimit else {
                    s.counters.streamsIgnored &+= 1
                    return (false, nil, false)
                }
                s.incoming[packet.ssrc] = Incoming(
                    kind: stream.kind, stats: RtpReceiveStatistics(ssrc: packet.ssrc, clockRate: stream.clockRate),
                    generator: RtpNackGenerator(senderSsrc: stream.localSsrc, mediaSsrc: packet.ssrc))
            }
            s.incoming[packet.ssrc]?.stats.received(
                sequenceNumber: packet.sequenceNumber, rtpTimestamp: packet.timestamp, payloadBytes: packet.payload.count,
                headerBytes: max(wireCount - packet.payload.count, 0), now: now)
            s.incoming[packet.ssrc]?.generator.received(sequenceNumber: packet.sequenceNumber, now: now)
            let keyframe = Self.keyframeIfNeeded(ssrc: packet.ssrc, now: now, &s)
            let due = !s.nackArmed && s.incoming[packet.ssrc]?.generator.nextDeadline(roundTripTime: s.roundTripTime) != nil
            return (!s.reportArmed, keyframe, due)
        }
        if let keyframe { send([keyframe]) }
        if nackDue { armNackPoll() }
        if arm { armReports() }
    }

    /// A PLI when the generator of `ssrc` gave packets up (the decoder needs a keyframe).
    static func keyframeIfNeeded(ssrc: UInt32, now: UInt64, _ s: inout State) -> RtcpPacket? {
        guard let incoming = s.incoming[ssrc], s.incoming[ssrc]?.generator.takeKeyframeNeeded() == true else { return nil }
        var limiter = s.receiveLimiters[ssrc] ?? KeyframeRequestLimiter(mediaSsrc: ssrc, minInterval: keyframeInterval)
        defer { s.receiveLimiters[ssrc] = limiter }
        return limiter.makePictureLossIndication(senderSsrc: incoming.generator.senderSsrc, now: now).map { .pictureLossIndication($0) }
    }

    func didReceiveNack(_ nack: RtcpGenericNack) {
        let now = clock.monotonic()
        let (session, packets) = state.withLock { s -> (MediaSession?, [[UInt8]]) in
            guard !s.closed, s.outgoing[nack.mediaSsrc] != nil else {
                s.counters.nacksIgnored &+= 1
                return (nil, [])
            }
            let rtt = s.outgoing[nack.mediaSsrc]?.stats.roundTripTime ?? s.roundTripTime
            let packets = s.outgoing[nack.mediaSsrc]?.responder.respond(to: nack, now: now, roundTripTime: rtt) ?? []
            for bytes in packets {
                let payload = (try? RtpPacket(parsing: bytes))?.payload.count ?? max(bytes.count - 12, 0)
                s.outgoing[nack.mediaSsrc]?.stats.recordSent(
                    payloadBytes: payload, headerBytes: bytes.count - payload, rtpTimestamp: 0, capturedAt: now, isRetransmission: true)
            }
            return (s.session, packets)
        }
        guard let session else { return }
        for bytes in packets {
            do throws(SrtpError) { try session.sendRaw(rtp: bytes) } catch { state.withLock { $0.counters.sendFailures &+= 1 } }
        }
    }

    func didReceiveSenderReport(_ report: RtcpSenderReport) {
        let now = clock.monotonic()
        state.withLock { s in
            s.incoming[report.ssrc]?.stats.receivedSenderReport(report, now: now)
        }
        received(blocks: report.reports)
    }

    func didReceiveReceiverReport(_ report: RtcpReceiverReport) { received(blocks: report.reports) }

    private func received(blocks: [RtcpReportBlock]) {
        guard !blocks.isEmpty else { return }
        let arrival = clock.ntp()
        state.withLock { s in
            for block in blocks where s.outgoing[block.ssrc] != nil {
                s.outgoing[block.ssrc]?.stats.receivedReportBlock(block, arrivalNtp: arrival)
                if let rtt = s.outgoing[block.ssrc]?.stats.roundTripTime { s.roundTripTime = rtt }
            }
        }
    }

    // MARK: Keyframe requests

    func shouldForwardKeyframeRequest(ssrc: UInt32, firSequence: UInt8?) -> Bool {
        let now = clock.monotonic()
        return state.withLock { s in
            guard !s.closed else { return false }
            guard s.sendLimiters[ssrc] != nil || s.sendLimiters.count < Self.streamLimit else { return false }
            var limiter = s.sendLimiters[ssrc] ?? KeyframeRequestLimiter(mediaSsrc: ssrc, minInterval: Self.keyframeInterval)
            defer { s.sendLimiters[ssrc] = limiter }
            if let firSequence { return limiter.receivedFullIntraRequest(sequenceNumber: firSequence, now: now) }
            return limiter.receivedPictureLossIndication(now: now)
        }
    }

    func makeKeyframeRequest(senderSsrc: UInt32, mediaSsrc: UInt32, fir: Bool) -> RtcpPacket? {
        let now = clock.monotonic()
        return state.withLock { s -> RtcpPacket? in
            guard !s.closed else { return nil }
            guard s.receiveLimiters[mediaSsrc] != nil || s.receiveLimiters.count < Self.streamLimit else { return nil }
            var limiter = s.receiveLimiters[mediaSsrc] ?? KeyframeRequestLimiter(mediaSsrc: mediaSsrc, minInterval: Self.keyframeInterval)
            defer { s.receiveLimiters[mediaSsrc] = limiter }
            if fir { return limiter.makeFullIntraRequest(senderSsrc: senderSsrc, now: now).map { .fullIntraRequest($0) } }
            return limiter.makePictureLossIndication(senderSsrc: senderSsrc, now: now).map { .pictureLossIndication($0) }
        }
    }

    /// Sends RTCP packets, each alone (reduced-size, RFC 5506), no lock held.
    func send(_ packets: [RtcpPacket]) {
        guard let session = state.withLock({ $0.closed ? nil : $0.session }) else { return }
        for packet in packets {
            do throws(SrtpError) {
                guard let bytes = try? packet.serialized() else { continue }
                try session.sendRaw(rtcp: bytes)
            } catch { state.withLock { $0.counters.sendFailures &+= 1 } }
        }
    }
}

/// What an ``RtcpEngine`` dropped or sent (package-visible for tests).
package struct RtcpEngineCounters: Sendable, Hashable {
    /// SSRCs beyond ``RtcpEngine/streamLimit``.
    package var streamsIgnored: UInt64 = 0
    /// NACKs about an SSRC we do not send.
    package var nacksIgnored: UInt64 = 0
    /// Sends SRTP refused.
    package var sendFailures: UInt64 = 0
    /// SR/RR compounds sent.
    package var reportsSent: UInt64 = 0
    /// NACK packets sent.
    package var nacksSent: UInt64 = 0
    /// Transport-wide CC feedback packets sent.
    package var transportCcFeedbackSent: UInt64 = 0
    /// Transport-wide CC feedback packets received from the peer.
    package var transportCcFeedbackReceived: UInt64 = 0
    /// Packet statuses the peer's feedback reported (repeats included).
    package var transportCcPacketsReported: UInt64 = 0
}
