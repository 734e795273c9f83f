import Dispatch
import NiceICE
import NiceWebRTCCore

/// The received messages of one channel on their way to the user: to its message handler (on the
/// transport's queue, in order) or to the one task iterating ``DataChannel/messages()``.
///
/// Back-pressure: every message counts against the transport's receive budget, at its
/// ``cost(of:)`` (payload plus a fixed overhead, so an empty message is not free), until the handler
/// returned or the iterator took it (`consumed`); the association stops reading from usrsctp while
/// the budget is spent, so a slow consumer closes SCTP's receive window instead of growing memory.
///
/// When the channel closes (``finish()``) everything still queued is credited back at once: the
/// messages stay deliverable, but a channel nobody reads any more can no longer hold the budget
/// of the whole association (issue 17 §2). Once finished and drained, the handler is dropped, so a
/// handler that captures its channel (`{ m in try? channel.send(m) }`) does not keep it alive.
final class DataChannelInbox: Sendable {
    /// What one received message costs beyond its payload: the `[UInt8]` allocation (header and
    /// malloc rounding) and its slot in the queue, rounded up.
    static let overheadPerMessage = 64

    /// What `message` counts against the receive budget.
    static func cost(of message: DataChannelMessage) -> Int { message.count + overheadPerMessage }

    struct State: Sendable {
        var messages: [DataChannelMessage] = []
        var head = 0
        var waiter: CheckedContinuation<DataChannelMessage?, Never>?
        var handler: (@Sendable (DataChannelMessage) -> Void)?
        var drainScheduled = false
        var finished = false
        /// Budget held by the queued messages; 0 once ``finish()`` credited it back.
        var charged = 0

        /// The next message and the budget to give back for it (0 after `finish`).
        mutating func pop() -> (DataChannelMessage, credit: Int)? {
            guard head < messages.count else { return nil }
            let m = messages[head]
            let credit = finished ? 0 : DataChannelInbox.cost(of: m)
            charged -= credit
            head += 1
            if head == messages.count {
                messages.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 256 && head * 2 > messages.count {
                messages.removeFirst(head)
                head = 0
            }
            if finished && isEmpty { handler = nil }  // drained after close: release what it captured
            return (m, credit)
        }

        var isEmpty: Bool { head >= messages.count }
    }

    let state = Locked(State())
    let queue: DispatchQueue
    /// Gives `bytes` back to the transport's receive budget (atomics only, no lock).
    let consumed: @Sendable (Int) -> Void

    init(queue: DispatchQueue, consumed: @escaping @Sendable (Int) -> Void) {
        self.queue = queue
        self.consumed = consumed
    }

    /// From the association: one more message, already charged at ``cost(of:)`` to the budget.
    func push(_ message: DataChannelMessage) {
        enum Next { case resume(CheckedContinuation<DataChannelMessage?, Never>), drain, refused, none }
        let next = state.withLock { s -> Next in
            guard !s.finished else { return .refused }
            if let k = s.waiter {
                s.waiter = nil
                return .resume(k)
            }
            s.messages.append(message)
            s.charged += Self.cost(of: message)
            guard s.handler != nil, !s.drainScheduled else { return .none }
            s.drainScheduled = true
            return .drain
        }
        switch next {
        case .resume(let k):
            k.resume(returning: message)
            consumed(Self.cost(of: message))
        case .drain:
            queue.async { [self] in drain() }
        case .refused:
            consumed(Self.cost(of: message))
        case .none:
            return
        }
    }

    /// No more messages will come; what is queued is still delivered, but no longer counts against
    /// the association's receive budget.
    func finish() {
        let (waiter, credit) = state.withLock { s -> (CheckedContinuation<DataChannelMessage?, Never>?, Int) in
            guard !s.finished else { return (nil, 0) }
            s.finished = true
            let credit = s.charged
            s.charged = 0
            if s.isEmpty { s.handler = nil }
            defer { s.waiter = nil }
            return (s.isEmpty ? s.waiter : nil, credit)
        }
        if credit > 0 { consumed(credit) }
        waiter?.resume(returning: nil)
    }

    /// The user closed the channel (W3C: messages that arrive for a channel that is not `open` are
    /// discarded): what waits is dropped and its budget credited back at once, and so is what still
    /// arrives, so a closed channel nobody reads never stalls the association.
    func discard() {
        let (waiter, credit) = state.withLock { s -> (CheckedContinuation<DataChannelMessage?, Never>?, Int) in
            let credit = s.charged
            s.charged = 0
            s.messages = []
            s.head = 0
            s.finished = true
            s.handler = nil
            defer { s.waiter = nil }
            return (s.waiter, credit)
        }
        if credit > 0 { consumed(credit) }
        waiter?.resume(returning: nil)
    }

    func setHandler(_ handler: (@Sendable (DataChannelMessage) -> Void)?) {
        let drain = state.withLock { s -> Bool in
            // A finished, drained inbox keeps no handler: nothing would call it, and what it
            // captured (often the channel itself) would never be released.
            s.handler = s.finished && s.isEmpty ? nil : handler
            guard handler != nil, !s.isEmpty, !s.drainScheduled else { return false }
            s.drainScheduled = true
            return true
        }
        if drain { queue.async { [self] in self.drain() } }
    }

    var handler: (@Sendable (DataChannelMessage) -> Void)? { state.withLock { $0.handler } }

    private func drain() {
        var budget = 256  // then yield the queue to other work, and come back
        while budget > 0 {
            budget -= 1
            let next = state.withLock { s -> (DataChannelMessage, Int, @Sendable (DataChannelMessage) -> Void)? in
                guard let h = s.handler, let (m, credit) = s.pop() else {
                    s.drainScheduled = false
                    return nil
                }
                return (m, credit, h)
            }
            guard let (message, credit, handler) = next else { return }
            handler(message)
            if credit > 0 { consumed(credit) }
        }
        queue.async { [self] in drain() }
    }

    /// The iterator's side: the next message, waiting for it; nil when the channel closed and all
    /// was taken, or when the waiting task is cancelled.
    func next() async -> DataChannelMessage? {
        let message: DataChannelMessage? = await withTaskCancellationHandler {
            await withCheckedContinuation { (k: CheckedContinuation<DataChannelMessage?, Never>) in
                enum Now { case value(DataChannelMessage?, credit: Int), wait(CheckedContinuation<DataChannelMessage?, Never>?) }
                let now = state.withLock { s -> Now in
                    if let (m, credit) = s.pop() { return .value(m, credit: credit) }
                    if s.finished || Task.isCancelled { return .value(nil, credit: 0) }
                    let previous = s.waiter  // a second iterator: the first one ends
                    s.waiter = k
                    return .wait(previous)
                }
                switch now {
                case .value(let m, let credit):
                    if credit > 0 { consumed(credit) }
                    k.resume(returning: m)
                case .wait(let previous):
                    previous?.resume(returning: nil)
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<DataChannelMessage?, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
        return message
    }
}
