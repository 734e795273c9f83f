import Dispatch
import NiceICE
import NiceWebRTCCore

/// Where the association (``SctpCore``, any thread, under its lock) meets the user: one serial
/// queue on which every handler of the transport and of its channels runs, in the order the
/// association produced the events, plus the transport's streams.
final class SctpHub: Sendable {
    struct State: Sendable {
        var channelHandler: (@Sendable (DataChannel) -> Void)?
        var stateHandler: (@Sendable (SctpTransportState) -> Void)?
        var state: SctpTransportState = .connecting
        var channelStreams = StreamRegistry<DataChannel>()
        var stateStreams = StreamRegistry<SctpTransportState>()
        /// Channels the peer opened before anyone listened (handler or stream): kept for the first
        /// listener, as a browser keeps `datachannel` events until the page's script ran.
        var unclaimed: [DataChannel] = []
        var finished = false
    }

    let queue: DispatchQueue
    let state = Locked(State())

    /// Channels the peer opened and nobody took yet: beyond this, new ones are refused.
    static let unclaimedLimit = 1024

    init(queue: DispatchQueue) {
        self.queue = queue
    }

    /// Runs `body` on the queue, after everything posted before.
    func post(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    /// Whether a channel the peer opens now would reach anyone: a listener, or room among the
    /// unclaimed. When not, the association refuses the OPEN (issue 17 §9) rather than acknowledge a
    /// channel nobody can ever reach.
    var acceptsChannel: Bool {
        state.withLock { s in
            !s.finished && (s.channelHandler != nil || s.channelStreams.hasLiveStreams || s.unclaimed.count < Self.unclaimedLimit)
        }
    }

    func announce(_ channel: DataChannel) {
        let listeners = state.withLock { s -> Bool in
            s.channelStreams.yield(channel)
            let listened = s.channelHandler != nil || s.channelStreams.hasLiveStreams
            if !listened && s.unclaimed.count < Self.unclaimedLimit { s.unclaimed.append(channel) }
            return listened
        }
        guard listeners else { return }
        post { [self] in state.withLock { $0.channelHandler }?(channel) }
    }

    func transportState(_ new: SctpTransportState) {
        state.withLock { s in
            s.state = new
            s.stateStreams.yield(new)
        }
        post { [self] in state.withLock { $0.stateHandler }?(new) }
    }

    func setChannelHandler(_ handler: (@Sendable (DataChannel) -> Void)?) {
        let waiting = state.withLock { s -> [DataChannel] in
            guard !s.finished else { return [] }  // nothing would call it; what it captures stays free
            s.channelHandler = handler
            guard handler != nil else { return [] }
            defer { s.unclaimed = [] }
            return s.unclaimed
        }
        for channel in waiting { post { handler?(channel) } }
    }

    func setStateHandler(_ handler: (@Sendable (SctpTransportState) -> Void)?) {
        state.withLock { s in
            guard !s.finished else { return }
            s.stateHandler = handler
        }
    }

    func makeChannelStream() -> AsyncStream<DataChannel> {
        let (stream, k) = AsyncStream.makeStream(of: DataChannel.self, bufferingPolicy: .unbounded)
        let registered: Bool = state.withLock { s in
            for c in s.unclaimed { k.yield(c) }
            s.unclaimed = []
            guard !s.finished else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s.channelStreams.add(k)
            return true
        }
        if !registered { k.finish() }
        return stream
    }

    func makeStateStream() -> AsyncStream<SctpTransportState> {
        let (stream, k) = AsyncStream.makeStream(of: SctpTransportState.self, bufferingPolicy: .unbounded)
        let registered: Bool = state.withLock { s in
            k.yield(s.state)
            guard !s.finished else { return false }
            // Its onTermination only flags it (never waits for this lock: see StreamRegistry).
            s.stateStreams.add(k)
            return true
        }
        if !registered { k.finish() }
        return stream
    }

    /// The association ended: the streams finish (after the `closed` state was yielded), and once
    /// the events posted before (the channels' and the transport's `closed`) were delivered, the
    /// handlers are dropped, so a handler that captures the transport never keeps it alive.
    func finish() {
        post { [self] in
            state.withLock { s in
                s.channelHandler = nil
                s.stateHandler = nil
            }
        }
        let ks = state.withLock { s -> ([AsyncStream<DataChannel>.Continuation], [AsyncStream<SctpTransportState>.Continuation]) in
            s.finished = true
            s.unclaimed = []
            return (s.channelStreams.removeAll(), s.stateStreams.removeAll())
        }
        ks.0.forEach { $0.finish() }
        ks.1.forEach { $0.finish() }
    }
}
