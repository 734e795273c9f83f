/// How many remote candidates each component holds, so that
/// ``IceTransport/Configuration/maximumRemoteCandidates`` bounds what libnice and the queue of
/// early candidates hold at any time, across ICE restarts.
///
/// Kept in the hub's state and changed on the caller's thread, in the order of the API calls
/// (``AgentCore`` sees the same calls later, in the same order): a restart starts a new count at
/// once, so candidates of the new generation are neither refused because the old count was not
/// reset yet nor lost from the count because a late reset wiped them.
///
/// A component holds the candidates of the current remote generation (signalled ones, and the
/// peer-reflexive ones libnice learnt from checks, which it keeps and uses without asking) plus
/// those tagged with the `ufrag` of a generation not set yet, which wait in ``AgentCore``'s queue.
struct RemoteCandidateBudget: Sendable {
    enum Admission: Equatable {
        case accepted
        /// Tagged with the ufrag of an earlier generation: dropped (``AgentCore`` drops it too).
        case stale
        case full
    }

    let limit: Int
    /// Candidates of the current generation, per component.
    private(set) var current: [Int: Int] = [:]
    /// Peer-reflexive addresses counted in `current`, so the same address signalled later is not
    /// counted twice (libnice updates the candidate it learnt instead of adding one).
    private var learnt: [Int: Set<String>] = [:]
    /// Candidates tagged with a ufrag that is not the current remote one, per ufrag and component.
    private var waiting: [String: [Int: Int]] = [:]
    /// Remote ufrags of earlier generations.
    private var stale: Set<String> = []

    init(limit: Int) { self.limit = limit }

    /// Candidates held for `component`: current generation and waiting ones.
    func held(_ component: Int) -> Int {
        current[component, default: 0] + waiting.values.reduce(0) { $0 + $1[component, default: 0] }
    }

    /// Counts a signalled candidate unless the component is full. `remoteUfrag` is the current
    /// remote ufrag (nil before the remote parameters of this generation are set); `key`
    /// identifies the candidate's transport address.
    mutating func admit(component: Int, key: String, ufrag: String?, remoteUfrag: String?) -> Admission {
        if let ufrag, stale.contains(ufrag) { return .stale }
        if ufrag == nil || ufrag == remoteUfrag {
            if learnt[component]?.remove(key) != nil { return .accepted }  // already counted
            guard held(component) < limit else { return .full }
            current[component, default: 0] += 1
        } else if let ufrag {
            guard held(component) < limit else { return .full }
            waiting[ufrag, default: [:]][component, default: 0] += 1
        }
        return .accepted
    }

    /// Counts a peer-reflexive candidate libnice learnt (it is held whatever the limit says).
    /// Returns how many peer-reflexive candidates `component` learnt in this generation.
    @discardableResult
    mutating func learn(component: Int, key: String) -> Int {
        if learnt[component, default: []].insert(key).inserted { current[component, default: 0] += 1 }
        return learnt[component]?.count ?? 0
    }

    /// The remote parameters of the current generation were set (`ufrag`): candidates waiting for
    /// them join the current generation.
    mutating func adopt(_ ufrag: String) {
        stale.remove(ufrag)
        for (component, n) in waiting.removeValue(forKey: ufrag) ?? [:] { current[component, default: 0] += n }
    }

    /// An ICE restart: the current generation (signalled and learnt) is forgotten, as libnice
    /// forgets it; candidates tagged with `oldUfrag` become stale. Untagged candidates queued
    /// before the restart are dropped by ``AgentCore`` too.
    mutating func restart(oldUfrag: String?) {
        if let oldUfrag {
            stale.insert(oldUfrag)
            waiting.removeValue(forKey: oldUfrag)
        }
        current = [:]
        learnt = [:]
    }

    /// The key of a transport address, as libnice compares candidates.
    static func key(_ c: IceCandidate) -> String {
        "\(c.transport) \(c.address.lowercased()) \(c.port)"
    }
}
