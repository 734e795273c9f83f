// Event-latency probe without touching NiceICE's sources.
//
// `AgentCore.onComponentState` (NiceICE, on the GLib thread, called by the trampoline of libnice's
// `component-state-changed` signal) logs `component S/C -> STATE` at debug level *before* it feeds
// the state machine; `EventHub.process` then logs `iceConnectionState <change>` for every change,
// under the hub lock, right before it enqueues the delivery. A LogHandler at debug level sees both
// on the GLib thread and timestamps them:
//   t0 = signal seen by NiceICE ("component" line), t1 = change produced ("iceConnectionState"),
//   t2 = the user's stateUpdateHandler runs on its queue.
// t2 - t0 is the figure of issue 5 (signal → user's handler). It is a slight over-estimate: with
// debug logging on, NiceICE also formats its two debug messages (a few µs) on that path.
import Logging
import Synchronization

final class Probe: Sendable {
    static let shared = Probe()

    struct Conn: Sendable {
        var lastSignal: UInt64?
        /// (signal time, change-produced time) per produced change, in delivery order.
        var fifo: [(UInt64, UInt64)] = []
        var head = 0
    }

    struct State: Sendable {
        var conns: [String: Conn] = [:]
        var lastCreated: String?
        var unmatched = 0
    }

    let state = Mutex(State())

    func observe(pc: String, message: String, at t: UInt64) {
        if message.hasPrefix("component ") && message.contains(" -> ") {
            state.withLock { $0.conns[pc, default: Conn()].lastSignal = t }
        } else if message.hasPrefix("iceConnectionState ") {
            state.withLock { s in
                if let t0 = s.conns[pc]?.lastSignal {
                    s.conns[pc]!.fifo.append((t0, t))
                } else {
                    s.conns[pc, default: Conn()].fifo.append((0, t))  // not caused by a component signal
                }
            }
        } else if message.hasPrefix("created") {
            state.withLock { $0.lastCreated = pc }
        }
    }

    /// The id ("pc" metadata) of the connection whose init just returned on this thread.
    func takeLastCreated() -> String? { state.withLock { s in defer { s.lastCreated = nil }; return s.lastCreated } }

    /// The next produced change of `pc`, popped when its handler runs: (t0 signal, t1 produced).
    func pop(pc: String) -> (UInt64, UInt64)? {
        state.withLock { s in
            guard var c = s.conns[pc], c.head < c.fifo.count else {
                s.unmatched += 1
                return nil
            }
            let v = c.fifo[c.head]
            c.head += 1
            s.conns[pc] = c
            return v
        }
    }

    func forget(pc: String) { _ = state.withLock { $0.conns.removeValue(forKey: pc) } }
}

/// Debug-level handler for the "NiceICE" logger: feeds `Probe`, forwards warnings to stderr.
struct ProbeLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let t = nowNs()
        if event.level >= .warning { NiceBench.log("\(label) \(event.level): \(event.message)") }
        guard label == "NiceICE", let pc = metadata["pc"] else { return }
        Probe.shared.observe(pc: "\(pc)", message: event.message.description, at: t)
    }
}

/// Default handler: warnings and errors to stderr, never stdout (stdout carries the JSON lines).
struct StderrLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        NiceBench.log("\(label) \(event.level): \(event.message)")
    }
}
