import NiceWebRTCCore

/// The engine's two timers, both on the ICE context thread: the report timer (SR/RR + SDES on an
/// ``RtcpIntervalTimer`` schedule: 1 s mean with video, 5 s audio only) and the NACK poll (at
/// the earliest generator deadline). Each is armed at most once at a time (a flag under the
/// lock), from the first packet either way, and not re-armed once closed. The report timer also
/// stops while no media flows (nothing sent or received for ``staleAfter``): the next packet
/// arms it again.
extension RtcpEngine {
    /// A source silent this long is no longer reported on (sent: no SR; received: no report
    /// block). RFC 3550 §6.3.8 says two intervals; at least 5 s, as audio's interval is.
    static func staleAfter(interval: UInt64) -> UInt64 { max(2 * interval, 5 * RtpClock.second) }

    /// Arms the report timer unless it is pending.
    func armReports() {
        let now = clock.monotonic()
        let armed = state.withLock { s -> (MediaSession, UInt64)? in
            guard !s.closed, !s.reportArmed, let session = s.session else { return nil }
            let video = s.outgoing.values.contains { $0.kind == .video } || s.incoming.values.contains { $0.kind == .video }
            let wanted = RtcpIntervalTimer(kind: video ? .video : .audio).interval
            if s.reportTimer?.interval != wanted { s.reportTimer = RtcpIntervalTimer(interval: wanted) }
            guard let deadline = s.reportTimer?.nextDeadline(after: now, random: .random(in: 0...UInt32.max)) else { return nil }
            s.reportArmed = true
            return (session, deadline &- now)
        }
        guard let (session, delay) = armed else { return }
        session.dtls.core.connection.scheduleOnContext(after: .nanoseconds(Int64(clamping: delay))) { [weak self] in
            self?.reportTick()
        }
    }

    /// Arms the NACK poll at the earliest generator deadline unless one is pending.
    func armNackPoll() {
        let now = clock.monotonic()
        let armed = state.withLock { s -> (MediaSession, UInt64)? in
            guard !s.closed, !s.nackArmed, let session = s.session else { return nil }
            let deadlines = s.incoming.values.compactMap { $0.generator.nextDeadline(roundTripTime: s.roundTripTime) }
            guard let earliest = deadlines.min() else { return nil }
            s.nackArmed = true
            return (session, earliest > now ? earliest - now : 0)
        }
        guard let (session, delay) = armed else { return }
        let wait = max(delay, RtpClock.millisecond)
        session.dtls.core.connection.scheduleOnContext(after: .nanoseconds(Int64(clamping: wait))) { [weak self] in
            self?.nackTick()
        }
    }

    /// Polls every generator: NACKs due, PLIs for what was given up.
    func nackTick() {
        let now = clock.monotonic()
        let packets = state.withLock { s -> [RtcpPacket] in
            s.nackArmed = false
            guard !s.closed else { return [] }
            var out: [RtcpPacket] = []
            for ssrc in s.incoming.keys.sorted() {
                if let nack = s.incoming[ssrc]?.generator.poll(now: now, roundTripTime: s.roundTripTime) {
                    out.append(.genericNack(nack))
                    s.counters.nacksSent &+= 1
                }
                if let pli = Self.keyframeIfNeeded(ssrc: ssrc, now: now, &s) { out.append(pli) }
            }
            return out
        }
        send(packets)
        armNackPoll()
    }

    /// Sends one report compound: an SR per source that sent lately (the first carries the
    /// report blocks of the sources heard lately), or an RR from our first receiving binding's
    /// SSRC when we send nothing; then SDES. Nothing (and no re-arm) when all is silent.
    func reportTick() {
        let now = clock.monotonic(), ntp = clock.ntp()
        let compound = state.withLock { s -> (MediaSession, [UInt8])? in
            s.reportArmed = false
            s.idle = false
            guard !s.closed, let session = s.session else { return nil }
            let stale = Self.staleAfter(interval: s.reportTimer?.interval ?? RtpClock.second)
            func fresh(_ t: UInt64?) -> Bool { t.map { now < $0 || now - $0 < stale } ?? false }
            var blocks: [RtcpReportBlock] = []
            for ssrc in s.incoming.keys.sorted() where fresh(s.incoming[ssrc]?.stats.stats.lastPacketReceivedTime) {
                if let block = s.incoming[ssrc]?.stats.makeReportBlock(now: now) { blocks.append(block) }
            }
            var packets: [RtcpPacket] = []
            var sources: [UInt32] = []
            for ssrc in s.outgoing.keys.sorted() where fresh(s.outgoing[ssrc]?.lastSentAt) {
                guard let sr = s.outgoing[ssrc]?.stats.makeSenderReport(now: now, ntp: ntp, reports: sources.isEmpty ? blocks : [])
                else { continue }
                packets.append(.senderReport(sr))
                sources.append(ssrc)
            }
            if packets.isEmpty {
                s.idle = blocks.isEmpty
                guard !blocks.isEmpty, let reporter = s.incoming.keys.sorted().first.flatMap({ s.incoming[$0]?.generator.senderSsrc }) else { return nil }
                packets.append(.receiverReport(RtcpReceiverReport(ssrc: reporter, reports: Array(blocks.prefix(31)))))
                sources.append(reporter)
            }
            packets.append(.sourceDescription(RtcpSourceDescription(
                chunks: sources.prefix(31).map { .init(source: $0, items: [.init(type: .cname, text: cname)]) })))
            guard let bytes = try? RtcpPacket.serializeCompound(packets) else { return nil }
            s.counters.reportsSent &+= 1
            return (session, bytes)
        }
        if let (session, bytes) = compound {
            do throws(SrtpError) { try session.sendRaw(rtcp: bytes) } catch { state.withLock { $0.counters.sendFailures &+= 1 } }
        }
        if !state.withLock({ $0.idle }) { armReports() }
    }

    /// The W3C figures of every stream, for the stats report.
    func figures() -> RtcpFigures {
        state.withLock { s in
            var f = RtcpFigures()
            for (ssrc, o) in s.outgoing {
                f.outbound[ssrc] = o.stats.outboundStats(responder: o.responder, keyframeRequests: s.sendLimiters[ssrc])
                f.remoteInbound[ssrc] = o.stats.remoteInbound
            }
            for (ssrc, i) in s.incoming {
                f.inbound[ssrc] = i.stats.inboundStats(nackGenerator: i.generator, keyframeRequests: s.receiveLimiters[ssrc])
                if i.stats.remoteOutbound.reportsSent > 0 { f.remoteOutbound[ssrc] = i.stats.remoteOutbound }
            }
            return f
        }
    }
}

/// The engine's figures by SSRC (outbound and remote-inbound by ours, inbound and
/// remote-outbound by the peer's).
struct RtcpFigures: Sendable {
    var outbound: [UInt32: OutboundRtpFigures] = [:]
    var inbound: [UInt32: InboundRtpFigures] = [:]
    var remoteInbound: [UInt32: RemoteInboundRtpFigures] = [:]
    var remoteOutbound: [UInt32: RemoteOutboundRtpFigures] = [:]
}
