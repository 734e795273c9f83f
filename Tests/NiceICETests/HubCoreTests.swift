import Dispatch
import Testing

@testable import NiceICE

/// A layer with two event kinds, one with a payload and one without, to test the shared shape alone.
final class ProbeHub: HubLayer, Sendable {
    enum Event: Sendable {
        case number(Int)
        case ping
    }

    struct Handlers: Sendable {
        var number: (@Sendable (Int) -> Void)?
        var ping: (@Sendable () -> Void)?
    }

    struct Values: Sendable {
        var last = 0
    }

    static var noHandlers: Handlers { Handlers() }

    static func record(_ event: Event, in s: inout HubState<ProbeHub>) -> Bool {
        if case .number(let n) = event { s.values.last = n }
        return true
    }

    static func route<Route: HubRoute>(_ event: Event, _ route: inout Route) where Route.Handlers == Handlers {
        switch event {
        case .number(let n): route.send(n, to: \.number)
        case .ping: route.signal(to: \.ping)
        }
    }

    let core: HubCore<ProbeHub>

    init(queue: DispatchQueue? = nil, batching: Bool = true) {
        core = HubCore(Values(), queue: queue, batching: batching)
    }
}

@Suite("HubCore: the hub shape every layer shares", .timeLimit(.minutes(1)))
struct HubCoreTests {
    @Test("Events before start(queue:) wait and then reach the handlers in order; a new stream replays, then follows")
    func startThenStream() async {
        let hub = ProbeHub()
        let seen = Locked<[Int]>([])
        hub.setHandlers { $0.number = { n in seen.withLock { $0.append(n) } } }
        for n in 1...3 { hub.emit(.number(n)) }
        let queue = DispatchQueue(label: "test.hub.start")
        hub.core.start(queue: queue)
        queue.sync {}
        #expect(seen.withLock { $0 } == [1, 2, 3])
        var numbers = hub.core.makeStream { [$0.values.last] }.makeAsyncIterator()
        hub.emit(.number(4))
        #expect(await numbers.next() == 3)
        #expect(await numbers.next() == 4)
        #expect(hub.core.close())
        #expect(await numbers.next() == nil)
    }

    @Test("close(): queued events are dropped, handlers too, every stream ends, nothing after; a second close says so")
    func closeDropsWhatWaits() async {
        let queue = DispatchQueue(label: "test.hub.close")
        let hub = ProbeHub(queue: queue)
        let seen = Locked<[Int]>([])
        hub.setHandlers { $0.number = { n in seen.withLock { $0.append(n) } } }
        let numbers = hub.core.makeStream { _ in [Int]() }
        let pings = hub.core.makeStream { _ in [Void]() }
        queue.suspend()
        hub.emit(.number(1))
        hub.emit(.ping)
        #expect(hub.core.close())
        queue.resume()
        queue.sync {}
        #expect(seen.withLock { $0 }.isEmpty)
        #expect(hub.handler(\.number) == nil)
        hub.setHandlers { $0.number = { _ in } }
        #expect(hub.handler(\.number) == nil, "a closed hub keeps no handler")
        hub.emit(.number(2))
        var got: [Int] = []
        for await n in numbers { got.append(n) }
        #expect(got == [1])
        var pinged = 0
        for await _ in pings { pinged += 1 }
        #expect(pinged == 1)
        #expect(!hub.core.close())
    }

    @Test("finish() unbatched: what was queued is delivered in order with posted work and the queue's own, then the handlers go")
    func finishDeliversQueued() async {
        let queue = DispatchQueue(label: "test.hub.finish")
        let hub = ProbeHub(queue: queue, batching: false)
        let seen = Locked<[String]>([])
        hub.setHandlers {
            $0.number = { n in seen.withLock { $0.append("n\(n)") } }
            $0.ping = { seen.withLock { $0.append("ping") } }
        }
        queue.suspend()
        hub.emit(.number(1))
        hub.core.post { seen.withLock { $0.append("post") } }
        hub.emit(.ping)
        queue.async { seen.withLock { $0.append("foreign") } }
        hub.emit(.number(2))
        hub.core.finish()
        hub.core.post { seen.withLock { $0.append("after") } }
        hub.emit(.number(3))
        queue.resume()
        queue.sync {}
        #expect(seen.withLock { $0 } == ["n1", "post", "ping", "foreign", "n2", "after"])
        #expect(hub.handler(\.number) == nil && hub.handler(\.ping) == nil)
        var late = hub.core.makeStream { [$0.values.last] }.makeAsyncIterator()
        #expect(await late.next() == 2)
        #expect(await late.next() == nil)
    }
}
