import Dispatch
import Foundation
import Logging
import Synchronization

/// A GLib main loop on a dedicated thread: the one thread on which libnice agents run.
///
/// Every libnice call and every libnice signal of the agents created on a context happens on its
/// thread; ``PeerConnection`` hops there for you, so its methods may be called from any thread.
/// ``NiceContext/default`` serves the whole process; create more (for example one per core) and
/// pass them to ``PeerConnection/init(configuration:context:)`` to spread agents over cores.
///
/// The thread ends once the context and every ``PeerConnection`` created on it are released.
public final class NiceContext: Sendable {
    /// The process-wide context, created on first use.
    public static let `default` = NiceContext(name: "NiceICE.default")

    let loop: LoopHandle
    /// The name of the context's thread.
    public let name: String
    /// The network namespace the context's thread joined, if any.
    public let networkNamespace: String?
    /// 0, or the `errno` that stopped the thread from joining its namespace (it then never ran).
    private let startError: Int32

    /// Creates a context and starts its thread.
    public convenience init(name: String = "NiceICE") {
        self.init(name: name, namespace: nil)
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
        self.init(name: name, namespace: networkNamespace)
        guard startError == 0 else {
            throw IceError(
                .invalidConfiguration, field: "networkNamespace",
                reason: "cannot join network namespace '\(networkNamespace)': \(LibNice.errorText(startError))")
        }
    }

    private init(name: String, namespace: String?) {
        LibNice.installLogBridge()
        self.name = name
        self.networkNamespace = namespace
        let loop = LibNice.newLoop()
        self.loop = loop
        let started = DispatchSemaphore(value: 0)
        let status = Locked<Int32>(0)
        let thread = Thread {
            if let namespace {
                let error = LibNice.enterNetworkNamespace(namespace)
                if error != 0 {
                    status.withLock { $0 = error }
                    LibNice.releaseLoop(loop)
                    started.signal()
                    return
                }
            }
            LibNice.runLoop(loop, started: started)
        }
        thread.name = name
        thread.start()
        started.wait()
        startError = status.withLock { $0 }
    }

    deinit {
        guard startError == 0 else { return }
        // Quit from inside the loop so a quit can never race the start of `g_main_loop_run`.
        let loop = self.loop
        LibNice.invoke(loop) { LibNice.quitLoop(loop) }
    }

    /// True on the context's own thread.
    var isCurrent: Bool { LibNice.isOwner(loop) }

    /// Runs `body` on the context's thread, always later (never inline, even on that thread), in the
    /// order of the calls. An idle source keeps the order and avoids the re-entrancy of
    /// `g_main_context_invoke`, which runs inline on the owner thread (feasibility.md §11).
    func execute(_ body: @escaping @Sendable () -> Void) {
        LibNice.invoke(loop, body)
    }

    /// Runs `body` on the context's thread and waits for its result. Inline when already there.
    /// (`nil` only if the body never ran, which the GLib loop does not allow while it lives.)
    func executeAndWait<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T? {
        if isCurrent { return body() }
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }

    /// Runs `body` on the context's thread after `delay`.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        LibNice.addTimeout(loop, milliseconds: delay.milliseconds, body)
    }
}

extension Duration {
    /// Whole milliseconds, rounded up, clamped to `UInt32`.
    var milliseconds: UInt32 {
        let (s, atto) = components
        let ms = s * 1000 + (atto + 999_999_999_999_999) / 1_000_000_000_000_000
        return UInt32(clamping: max(0, ms))
    }
}
