import Dispatch
import NiceICE
import NiceWebRTCCore

/// The received messages of one channel on their way to the user: to its message handler (on the
/// transport's queue, in order) or to the one task iterating ``DataChannel/messages()``.
///
/// Back-pressure: every message counts against the transport's receive budget until the handler
/// returned or the iterator took it (`consumed`); the association stops reading from usrsctp while
/// the budget is spent, so a slow consumer closes SCTP's receive window instead of growing memory.
final class DataChannelInbox: Sendable {
    struct State: Sendable {
        var messages: [DataChannelMessage] = []
        var head = 0
        var waiter: CheckedContinuation<DataChannelMessage?, Never>?
        var handler: (@Sendable (DataChannelMessage) -> Void)?
        var drainScheduled = false
        var finished = false

        mutating func pop() -> DataChannelMessage? {
            guard head < messages.count else { return nil }
            let m = messages[head]
            head += 1
            if head == messages.count {
                messages.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 256 && head * 2 > messages.count {
                messages.removeFirst(head)
                head = 0
            }
            return m
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

    /// From the association (under its lock): one more message.
    func push(_ message: DataChannelMessage) {
        enum Next { case resume(CheckedContinuation<DataChannelMessage?, Never>), drain, none }
        let next = state.withLock { s -> Next in
            guard !s.finished else { return .none }
            if let k = s.waiter {
                s.waiter = nil
                return .resume(k)
            }
            s.messages.append(message)
            guard s.handler != nil, !s.drainScheduled else { return .none }
            s.drainScheduled = true
            return .drain
        }
        switch next {
        case .resume(let k):
            k.resume(returning: message)
            consumed(message.count)
        case .drain:
            queue.async { [self] in drain() }
        case .none:
            return
        }
    }

    /// No more messages will come; what is queued is still delivered.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<DataChannelMessage?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.isEmpty ? s.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    func setHandler(_ handler: (@Sendable (DataChannelMessage) -> Void)?) {
        let drain = state.withLock { s -> Bool in
            s.handler = handler
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
            let next = state.withLock { s -> (DataChannelMessage, @Sendable (DataChannelMessage) -> Void)? in
                guard let h = s.handler, let m = s.pop() else {
                    s.drainScheduled = false
                    return nil
                }
                return (m, h)
            }
            guard let (message, handler) = next else { return }
            handler(message)
            consumed(message.count)
        }
        queue.async { [self] in drain() }
    }

    /// The iterator's side: the next message, waiting for it; nil when the channel closed and all
    /// was taken, or when the waiting task is cancelled.
    func next() async -> DataChannelMessage? {
        let message: DataChannelMessage? = await withTaskCancellationHandler {
            await withCheckedContinuation { (k: CheckedContinuation<DataChannelMessage?, Never>) in
                enum Now { case value(DataChannelMessage?), wait(CheckedContinuation<DataChannelMessage?, Never>?) }
                let now = state.withLock { s -> Now in
                    if let m = s.pop() { return .value(m) }
                    if s.finished || Task.isCancelled { return .value(nil) }
                    let previous = s.waiter  // a second iterator: the first one ends
                    s.waiter = k
                    return .wait(previous)
                }
                switch now {
                case .value(let m):
                    if let m { consumed(m.count) }
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
