internal import CNice
import Dispatch
import Logging
import Synchronization

/// The GMainContext and GMainLoop of one ``NiceContext``.
///
/// `@unchecked Sendable` is safe because the two pointers are immutable after creation and GLib
/// documents every function used on them from other threads (`g_source_attach`,
/// `g_main_context_is_owner`, `g_main_context_wakeup`) as thread-safe; the loop itself runs only on
/// the context's thread, which owns the last reference.
struct LoopHandle: @unchecked Sendable {
    let context: OpaquePointer
    let loop: OpaquePointer
}

/// A libnice agent pointer.
///
/// `@unchecked Sendable` is safe because a NiceAgent serialises every public call with its own
/// agent mutex; NiceICE additionally calls it only on the context thread, except
/// `nice_agent_send`, which `AgentCore` guards with its send lock against the final unref.
struct AgentHandle: @unchecked Sendable {
    let raw: OpaquePointer
}

/// A heap box for a Swift closure handed to GLib as user data.
final class ClosureBox: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// The one funnel through which NiceICE calls C: libnice, GLib, and the POSIX calls of the resolver,
/// the TURN probe's sockets and network namespaces. Its extensions (`Binding/LibNice+*.swift`) and
/// the `Trampolines` it installs are the only code that imports `CNice` or calls a C function; the
/// one exception outside `Binding/` is the pthread mutexes of `Locked` and `DeliveryGate`, kept
/// there because ThreadSanitizer must see them inline.
enum LibNice {
    static let logger = Logger(label: "NiceICE.libnice")

    // MARK: Main loop

    static func newLoop() -> LoopHandle {
        let context = g_main_context_new()!  // GLib aborts the process itself on allocation failure
        let loop = g_main_loop_new(context, 0)!
        return LoopHandle(context: context, loop: loop)
    }

    /// The body of a context thread: own the context, run until quit, then free both. `stopping`
    /// runs after the last iteration and before the free: it must make sure nothing can attach a
    /// source any more (``JobQueue/stop()``).
    static func runLoop(_ h: LoopHandle, started: DispatchSemaphore, stopping: () -> Void) {
        g_main_context_push_thread_default(h.context)
        started.signal()
        g_main_loop_run(h.loop)
        // Let pending teardown work (agent close callbacks) finish before the context goes.
        var spins = 0
        while g_main_context_iteration(h.context, 0) != 0 && spins < 10_000 { spins += 1 }
        stopping()
        g_main_context_pop_thread_default(h.context)
        g_main_loop_unref(h.loop)
        g_main_context_unref(h.context)
    }

    /// Frees a loop that never ran (its thread could not start).
    static func releaseLoop(_ h: LoopHandle) {
        g_main_loop_unref(h.loop)
        g_main_context_unref(h.context)
    }

    static func quitLoop(_ h: LoopHandle) { g_main_loop_quit(h.loop) }

    static func isOwner(_ h: LoopHandle) -> Bool { g_main_context_is_owner(h.context) != 0 }

    /// Attaches an idle source that drains `jobs` once on the loop thread. The source holds a
    /// reference to the queue until it has run.
    static func scheduleDrain(_ h: LoopHandle, _ jobs: JobQueue) {
        let source = g_idle_source_new()
        g_source_set_priority(source, G_PRIORITY_DEFAULT)
        g_source_set_callback(
            source, Trampolines.drainJobs, Unmanaged.passRetained(jobs).toOpaque(), Trampolines.releaseJobs)
        g_source_attach(source, h.context)
        g_source_unref(source)
    }

    /// Attaches an idle source that runs `body` once on the loop thread (always asynchronously).
    /// Loop thread only: the box is handed to GLib on the thread that runs it.
    static func invoke(_ h: LoopHandle, _ body: @escaping @Sendable () -> Void) {
        let source = g_idle_source_new()
        g_source_set_priority(source, G_PRIORITY_DEFAULT)
        g_source_set_callback(
            source, Trampolines.runBox, Unmanaged.passRetained(ClosureBox(body)).toOpaque(), Trampolines.releaseBox)
        g_source_attach(source, h.context)
        g_source_unref(source)
    }

    /// Attaches a timeout source that runs `body` once after `milliseconds`. Loop thread only (see
    /// ``NiceContext/schedule(after:_:)``), so the box never crosses threads through GLib's locks.
    static func addTimeout(_ h: LoopHandle, milliseconds: UInt32, _ body: @escaping @Sendable () -> Void) {
        let source = g_timeout_source_new(milliseconds)
        g_source_set_callback(
            source, Trampolines.runBox, Unmanaged.passRetained(ClosureBox(body)).toOpaque(), Trampolines.releaseBox)
        g_source_attach(source, h.context)
        g_source_unref(source)
    }

    // MARK: Logging

    private static let logBridgeInstalled = Locked(false)

    /// Routes libnice's GLib log domains into swift-log at debug level (once per process).
    /// libnice's verbose debug output is switched on only when `NICEICE_LIBNICE_DEBUG` is set,
    /// because formatting it costs time on every packet.
    static func installLogBridge() {
        let first = logBridgeInstalled.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let levels = GLogLevelFlags(
            rawValue: G_LOG_LEVEL_MASK.rawValue | G_LOG_FLAG_FATAL.rawValue | G_LOG_FLAG_RECURSION.rawValue)
        for domain in ["libnice", "libnice-stun", "libnice-socket", "libnice-pseudotcp"] {
            g_log_set_handler(domain, levels, Trampolines.logHandler, nil)
        }
        if getenv("NICEICE_LIBNICE_DEBUG") != nil { nice_debug_enable(1) } else { nice_debug_disable(1) }
    }

    static func log(domain: UnsafePointer<CChar>?, level: UInt32, message: UnsafePointer<CChar>?) {
        let d = domain.map { String(cString: $0) } ?? "glib"
        let m = message.map { String(cString: $0) } ?? ""
        let loud = G_LOG_LEVEL_ERROR.rawValue | G_LOG_LEVEL_CRITICAL.rawValue | G_LOG_LEVEL_WARNING.rawValue
        if level & UInt32(bitPattern: loud) != 0 {
            logger.warning("\(m)", metadata: ["domain": "\(d)"])
        } else {
            logger.debug("\(m)", metadata: ["domain": "\(d)"])
        }
    }
}
