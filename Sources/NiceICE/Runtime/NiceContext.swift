import Dispatch
import Foundation
import Logging
import Synchronization

/// A GLib main loop on a dedicated thread: the one thread on which libnice agents run.
///
/// Every libnice call and every libnice signal of the agents created on a context happens on its
/// thread; ``IceTransport`` hops there for you, so its methods may be called from any thread.
/// ``NiceContext/default`` serves the whole process; create more (for example one per core) and
/// pass them to ``IceTransport/init(configuration:context:logger:)`` to spread agents over cores.
///
/// The thread ends once the context and every ``IceTransport`` created on it are released.
public final class NiceContext: Sendable {
    /// The process-wide context, created on first use.
    public static let `default` = NiceContext(name: "NiceICE.default")

    let loop: LoopHandle
    /// Work waiting for the context thread (see ``execute(_:)``).
    let jobs = JobQueue()
    /// Signalled when the thread has ended.
    let exit = Completion()
    /// The connections on this context, for ``shutdown()``.
    let registry = Locked(Registry())

    struct Registry: Sendable {
        struct Entry: Sendable {
            weak var core: AgentCore?
        }
        var entries: [ObjectIdentifier: Entry] = [:]
        var shutDown = false
    }
    /// Threads for blocking work (DNS lookups, TURN probes), in the context's namespace.
    let workers: BlockingWorkers
    /// How host names of STUN/TURN servers are resolved (on ``workers``, never on the GLib thread).
    let resolver: HostResolver
    /// The name of the context's thread.
    public let name: String
    /// The network namespace the context's thread joined, if any.
    public let networkNamespace: String?
    /// 0, or the `errno` that stopped the thread from joining its namespace (it then never ran).
    private let startError: Int32

    /// Creates a context and starts its thread.
    public convenience init(name: String = "NiceICE") {
        self.init(name: name, namespace: nil, resolver: .system)
    }

    /// Creates a context whose thread lives in the network namespace `/var/run/netns/<name>` (made
    /// by `ip netns add`), so every socket libnice opens for connections on this context (host
    /// candidates, STUN, TURN) is in that namespace and `localAddresses` name its addresses. Needs
    /// CAP_SYS_ADMIN. Useful for tests that build networks, and for servers that keep media in a
    /// separate namespace.
    ///
    /// - Throws: ``IceError`` `invalidConfiguration` (field `networkNamespace`) when the namespace
    ///   cannot be joined.
    public convenience init(name: String = "NiceICE", networkNamespace: String) throws(IceError) {
        self.init(name: name, namespace: networkNamespace, resolver: .system)
        guard startError == 0 else {
            throw IceError(
                .invalidConfiguration, field: "networkNamespace",
                reason: "cannot join network namespace '\(networkNamespace)': \(LibNice.errorText(startError))")
        }
    }

    /// A context with its own host-name resolver (tests use a slow one).
    init(name: String, namespace: String?, resolver: HostResolver) {
        LibNice.installLogBridge()
        self.name = name
        self.networkNamespace = namespace
        self.resolver = resolver
        self.workers = BlockingWorkers(name: "\(name).blocking", namespace: namespace)
        let loop = LibNice.newLoop()
        self.loop = loop
        let started = DispatchSemaphore(value: 0)
        let status = Locked<Int32>(0)
        let jobs = self.jobs
        let exit = self.exit
        let thread = Thread {
            LibNice.nameCurrentThread(name)
            if let namespace {
                let error = LibNice.enterNetworkNamespace(namespace)
                if error != 0 {
                    status.withLock { $0 = error }
                    jobs.stop()
                    LibNice.releaseLoop(loop)
                    started.signal()
                    exit.finish()
                    return
                }
            }
            LibNice.runLoop(loop, started: started, stopping: { jobs.stop() })
            exit.finish()
        }
        thread.name = name
        thread.start()
        started.wait()
        startError = status.withLock { $0 }
    }

    deinit {
        workers.stop()
        guard startError == 0, !registry.withLock({ $0.shutDown }) else { return }
        // Quit from inside the loop so a quit can never race the start of `g_main_loop_run`.
        let loop = self.loop
        execute { LibNice.quitLoop(loop) }
    }

    /// True on the context's own thread.
    var isCurrent: Bool { LibNice.isOwner(loop) }

    /// Traps in debug builds when called off the context's thread: marks code that touches
    /// context-confined state or calls libnice.
    @inline(__always)
    func assertCurrent(_ function: StaticString = #function) {
        assert(isCurrent, "\(function) must run on the NiceContext thread")
    }

    /// Runs `body` on the context's thread, always later (never inline, even on that thread), in the
    /// order of the calls. The jobs wait in a pthread-locked queue (so ThreadSanitizer sees the
    /// hand-over) and one idle source drains everything queued since the last drain: a burst of
    /// calls costs one wake-up. Never inline: `g_main_context_invoke` runs inline on the owner
    /// thread, which would re-enter libnice inside its own signal.
    ///
    /// After the thread ended (``shutdown()``), jobs are dropped.
    /// On the context thread, queues `job` to run after the current loop iteration (a receive
    /// path's end-of-burst flush, see ``DatagramInbox``) and returns true; elsewhere returns false
    /// and does nothing.
    package func runAfterIteration(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard isCurrent else { return false }
        execute(job)
        return true
    }

    func execute(_ body: @escaping @Sendable () -> Void) {
        let loop = self.loop
        jobs.push(body) { [jobs] in LibNice.scheduleDrain(loop, jobs) }
    }

    /// Adds a connection; false once the context is shut down.
    func register(_ core: AgentCore) -> Bool {
        registry.withLock { r in
            guard !r.shutDown else { return false }
            r.entries[ObjectIdentifier(core)] = .init(core: core)
            return true
        }
    }

    func unregister(_ core: AgentCore) {
        _ = registry.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(core)) }
    }

    /// Shuts the context down gracefully, for a server that stops: closes every connection on it
    /// (as ``IceTransport/close()`` does: `closed`, no event), waits until libnice has released
    /// their sockets (at most 5 s for each, all at once), then ends the context's thread and its
    /// worker threads and waits for the thread to end. Creating a ``IceTransport`` on the context
    /// afterwards throws ``IceError/Code/invalidState``; methods of connections that were on it
    /// throw `closed`. Idempotent. Do not shut down ``NiceContext/default`` in a process that may
    /// still use it.
    public func shutdown() async {
        let (first, cores) = registry.withLock { r -> (Bool, [AgentCore]) in
            defer { r.shutDown = true }
            return (!r.shutDown, r.entries.values.compactMap(\.core))
        }
        guard first else {
            await exit.wait()
            return
        }
        for core in cores where core.hub.close() {
            execute { core.teardown() }
        }
        await withTaskGroup(of: Void.self) { group in
            for core in cores {
                group.addTask { _ = await core.hub.waitForTeardown(timeout: IceTransport.closeTimeout) }
            }
        }
        workers.stop()
        guard startError == 0 else { return }
        let loop = self.loop
        execute { LibNice.quitLoop(loop) }
        await exit.wait()
    }

    /// Runs `body` on the context's thread after `delay`.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        guard isCurrent else {
            let loop = self.loop
            execute { LibNice.addTimeout(loop, milliseconds: delay.milliseconds, body) }
            return
        }
        LibNice.addTimeout(loop, milliseconds: delay.milliseconds, body)
    }
}
