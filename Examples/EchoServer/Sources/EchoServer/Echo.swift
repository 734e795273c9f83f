// The data the server sends: every message on every channel the page opens, back on the same
// channel, as it came.
import Logging
import NiceWebRTC
import Synchronization

/// Echoes one data channel: each message is written back unchanged (string as string, binary as
/// binary). Reading uses the channel's `messages()` iterator and writing its `write`, which waits
/// for room, so a page that sends faster than it reads slows itself down (SCTP stops reading)
/// instead of growing the server's memory.
enum Echo {
    /// Messages and bytes echoed by all channels of one session.
    final class Counter: Sendable {
        private let totals = Mutex((messages: 0, bytes: 0))
        var value: (messages: Int, bytes: Int) { totals.withLock { $0 } }
        func add(_ bytes: Int) { totals.withLock { $0.messages += 1; $0.bytes += bytes } }
    }

    /// Echoes `channel` until it closes or the task is cancelled.
    static func run(on channel: DataChannel, counter: Counter, logger: Logger) async {
        for await message in channel.messages() {
            if Task.isCancelled { return }
            do throws(DataChannelError) {
                try await channel.write(message)
                counter.add(message.count)
            } catch where error.code == .messageTooLarge {
                // Larger than the page's a=max-message-size: it could never take it back.
                logger.warning("not echoing a \(message.count)-byte message on '\(SignallingError.excerpt(channel.label))': \(error.reason)")
            } catch {
                logger.debug("echo on '\(SignallingError.excerpt(channel.label))' stopped: \(error)")
                return
            }
        }
    }
}
