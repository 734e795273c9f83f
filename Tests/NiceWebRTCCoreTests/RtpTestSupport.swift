import Testing

@testable import NiceWebRTCCore

/// The RtpError a throwing RTP/RTCP call ends with, or nil when it returns; any other error is
/// recorded as a failure (the codecs throw only RtpError).
func rtpError<T>(_ body: () throws -> T) -> RtpError? {
    do {
        _ = try body()
        return nil
    } catch let error as RtpError {
        return error
    } catch {
        Issue.record("untyped error \(error)")
        return nil
    }
}
