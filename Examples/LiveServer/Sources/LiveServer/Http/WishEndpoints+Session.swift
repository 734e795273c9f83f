// PATCH (trickle, ICE restart) and DELETE of a WHIP/WHEP session resource (RFC 9725 §4.4, §4.3).
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

extension WishEndpoints {
    /// The session of a resource path, if the host knows it under that stream and role.
    func resolve(_ target: Target) throws(HTTPRefusal) -> LiveSessionID {
        guard let session = target.session, let known = host.lookup(session), known.stream == target.stream, known.role == target.role else {
            if let session = target.session, host.lookup(session) == nil { tags.remove(session) }
            throw HTTPRefusal(.notFound, "no such session")
        }
        return session
    }

    /// A trickle (204) or an ICE restart (200 with the server's sdpfrag and a new ETag).
    func patch(_ request: inout Request, target: Target) async throws(HTTPRefusal) -> Response {
        let session = try resolve(target)
        try Self.requireContentType(request, Self.sdpfrag)
        let ifMatch = request.headers[values: .ifMatch]
        guard !ifMatch.isEmpty else {
            throw HTTPRefusal(.preconditionRequired, "If-Match is required (* or the session's ETag)")
        }
        let entry = tags.entry(session)
        guard let entry, SessionTags.ifMatch(ifMatch, matches: entry.etag) else {
            throw HTTPRefusal(.preconditionFailed, "If-Match does not match the session's ETag")
        }
        let body = try await readBody(&request)
        let fragment: TrickleIceFragment
        do throws(LiveError) {
            fragment = try TrickleIceFragment(parsing: body)
        } catch {
            throw HTTPRefusal(error)
        }
        let isRestart = fragment.iceUfrag != nil && fragment.icePwd != nil && fragment.iceUfrag != entry.clientUfrag
        if isRestart {
            let answer: TrickleIceFragment
            do throws(LiveError) {
                answer = try await host.restartIce(session, fragment)
            } catch {
                throw HTTPRefusal(error)
            }
            let etag = tags.restarted(session, clientUfrag: fragment.iceUfrag)
            logger.info("PATCH \(request.uri.path): ICE restart, 200")
            var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: answer.sdpFragment)))
            response.headers[.contentType] = Self.sdpfrag
            response.headers[.eTag] = etag
            addCORS(&response, request)
            return response
        }
        do throws(LiveError) {
            try await host.trickle(session, fragment)
        } catch {
            throw HTTPRefusal(error)
        }
        logger.debug("PATCH \(request.uri.path): \(fragment.candidates.count) candidates\(fragment.endOfCandidates ? ", end" : ""), 204")
        var response = Response(status: .noContent)
        response.headers[.eTag] = entry.etag
        addCORS(&response, request)
        return response
    }

    /// Ends the session: 200, and 404 for every later request to it.
    func delete(_ request: Request, target: Target) async throws(HTTPRefusal) -> Response {
        let session = try resolve(target)
        guard await host.end(session) else {
            tags.remove(session)
            throw HTTPRefusal(.notFound, "no such session")
        }
        tags.remove(session)
        logger.info("DELETE \(request.uri.path): 200")
        var response = Response(status: .ok)
        addCORS(&response, request)
        return response
    }
}
