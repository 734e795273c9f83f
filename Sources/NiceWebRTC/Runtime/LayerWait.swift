import NiceICE
import NiceWebRTCCore

/// How a `waitUntil…` above ICE ended without success: the codes every layer shares (as NiceICE's
/// `closed` / `timedOut` / `cancelled`).
enum WaitEnd {
    case closed, timedOut, cancelled
}

/// A layer's error type, as a wait reports it.
protocol LayerWaitError: Error, Sendable {
    init(waitEnd end: WaitEnd, reason: String)
}

extension DtlsError: LayerWaitError {
    init(waitEnd end: WaitEnd, reason: String) {
        switch end {
        case .closed: self.init(.closed, reason: reason)
        case .timedOut: self.init(.timedOut, reason: reason)
        case .cancelled: self.init(.cancelled, reason: reason)
        }
    }
}

extension DataChannelError: LayerWaitError {
    init(waitEnd end: WaitEnd, reason: String) {
        switch end {
        case .closed: self.init(.closed, reason: reason)
        case .timedOut: self.init(.timedOut, reason: reason)
        case .cancelled: self.init(.cancelled, reason: reason)
        }
    }
}

/// Every `waitUntil…` of DTLS, SCTP and channels: reads `stream` until `decide` settles it (nil:
/// keep waiting), mapping a finished stream to `closed` (`ended` says why), the deadline to
/// `timedOut` and the task's cancellation to `cancelled` (``StateWait`` decides which came first).
func waitForState<Element: Sendable, Failure: LayerWaitError>(
    _ stream: AsyncStream<Element>, timeout: Duration, ended: @autoclosure () -> String, notYet: @autoclosure () -> String,
    decide: @escaping @Sendable (Element) -> Result<Void, Failure>?
) async throws(Failure) {
    switch await StateWait.wait(on: stream, timeout: timeout, decide: decide) {
    case .succeeded: return
    case .failed(let error): throw error
    case .finished: throw Failure(waitEnd: .closed, reason: ended())
    case .timedOut: throw Failure(waitEnd: .timedOut, reason: "\(notYet()) after \(timeout)")
    case .cancelled: throw Failure(waitEnd: .cancelled, reason: "the waiting task was cancelled")
    }
}
