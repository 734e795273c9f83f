import Foundation
import Synchronization

/// A fixed set of ``NiceContext``s, handed out round-robin: one GLib thread per core instead of
/// one for the whole process, for servers with many connections.
///
/// ```swift
/// let contexts = NiceContextGroup()          // one context per active core
/// let pc = try IceTransport(configuration: configuration, context: contexts.next())
/// ```
public final class NiceContextGroup: Sendable {
    /// The contexts, in round-robin order.
    public let contexts: [NiceContext]
    private let cursor = Atomic<Int>(0)

    /// Creates `count` contexts (default: one per active processor).
    public init(count: Int = ProcessInfo.processInfo.activeProcessorCount, name: String = "NiceICE.group") {
        contexts = (0..<max(1, count)).map { NiceContext(name: "\(name).\($0)") }
    }

    /// The next context, round-robin. Thread-safe.
    public func next() -> NiceContext {
        let i = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return contexts[(i % contexts.count + contexts.count) % contexts.count]
    }
}
