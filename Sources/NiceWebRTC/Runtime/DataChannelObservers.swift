import NiceICE
import NiceWebRTCCore
import Synchronization

/// A channel's handlers and state streams (its messages are in ``DataChannelInbox``).
final class DataChannelObservers: Sendable {
    struct State: Sendable {
        var stateHandler: (@Sendable (DataChannelState) -> Void)?
        var errorHandler: (@Sendable (DataChannelError) -> Void)?
        var lowHandler: (@Sendable () -> Void)?
        var streams: [UInt64: AsyncStream<DataChannelState>.Continuation] = [:]
        var nextID: UInt64 = 0
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
        state.withLock { s in for k in s.streams.values { k.yield(new) } }
    }

    func finish() {
        let ks = state.withLock { s -> [AsyncStream<DataChannelState>.Continuation] in
            s.finished = true
            defer { s.streams = [:] }
            return Array(s.streams.values)
        }
        ks.forEach { $0.finish() }
    }

    func makeStream(current: DataChannelState) -> AsyncStream<DataChannelState> {
        let (stream, k) = AsyncStream.makeStream(of: DataChannelState.self, bufferingPolicy: .unbounded)
        let id: UInt64? = state.withLock { s in
            k.yield(s.finished ? .closed : current)
            guard !s.finished else { return nil }
            s.nextID += 1
            s.streams[s.nextID] = k
            return s.nextID
        }
        guard let id else {
            k.finish()
            return stream
        }
        k.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.streams.removeValue(forKey: id) } }
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
