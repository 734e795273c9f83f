// The WHIP/WHEP client's HTTP side (RFC 9725 §4.2): POST the offer, read the answer and the
// session's Location, DELETE it at the end. FoundationNetworking's URLSession (libcurl on Linux).
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a WHIP/WHEP request failed.
struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A session resource the server created.
struct WhipResource: Sendable {
    /// The session's URL (the `Location`, resolved against the server's).
    let location: URL
    /// The SDP answer.
    let answer: String
}

/// POSTs offers to `/whip/{stream}` or `/whep/{stream}` of one server, with the Bearer token when
/// there is one. A `429` is retried after its `Retry-After` (at most 5 times, 10 s in all).
struct WhipHttp: Sendable {
    let server: URL
    let token: String?
    let session: URLSession

    init(server: URL, token: String?, connections: Int) {
        self.server = server
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = max(1, connections)
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    /// `POST /{endpoint}/{stream}` with `offer` → the answer and the Location (`201` only).
    func post(endpoint: String, stream: String, offer: String) async throws(LoadError) -> WhipResource {
        guard let url = URL(string: "\(endpoint)/\(stream)", relativeTo: server)?.absoluteURL else {
            throw LoadError("bad URL for stream \(stream)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/sdp", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(offer.utf8)
        for attempt in 0..<6 {
            let (body, response) = try await send(request)
            if response.statusCode == 429, attempt < 5 {
                let wait = response.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init) ?? 1
                try? await Task.sleep(for: .seconds(min(max(wait, 0.1), 2)))
                continue
            }
            guard response.statusCode == 201 else {
                let text = String(decoding: body.prefix(200), as: UTF8.self)
                throw LoadError("POST \(url.path): \(response.statusCode) \(text)")
            }
            guard let location = response.value(forHTTPHeaderField: "Location"),
                let resolved = URL(string: location, relativeTo: url)?.absoluteURL
            else { throw LoadError("POST \(url.path): 201 without a Location") }
            return WhipResource(location: resolved, answer: String(decoding: body, as: UTF8.self))
        }
        throw LoadError("POST \(url.path): still 429 after 5 retries")
    }

    /// `DELETE` the session; false when the server did not answer 200.
    @discardableResult
    func delete(_ resource: WhipResource) async -> Bool {
        var request = URLRequest(url: resource.location)
        request.httpMethod = "DELETE"
        guard let (_, response) = try? await send(request) else { return false }
        return response.statusCode == 200
    }

    private func send(_ request: URLRequest) async throws(LoadError) -> (Data, HTTPURLResponse) {
        var request = request
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        do {
            let (body, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw LoadError("not an HTTP response") }
            return (body, http)
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError("\(request.httpMethod ?? "?") \(request.url?.path ?? "?"): \(error.localizedDescription)")
        }
    }
}
