// The WHIP/WHEP resources over real HTTP on 127.0.0.1, against a fake media side: POST, PATCH
// (trickle, ICE restart, ETag/If-Match), DELETE, and the status code of every bad request.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NiceWebRTC
import Synchronization
import Testing

@testable import LiveServer

@Suite("HTTP: WHIP/WHEP resources")
struct HttpEndpointTests {
    @Test("WHIP POST → 201 with the answer, Location, ETag and the STUN Link; WHEP likewise", .timeLimit(.minutes(1)))
    func postCreatesSessions() async throws {
        try await HttpTest.withServer { h async throws in
            let whip = try await h.client.post("/whip/cam1")
            #expect(whip.status == .created)
            #expect(whip.header("Content-Type") == "application/sdp")
            #expect(whip.text.hasPrefix("v=0"))
            let location = try #require(whip.header("Location"))
            #expect(location.hasPrefix("/whip/cam1/"))
            let etag = try #require(whip.header("ETag"))
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 34)
            #expect(whip.headerValues("Link") == [#"<stun:stun.example:3478>; rel="ice-server""#])

            let whep = try await h.client.post("/whep/cam1")
            #expect(whep.status == .created)
            #expect(whep.header("Location")?.hasPrefix("/whep/cam1/") == true)
            #expect(whep.header("ETag") != etag)
            #expect(h.host.sessionCount == 2)
        }
    }

    @Test("the media side's refusals: 404 no stream, 409 second publisher, 400 bad offer, 422, 503", .timeLimit(.minutes(1)))
    func hostErrorsMapToStatus() async throws {
        try await HttpTest.withServer(maxSessions: 2) { h async throws in
            #expect(try await h.client.post("/whep/nobody").status == .notFound)
            #expect(try await h.client.post("/whip/a").status == .created)
            #expect(try await h.client.post("/whip/a").status == .conflict)
            let bad = try await h.client.post("/whip/b", offer: "hello")
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("v=0"), "the message names the field: \(bad.text)")
            #expect(try await h.client.post("/whip/b", offer: "v=0\r\nm=text unprocessable\r\n").status == .unprocessableContent)
            #expect(try await h.client.post("/whep/a").status == .created)
            #expect(try await h.client.post("/whep/a").status == .serviceUnavailable)
        }
    }

    @Test("stream names outside [A-Za-z0-9_-]{1,64} get 400; deeper paths 404", .timeLimit(.minutes(1)))
    func streamNames() async throws {
        try await HttpTest.withServer { h async throws in
            for name in ["bad.name", "a%20b", String(repeating: "x", count: 65), "%C3%A9t%C3%A9"] {
                #expect(try await h.client.post("/whip/\(name)").status == .badRequest, "\(name)")
            }
            #expect(try await h.client.post("/whip/\(String(repeating: "x", count: 64))").status == .created)
            #expect(try await h.client.post("/whip/a/b/c").status == .notFound)
            #expect(try await h.client.post("/whip").status == .notFound)
            #expect(h.host.calls == 1)
        }
    }

    @Test("415 for a wrong Content-Type, 406 when Accept excludes application/sdp", .timeLimit(.minutes(1)))
    func mediaTypes() async throws {
        try await HttpTest.withServer { h async throws in
            let wrongType = try await h.client.execute(
                uri: "/whip/s", method: .post, headers: .with([("Content-Type", "text/plain")]), body: ByteBuffer(string: HttpTest.offer))
            #expect(wrongType.status == .unsupportedMediaType)
            let noType = try await h.client.execute(uri: "/whip/s", method: .post, body: ByteBuffer(string: HttpTest.offer))
            #expect(noType.status == .unsupportedMediaType)
            #expect(try await h.client.post("/whip/s", headers: [("Accept", "text/html")]).status == .notAcceptable)
            #expect(try await h.client.post("/whip/s", headers: [("Accept", "application/sdp;q=0, text/html")]).status == .notAcceptable)
            #expect(h.host.calls == 0)
            #expect(try await h.client.post("/whip/s", headers: [("Accept", "text/html, application/*;q=0.5")]).status == .created)
            #expect(try await h.client.post("/whep/s", headers: [("Accept", "*/*")]).status == .created)
            #expect(try await h.client.execute(
                uri: "/whip/t", method: .post, headers: .with([("Content-Type", "Application/SDP; charset=utf-8")]),
                body: ByteBuffer(string: HttpTest.offer)).status == .created)
        }
    }

    @Test("405 with Allow for methods the endpoint or resource does not take", .timeLimit(.minutes(1)))
    func methodNotAllowed() async throws {
        try await HttpTest.withServer { h async throws in
            for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
                let response = try await h.client.execute(uri: "/whip/s", method: method)
                #expect(response.status == .methodNotAllowed, "\(method)")
                #expect(response.header("Allow") == "POST, OPTIONS")
            }
            let location = try #require(try await h.client.post("/whip/s").header("Location"))
            for method in [HTTPRequest.Method.get, .put, .post] {
                let response = try await h.client.execute(uri: location, method: method)
                #expect(response.status == .methodNotAllowed, "\(method)")
                #expect(response.header("Allow") == "PATCH, DELETE, OPTIONS")
            }
        }
    }

    @Test("PATCH: 428 without If-Match, 412 stale, trickle 204, ICE restart 200 with sdpfrag and a new ETag, 415", .timeLimit(.minutes(1)))
    func patchFlow() async throws {
        try await HttpTest.withServer { h async throws in
            let created = try await h.client.post("/whip/s")
            let location = try #require(created.header("Location"))
            let etag = try #require(created.header("ETag"))
            let trickle = "a=ice-ufrag:cli1\r\na=ice-pwd:clientpasswordclientpassword\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n"

            #expect(try await h.client.patch(location, fragment: trickle, headers: []).status == .preconditionRequired)
            #expect(try await h.client.patch(location, fragment: trickle, headers: [("If-Match", "\"stale\"")]).status == .preconditionFailed)
            let wrongType = try await h.client.execute(
                uri: location, method: .patch, headers: .with([("Content-Type", "application/sdp"), ("If-Match", "*")]),
                body: ByteBuffer(string: trickle))
            #expect(wrongType.status == .unsupportedMediaType)
            #expect(h.host.state.withLock { $0.trickled.isEmpty })

            let trickled = try await h.client.patch(location, fragment: trickle, headers: [("If-Match", etag)])
            #expect(trickled.status == .noContent)
            #expect(try await h.client.patch(location, fragment: trickle, headers: [("If-Match", "*")]).status == .noContent)
            let received = try #require(h.host.state.withLock { $0.trickled.first })
            #expect(received.candidates == [IceCandidateInit(
                candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "cli1")])
            #expect(received.endOfCandidates)

            let restart = "a=ice-ufrag:cli2\r\na=ice-pwd:newclientpasswordnewclient\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
            let restarted = try await h.client.patch(location, fragment: restart, headers: [("If-Match", "*")])
            #expect(restarted.status == .ok)
            #expect(restarted.header("Content-Type") == "application/trickle-ice-sdpfrag")
            let newTag = try #require(restarted.header("ETag"))
            #expect(newTag != etag)
            let answer = try TrickleIceFragment(parsing: restarted.text)
            #expect(answer.iceUfrag == "srv2")
            #expect(answer.icePwd == "serverpasswordserverpassword")
            #expect(answer.candidates.map(\.candidate) == FakeHost.serverFragment.candidates.map(\.candidate))
            #expect(answer.candidates.first?.sdpMid == "0")
            #expect(h.host.state.withLock { $0.restarts.count } == 1)
            // The old ETag is stale now; the new one works; the same ufrag again is a trickle.
            #expect(try await h.client.patch(location, fragment: trickle, headers: [("If-Match", etag)]).status == .preconditionFailed)
            #expect(try await h.client.patch(location, fragment: restart, headers: [("If-Match", newTag)]).status == .noContent)
            #expect(h.host.state.withLock { $0.restarts.count } == 1)
            // A fragment that does not parse: 400 naming the field.
            let bad = try await h.client.patch(location, fragment: "a=candidate:1 1 udp x 127.0.0.1 5000 typ host\r\n", headers: [("If-Match", "*")])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("priority"), "\(bad.text)")
        }
    }

    @Test("DELETE → 200, then 404 for DELETE and PATCH; a session the media side ended is 404", .timeLimit(.minutes(1)))
    func deleteFlow() async throws {
        try await HttpTest.withServer { h async throws in
            let location = try #require(try await h.client.post("/whip/s").header("Location"))
            #expect(try await h.client.execute(uri: location.replacingOccurrences(of: "/whip/", with: "/whep/"), method: .delete).status == .notFound)
            #expect(try await h.client.execute(uri: location.replacingOccurrences(of: "/s/", with: "/t/"), method: .delete).status == .notFound)
            #expect(try await h.client.execute(uri: location, method: .delete).status == .ok)
            #expect(h.host.sessionCount == 0)
            #expect(h.endpoints.tags.count == 0)
            #expect(try await h.client.execute(uri: location, method: .delete).status == .notFound)
            #expect(try await h.client.patch(location, fragment: "a=end-of-candidates\r\n", headers: [("If-Match", "*")]).status == .notFound)

            let other = try #require(try await h.client.post("/whip/s").header("Location"))
            h.host.drop(LiveSessionID(value: String(other.split(separator: "/").last ?? "")))
            #expect(try await h.client.patch(other, fragment: "a=end-of-candidates\r\n", headers: [("If-Match", "*")]).status == .notFound)
            #expect(h.endpoints.tags.count == 0)
        }
    }

    @Test("after shutdown began, POSTs get 503", .timeLimit(.minutes(1)))
    func shutdownRefusesPosts() async throws {
        let state = LiveHTTPState()
        try await HttpTest.withServer(state: state) { h async throws in
            #expect(try await h.client.post("/whip/s").status == .created)
            state.stopAccepting()
            await h.host.shutdown()
            #expect(try await h.client.post("/whip/t").status == .serviceUnavailable)
            #expect(try await h.client.post("/whep/s").status == .serviceUnavailable)
        }
    }
}
