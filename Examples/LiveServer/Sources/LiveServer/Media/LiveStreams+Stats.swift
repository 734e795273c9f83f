import NiceWebRTC

extension LiveStreams {
    /// How often the stats poller reads every session's stats for the counters.
    static let statsInterval: Duration = .seconds(2)

    /// Reads each session's stats and exports the growth since the last read: bytes out per kind,
    /// packets lost, NACKs, dropped packets.
    func pollStats() async {
        for session in allSessions() {
            let report = await session.connection.stats()
            let dropped: UInt64
            var bytesOut: [MediaKind: UInt64] = [:]
            var lost: Int64 = 0
            var nacks: UInt64 = 0
            if session.role == .viewer {
                for entry in report.outboundRtp {
                    let kind: MediaKind = entry.kind == "audio" ? .audio : .video
                    bytesOut[kind, default: 0] += entry.bytesSent
                    nacks += entry.nackCount
                }
                lost = report.remoteInboundRtp.reduce(0) { $0 + max(0, $1.packetsLost) }
                dropped = session.connection.iceTransport.counters.datagramsDropped
            } else {
                lost = report.inboundRtp.reduce(0) { $0 + max(0, $1.packetsLost) }
                nacks = report.inboundRtp.reduce(0) { $0 + $1.nackCount }
                dropped = session.withState { $0.remoteTracks }.reduce(0) { $0 + $1.droppedPackets }
            }
            let name = session.streamName
            session.withState { s in
                for (kind, bytes) in bytesOut {
                    metrics.bytesOut(name, kind, bytes &- min(bytes, s.baseline.bytesOut[kind] ?? 0))
                    s.baseline.bytesOut[kind] = bytes
                }
                if lost > s.baseline.lost { metrics.packetsLost(name, UInt64(lost - s.baseline.lost)) }
                s.baseline.lost = max(s.baseline.lost, lost)
                if nacks > s.baseline.nacks { metrics.nacks(name, nacks - s.baseline.nacks) }
                s.baseline.nacks = max(s.baseline.nacks, nacks)
                if dropped > s.baseline.dropped { metrics.dropped(name, dropped - s.baseline.dropped) }
                s.baseline.dropped = max(s.baseline.dropped, dropped)
            }
        }
    }
}
