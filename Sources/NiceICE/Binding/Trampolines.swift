internal import CNice

/// GLib's user data for an agent's signals and receive callback: a **weak** reference to the core,
/// so GLib never keeps a ``IceTransport`` alive and a late callback finds `nil` instead of freed
/// memory. Immutable, and Swift weak references are safe to read from any thread.
final class SignalBox: Sendable {
    weak let core: AgentCore?
    init(_ core: AgentCore) { self.core = core }
}

/// The C entry points GLib and libnice call. Plain `static let` closures in a non-isolated enum:
/// written inline in actor-isolated code they would inherit that isolation and trap on the GLib
/// thread. Each one only unwraps its box and forwards.
enum Trampolines {
    private static func core(_ data: gpointer?) -> AgentCore? {
        guard let data else { return nil }
        return Unmanaged<SignalBox>.fromOpaque(data).takeUnretainedValue().core
    }

    static let stateChanged: cnice_state_changed_cb = { agent, stream, component, state, data in
        guard let agent, let core = core(data) else { return }
        core.onComponentState(AgentHandle(raw: agent), stream: stream, component: component, state: state)
    }

    static let newCandidate: cnice_candidate_cb = { agent, candidate, data in
        guard let agent, let candidate, let core = core(data) else { return }
        let handle = AgentHandle(raw: agent)
        core.onLocalCandidate(
            handle, stream: LibNice.candidateStream(candidate), line: LibNice.candidateLine(handle, candidate))
    }

    static let newRemoteCandidate: cnice_candidate_cb = { agent, candidate, data in
        guard let agent, let candidate, let core = core(data) else { return }
        core.onPeerReflexiveCandidate(line: LibNice.candidateLine(AgentHandle(raw: agent), candidate))
    }

    static let gatheringDone: cnice_gathering_done_cb = { agent, stream, data in
        guard agent != nil, let core = core(data) else { return }
        core.onGatheringDone(stream: stream)
    }

    static let selectedPair: cnice_selected_pair_cb = { agent, stream, component, local, remote, data in
        guard let agent, let local, let remote, let core = core(data) else { return }
        let handle = AgentHandle(raw: agent)
        core.onSelectedPair(
            stream: stream, component: component, local: LibNice.candidateLine(handle, local),
            remote: LibNice.candidateLine(handle, remote))
    }

    static let receive: NiceAgentRecvFunc = { _, stream, component, length, buffer, data in
        guard let buffer, let core = core(data) else { return }
        core.onReceive(component: component, UnsafeRawBufferPointer(start: buffer, count: Int(length)))
    }

    /// `GClosureNotify` for a signal connection: drops that connection's retain of the box.
    static let releaseSignalBox: GClosureNotify = { data, _ in
        guard let data else { return }
        Unmanaged<SignalBox>.fromOpaque(data).release()
    }

    /// `GSourceFunc` running a ``ClosureBox`` once.
    static let runBox: GSourceFunc = { data in
        if let data { Unmanaged<ClosureBox>.fromOpaque(data).takeUnretainedValue().body() }
        return 0  // G_SOURCE_REMOVE
    }

    /// `GSourceFunc` draining a context's ``JobQueue``.
    static let drainJobs: GSourceFunc = { data in
        if let data { Unmanaged<JobQueue>.fromOpaque(data).takeUnretainedValue().drain() }
        return 0  // G_SOURCE_REMOVE
    }

    /// `GDestroyNotify` releasing the idle source's reference to a ``JobQueue``.
    static let releaseJobs: GDestroyNotify = { data in
        guard let data else { return }
        Unmanaged<JobQueue>.fromOpaque(data).release()
    }

    /// `GDestroyNotify` releasing a ``ClosureBox``.
    static let releaseBox: GDestroyNotify = { data in
        guard let data else { return }
        Unmanaged<ClosureBox>.fromOpaque(data).release()
    }

    /// `GAsyncReadyCallback` of `nice_agent_close_async`: runs and releases its ``ClosureBox``.
    static let closed: GAsyncReadyCallback = { _, _, data in
        guard let data else { return }
        Unmanaged<ClosureBox>.fromOpaque(data).takeRetainedValue().body()
    }

    /// `GLogFunc` bridging libnice's log domains into swift-log.
    static let logHandler: GLogFunc = { domain, level, message, _ in
        LibNice.log(domain: domain, level: UInt32(bitPattern: level.rawValue), message: message)
    }
}
