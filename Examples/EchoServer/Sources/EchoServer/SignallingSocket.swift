// One `/signal` WebSocket: frames in (size and rate limits, JSON decoding) to its session, the
// session's messages out, and the close handshake.
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// Serves one WebSocket for its ``Session``: the reader turns frames into ``ClientMessage``s
/// (at most ``ServerSettings/maxMessageBytes`` per message and ``ServerSettings/messagesPerSecond``
/// per second, beyond: an `error` and the message dropped), the writer sends what the session
/// queues. When either side ends, the other gets ``ServerSettings/closeHandshakeTimeout`` to
/// follow before it is cancelled.
struct SignallingSocket: Sendable {
    let session: Session
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter

    private enum Side { case reader, writer, timer }

    /// Serves the WebSocket until both directions ended, then ends the session (if it is not
    /// ending already) and waits until its sockets are released.
    func run() async {
        await withTaskGroup(of: Side.self) { group in
            group.addTask { await read(); return .reader }
            group.addTask { await write(); return .writer }
            let first = await group.next()
            if first == .reader {
                // The page closed (or the socket failed): nobody to tell.
                session.beginEnd(.socketClosed)
            }
            group.addTask {
                try? await Task.sleep(for: ServerSettings.closeHandshakeTimeout)
                return .timer
            }
            if await group.next() == .timer {
                session.logger.debug("the WebSocket did not finish closing in time; cancelling it")
            }
            group.cancelAll()
        }
        await session.end(.socketClosed)
    }

    // MARK: Reading

    /// Reads frames until the page closes, assembling fragmented messages.
    private func read() async {
        var limiter = RateLimiter(limit: ServerSettings.messagesPerSecond)
        var iterator = inbound.makeAsyncIterator()
        var message: (opcode: WebSocketDataFrame.Opcode, bytes: ByteBuffer, tooLarge: Bool)?
        do {
            while let frame = try await iterator.next() {
                switch frame.opcode {
                case .text, .binary:
                    message = (frame.opcode, frame.data, frame.data.readableBytes > ServerSettings.maxMessageBytes)
                case .continuation:
                    guard var m = message else { continue }  // WSCore refuses this case already
                    if !m.tooLarge {
                        if m.bytes.readableBytes + frame.data.readableBytes > ServerSettings.maxMessageBytes {
                            m.tooLarge = true
                            m.bytes = ByteBuffer()
                        } else {
                            var data = frame.data
                            m.bytes.writeBuffer(&data)
                        }
                    }
                    message = m
                }
                guard frame.fin, let complete = message else { continue }
                message = nil
                // After the session ended, messages are read (until the page's close frame) and ignored.
                await handle(complete.opcode, complete.bytes, tooLarge: complete.tooLarge, limiter: &limiter)
            }
        } catch {
            session.logger.debug("WebSocket read ended: \(error)")
        }
        if limiter.dropped > 0 {
            session.logger.notice("\(limiter.dropped) signalling message(s) dropped over the rate limit")
        }
    }

    private func handle(_ opcode: WebSocketDataFrame.Opcode, _ bytes: ByteBuffer, tooLarge: Bool, limiter: inout RateLimiter) async {
        switch limiter.admit() {
        case .accept: break
        case .drop: return
        case .dropAndReport:
            session.report(SignallingError(
                field: "rate", reason: "more than \(ServerSettings.messagesPerSecond) messages in a second: dropping messages"))
            return
        }
        if tooLarge {
            session.report(SignallingError(field: "size", reason: "a message is at most \(ServerSettings.maxMessageBytes) bytes"))
            return
        }
        guard opcode == .text else {
            session.report(SignallingError(field: "json", reason: "binary frame: signalling messages are JSON text"))
            return
        }
        let text = String(buffer: bytes)
        let message: ClientMessage
        do throws(SignallingError) {
            message = try ClientMessage(json: text)
        } catch {
            session.report(error)
            return
        }
        await session.receive(message)
    }

    // MARK: Writing

    /// Writes the session's messages until its close instruction, or until the socket fails.
    private func write() async {
        defer { session.writerFinished.open() }
        for await item in session.outgoing {
            do {
                switch item {
                case .message(let message):
                    try await outbound.write(.text(message.json))
                case .close(let code, let reason):
                    try await outbound.close(Self.errorCode(code), reason: reason)
                    return
                }
            } catch {
                session.logger.debug("WebSocket write failed: \(error)")
                session.beginEnd(.socketClosed)
                return
            }
        }
    }

    static func errorCode(_ code: Session.CloseCode) -> WebSocketErrorCode {
        switch code {
        case .normal: .normalClosure
        case .goingAway: .goingAway
        case .policyViolation: .policyViolation
        }
    }
}
