// How the media side's refusals reach the client.
import HTTPTypes
import Hummingbird

extension LiveError {
    /// The status code of each case (Contract.swift).
    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .conflict: .conflict
        case .badRequest: .badRequest
        case .unprocessable: .unprocessableContent
        case .unavailable: .serviceUnavailable
        }
    }

    /// The message (the response body's text).
    var message: String {
        switch self {
        case .notFound(let text), .conflict(let text), .badRequest(let text), .unprocessable(let text), .unavailable(let text):
            text
        }
    }
}
