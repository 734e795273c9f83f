import NiceWebRTCCore

/// The engine's two timers, both on the ICE context thread: the report timer (SR/RR + SDES on an
/// ``RtcpIntervalTimer`` schedule: 1 s mean with video, 5 s audio only) and the NACK poll (at
/// the earliest generator deadline). Each is armed at most once at a time (a flag under the
/// lock), from the first packet either way, and not re-armed once closed.
extension RtcpEngine {
    /// Arms the report timer unless it is pending.
    func armReports() {
        let now = MediaClock.monotonic()
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
        let now = MediaClock.monotonic()
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
        let now = MediaClock.monotonic()
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

    /// Sends one report compound: an SR per source that sent (the first carries the report
    /// blocks), or an RR from our first receiving binding's SSRC when we send nothing; then SDES.
    func reportTick() {
        let now = MediaClock.monotonic(), ntp = MediaClock.ntp()
        let compound = state.withLock { s -> (MediaSession, [UInt8])? in
            s.reportArmed = false
            guard !s.closed, let session = s.session else { return nil }
            var blocks: [RtcpReportBlock] = []
            for ssrc in s.incoming.keys.sorted() {
                if let block = s.incoming[ssrc]?.stats.makeReportBlock(now: now) { blocks.append(block) }
            }
            var packets: [RtcpPacket] = []
            var sources: [UInt32] = []
            for ssrc in s.outgoing.keys.sorted() {
                guard let sr = s.outgoing[ssrc]?.stats.makeSenderReport(now: now, ntp: ntp, reports: sources.isEmpty ? blocks : [])
                else { continue }
                packets.append(.senderReport(sr))
                sources.append(ssrc)
            }
            if packets.isEmpty {
                guard let reporter = s.incoming.keys.sorted().first.flatMap({ s.incoming[$0]?.generator.senderSsrc }) else { return nil }
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
        armReports()
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
            }
            return f
        }
    }
}

/// The engine's figures by SSRC (outbound and remote-inbound by ours, inbound by the peer's).
struct RtcpFigures: Sendable {
    var outbound: [UInt32: OutboundRtpFigures] = [:]
    var inbound: [UInt32: InboundRtpFigures] = [:]
    var remoteInbound: [UInt32: RemoteInboundRtpFigures] = [:]
}
