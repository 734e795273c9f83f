// The messages on the channel: counting what arrives (reported as `got`, rate-limited, the final
// totals always written) and sending --count messages once the channel is open.
import Dispatch
import Logging
import NiceWebRTC
import Synchronization

/// Counts every received message, whatever it holds, and writes `got` at most once per
/// `interval`, and within one interval of the last message.
final class Receiver: Sendable {
    private let output: ProtocolOutput
    private let queue: DispatchQueue

    /// How often `got` is written at most while messages keep arriving.
    static let interval: Duration = .milliseconds(50)

    private struct Totals {
        var messages = 0
        var bytes = 0
        var reported: (n: Int, bytes: Int) = (0, 0)
        var lastWrite: ContinuousClock.Instant?
        var flushScheduled = false
    }
    private let totals = Mutex(Totals())

    init(output: ProtocolOutput, queue: DispatchQueue) {
        self.output = output
        self.queue = queue
    }

    /// What has arrived so far.
    var received: (messages: Int, bytes: Int) { totals.withLock { ($0.messages, $0.bytes) } }

    /// Counts one message (any thread).
    func count(_ message: DataChannelMessage) {
        let now = ContinuousClock.now
        let delay = totals.withLock { t -> Duration? in
            t.messages += 1
            t.bytes += message.count
            guard let last = t.lastWrite, now - last < Self.interval else { return .zero }
            if t.flushScheduled { return nil }
            t.flushScheduled = true
            return Self.interval - (now - last)
        }
        guard let delay else { return }
        if delay == .zero {
            write()
        } else {
            let (s, atto) = delay.components
            let nanos = Int(s) * 1_000_000_000 + Int(atto / 1_000_000_000)
            queue.asyncAfter(deadline: .now() + .nanoseconds(nanos)) {
                self.totals.withLock { $0.flushScheduled = false }
                self.write()
            }
        }
    }

    /// Writes `got` with the current totals unless they were written already.
    func write() {
        let now = totals.withLock { t -> (Int, Int)? in
            guard t.messages != t.reported.n || t.bytes != t.reported.bytes else { return nil }
            t.reported = (t.messages, t.bytes)
            t.lastWrite = .now
            return (t.messages, t.bytes)
        }
        if let now {
            output.send("got", ["n": .int(now.0), "bytes": .int(now.1)])
        }
    }
}

/// A flag one side sets and a task reads.
package final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    package init() {}
    package var isSet: Bool { flag.load(ordering: .acquiring) }
    package func set() { flag.store(true, ordering: .releasing) }
}

/// Sends `--count` messages of `--size` bytes with `DataChannel.write`, which waits while the
/// channel's send buffer is full (back-pressure, no loss on our side). The content is ours to
/// choose: binary messages carry their index in the first 4 bytes (big-endian) and then
/// `(index + j) mod 256`, text messages their index and then letters, all ASCII.
enum Sender {
    /// Sends on a task of its own until done, `stop` is set, or the channel refuses a message.
    static func start(on channel: DataChannel, options: Options, stop: StopFlag, logger: Logger) -> Task<Void, Never> {
        let (count, size, text) = (options.count, options.size, options.text)
        return Task {
            guard count > 0 else { return }
            logger.info("sending \(count) \(text ? "text" : "binary") messages of \(size) bytes")
            let began = ContinuousClock.now
            var sent = 0
            while sent < count, !stop.isSet {
                do throws(DataChannelError) {
                    try await channel.write(message(index: sent, size: size, text: text))
                    sent += 1
                } catch {
                    if !stop.isSet { logger.warning("sending stopped after \(sent) of \(count) messages: \(error)") }
                    break
                }
            }
            logger.info("handed \(sent) of \(count) messages to SCTP in \(ContinuousClock.now - began)")
        }
    }

    static func message(index: Int, size: Int, text: Bool) -> DataChannelMessage {
        if text {
            var bytes = Array((String(index) + ":").utf8.prefix(size))
            let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
            while bytes.count < size { bytes.append(letters[bytes.count % letters.count]) }
            return .text(String(decoding: bytes, as: UTF8.self))
        }
        var bytes = [UInt8](repeating: 0, count: size)
        for j in 0..<size { bytes[j] = UInt8(truncatingIfNeeded: index &+ j) }
        if size >= 4 {
            let seq = UInt32(truncatingIfNeeded: index)
            bytes[0] = UInt8(truncatingIfNeeded: seq >> 24)
            bytes[1] = UInt8(truncatingIfNeeded: seq >> 16)
            bytes[2] = UInt8(truncatingIfNeeded: seq >> 8)
            bytes[3] = UInt8(truncatingIfNeeded: seq)
        }
        return .binary(bytes)
    }
}
