import Metrics
import NiceWebRTC
import Synchronization

/// The server's Prometheus metrics (names in the plan), made through the factory given to
/// ``LiveStreams`` (not the global bootstrap). Each labelled metric is made once and kept.
final class LiveMetrics: Sendable {
    private let factory: any MetricsFactory
    private let made = Mutex(Made())

    private struct Made {
        var counters: [String: Counter] = [:]
        var gauges: [String: Gauge] = [:]
    }

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return made.withLock { m in
            if let c = m.counters[key] { return c }
            let c = Counter(label: label, dimensions: dimensions, factory: factory)
            m.counters[key] = c
            return c
        }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return made.withLock { m in
            if let g = m.gauges[key] { return g }
            let g = Gauge(label: label, dimensions: dimensions, factory: factory)
            m.gauges[key] = g
            return g
        }
    }

    /// `live_sessions{role}`.
    func sessions(_ role: LiveRole, _ count: Int) { gauge("live_sessions", [("role", role == .publisher ? "publisher" : "viewer")]).record(count) }
    /// `live_viewers{stream}`.
    func viewers(_ stream: String, _ count: Int) { gauge("live_viewers", [("stream", stream)]).record(count) }
    /// `live_bytes_in_total{stream,kind}`: RTP payload bytes from the publisher.
    func bytesIn(_ stream: String, _ kind: MediaKind, _ bytes: Int) {
        counter("live_bytes_in_total", [("stream", stream), ("kind", kind.rawValue)]).increment(by: Int64(bytes))
    }
    /// `live_bytes_out_total{stream,kind}`: RTP payload bytes sent to viewers (their stats).
    func bytesOut(_ stream: String, _ kind: MediaKind, _ bytes: UInt64) {
        guard bytes > 0 else { return }
        counter("live_bytes_out_total", [("stream", stream), ("kind", kind.rawValue)]).increment(by: Int64(clamping: bytes))
    }
    /// `live_packets_lost_total{stream}`.
    func packetsLost(_ stream: String, _ count: UInt64) {
        guard count > 0 else { return }
        counter("live_packets_lost_total", [("stream", stream)]).increment(by: Int64(clamping: count))
    }
    /// `live_nacks_total{stream}`: NACK packets from viewers plus those sent to the publisher.
    func nacks(_ stream: String, _ count: UInt64) {
        guard count > 0 else { return }
        counter("live_nacks_total", [("stream", stream)]).increment(by: Int64(clamping: count))
    }
    /// `live_keyframe_requests_total{stream,from}`: from = viewers (their PLI/FIR that reached the
    /// stream) or server (requests sent to the publisher).
    func keyframeRequest(_ stream: String, fromViewers: Bool) {
        counter("live_keyframe_requests_total", [("stream", stream), ("from", fromViewers ? "viewers" : "server")]).increment()
    }
    /// `live_viewer_dropped_packets_total{stream}`.
    func dropped(_ stream: String, _ count: UInt64) {
        guard count > 0 else { return }
        counter("live_viewer_dropped_packets_total", [("stream", stream)]).increment(by: Int64(clamping: count))
    }
}
