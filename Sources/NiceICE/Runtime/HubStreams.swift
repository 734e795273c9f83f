/// Every live stream of one hub, one ``StreamRegistry`` per element type, kept inside the hub's
/// lock. A hub's streams are told apart by their element type (each layer's event kinds have
/// distinct payload types: `IceStateChange`, `IceCandidate?`, `CandidatePair`, …), so one place
/// can finish them all at close and none is forgotten.
package struct HubStreams: Sendable {
    private var registries: [ObjectIdentifier: any FinishableStreams] = [:]

    package init() {}

    /// Registers `continuation` (a new one, not yet handed out) with the streams of its type.
    package mutating func add<Element: Sendable>(_ continuation: AsyncStream<Element>.Continuation) {
        let key = ObjectIdentifier(Element.self)
        // Taken out while changed, so the registry is not copied.
        var registry = registries.removeValue(forKey: key) as? StreamRegistry<Element> ?? StreamRegistry()
        registry.add(continuation)
        registries[key] = registry
    }

    /// Yields `element` to every live stream of its type.
    package mutating func yield<Element: Sendable>(_ element: Element) {
        let key = ObjectIdentifier(Element.self)
        guard var registry = registries.removeValue(forKey: key) as? StreamRegistry<Element> else { return }
        registry.yield(element)
        registries[key] = registry
    }

    /// Whether a stream of `type` that has not ended is registered.
    package func hasLiveStreams<Element: Sendable>(of type: Element.Type) -> Bool {
        (registries[ObjectIdentifier(type)] as? StreamRegistry<Element>)?.hasLiveStreams ?? false
    }

    /// How many streams of `type` are registered (ended ones not yet forgotten included).
    package func registeredCount<Element: Sendable>(of type: Element.Type) -> Int {
        (registries[ObjectIdentifier(type)] as? StreamRegistry<Element>)?.continuations.count ?? 0
    }

    /// Empties the table; the returned closure finishes every stream it held, each exactly once
    /// (call it outside the hub's lock: a finished stream's consumer may run at once).
    package mutating func removeAllForFinishing() -> @Sendable () -> Void {
        var finishers: [@Sendable () -> Void] = []
        for key in Array(registries.keys) {
            guard var registry = registries.removeValue(forKey: key) else { continue }
            finishers.append(registry.removeAllForFinishing())
        }
        let all = finishers
        return { for finish in all { finish() } }
    }
}

/// A ``StreamRegistry`` of any element type, as ``HubStreams`` finishes them.
protocol FinishableStreams: Sendable {
    mutating func removeAllForFinishing() -> @Sendable () -> Void
}

extension StreamRegistry: FinishableStreams {}
