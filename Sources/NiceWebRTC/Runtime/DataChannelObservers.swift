import NiceICE
import NiceWebRTCCore
import Synchronization

/// A channel's handlers and state streams (its messages are in ``DataChannelInbox``).
final class DataChannelObservers: Sendable {
    struct State: Sendable {
        var stateHandler: (@Sendable (DataChannelState) -> Void)?
        var errorHandler: (@Sendable (DataChannelError) -> Void)?
        var lowHandler: (@Sendable () -> Void)?
        var streams = StreamRegistry<DataChannelState>()
        var finished = false
        var lastID: UInt16?

        /// After `closed` was delivered: the handlers (and what they captured) are released.
        mutating func clearHandlers() {
            stateHandler = nil
            errorHandler = nil
            lowHandler = nil
        }
    }

    let state = Locked(State())

    var lastID: UInt16? { state.withLock { $0.lastID } }

    /// From the association (under its lock).
    func yield(_ new: DataChannelState) {
        state.withLock { s in s.streams.yield(new) }
    }

    func finish() {
        let ks = state.withLock { s -> [AsyncStream<DataChannelState>.Continuation] in
            s.finished = true
            return s.streams.removeAll()
        }
        ks.forEach { $0.finish() }
    }

    func makeStream(current: DataChannelState) -> AsyncStream<DataChannelState> {
        let (stream, k) = AsyncStream.makeStream(of: DataChannelState.self, bufferingPolicy: .unbounded)
        let registered: Bool = state.withLock { s in
            k.yield(s.finished ? .closed : current)
            guard !s.finished else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s.streams.add(k)
            return true
        }
        if !registered { k.finish() }
        return stream
    }
}

/// A channel's message and byte counts (W3C `RTCDataChannelStats`): atomics, cheap on the data path.
final class DataChannelCounters: Sendable {
    let messagesSent = Atomic<UInt64>(0)
    let bytesSent = Atomic<UInt64>(0)
    let messagesReceived = Atomic<UInt64>(0)
    let bytesReceived = Atomic<UInt64>(0)

    func sent(_ bytes: Int) {
        messagesSent.wrappingAdd(1, ordering: .relaxed)
        bytesSent.wrappingAdd(UInt64(bytes), ordering: .relaxed)
    }

    func received(_ bytes: Int) {
        messagesReceived.wrappingAdd(1, ordering: .relaxed)
        bytesReceived.wrappingAdd(UInt64(bytes), ordering: .relaxed)
    }
}
