// The LiveServer's HTTP policies over real HTTP on 127.0.0.1, against a fake media side: Origin
// and CORS, Bearer authentication, the body limit, the per-address rate, floods, pages, metrics.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metrics
import NIOCore
import NiceWebRTC
import Prometheus
import Synchronization
import Testing

@testable import LiveServer

@Suite("HTTP: policies")
struct HttpPolicyTests {
    // MARK: Origin and CORS

    @Test("CORS preflight: methods, headers, Accept-Post, the origin echoed; a foreign Origin gets 403", .timeLimit(.minutes(1)))
    func preflight() async throws {
        try await HttpTest.withServer(token: "sekrit", allowOrigins: ["https://pages.example"]) { h async throws in
            for origin in ["http://localhost", "https://pages.example"] {
                let response = try await h.client.execute(
                    uri: "/whip/s", method: .options,
                    headers: .with([("Origin", origin), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "authorization, content-type")]))
                #expect(response.status == .noContent, "\(origin)")
                #expect(response.header("Access-Control-Allow-Origin") == origin)
                #expect(response.header("Access-Control-Allow-Methods") == "POST, PATCH, DELETE, OPTIONS")
                #expect(response.header("Access-Control-Allow-Headers") == "content-type, authorization, if-match")
                #expect(response.header("Access-Control-Expose-Headers") == "location, etag, link")
                #expect(response.header("Accept-Post") == "application/sdp")
            }
            let resource = try await h.client.execute(uri: "/whep/s/ABC", method: .options, headers: .with([("Origin", "http://localhost")]))
            #expect(resource.status == .noContent)
            #expect(resource.header("Accept-Patch") == "application/trickle-ice-sdpfrag")

            for origin in ["https://evil.example", "http://localhost:9999", "null"] {
                let refused = try await h.client.execute(uri: "/whip/s", method: .options, headers: .with([("Origin", origin)]))
                #expect(refused.status == .forbidden, "\(origin)")
                #expect(refused.header("Access-Control-Allow-Origin") == nil)
                let post = try await h.client.post("/whip/s", headers: [("Origin", origin), ("Authorization", "Bearer sekrit")])
                #expect(post.status == .forbidden, "\(origin)")
            }
            #expect(h.host.calls == 0)
        }
    }

    @Test("a 201 to an allowed Origin carries Access-Control-Allow-Origin and exposes Location, ETag, Link; no Origin (OBS) is allowed", .timeLimit(.minutes(1)))
    func corsOnResponses() async throws {
        try await HttpTest.withServer { h async throws in
            let response = try await h.client.post("/whip/s", headers: [("Origin", "http://localhost")])
            #expect(response.status == .created)
            #expect(response.header("Access-Control-Allow-Origin") == "http://localhost")
            #expect(response.header("Access-Control-Expose-Headers") == "location, etag, link")
            let obs = try await h.client.post("/whep/s")
            #expect(obs.status == .created)
            #expect(obs.header("Access-Control-Allow-Origin") == nil)
        }
    }

    // MARK: Authentication

    @Test("Bearer token: 401 + WWW-Authenticate without, 403 wrong, on POST, PATCH and DELETE; TURN Links only then", .timeLimit(.minutes(1)))
    func bearer() async throws {
        let servers = [IceServer(url: "stun:stun.example:3478"), IceServer(url: "turn:turn.example:3478", username: "u", credential: "p\"w")]
        try await HttpTest.withServer(token: "sekrit", iceServers: servers) { h async throws in
            let none = try await h.client.post("/whip/s")
            #expect(none.status == .unauthorized)
            #expect(none.header("WWW-Authenticate") == "Bearer")
            #expect(try await h.client.post("/whip/s", headers: [("Authorization", "Basic c2Vrcml0")]).status == .unauthorized)
            #expect(try await h.client.post("/whip/s", headers: [("Authorization", "Bearer sekrit2")]).status == .forbidden)
            #expect(try await h.client.post("/whip/s", headers: [("Authorization", "Bearer sekri")]).status == .forbidden)
            #expect(try await h.client.post("/whep/s", headers: [("Authorization", "Bearer nope")]).status == .forbidden)
            #expect(h.host.calls == 0)
            let created = try await h.client.post("/whip/s", headers: [("Authorization", "bearer sekrit")])
            #expect(created.status == .created)
            #expect(created.headerValues("Link") == [
                #"<stun:stun.example:3478>; rel="ice-server""#,
                #"<turn:turn.example:3478>; rel="ice-server"; username="u"; credential="p\"w"; credential-type="password""#,
            ])
            let location = try #require(created.header("Location"))
            #expect(try await h.client.patch(location, fragment: "a=end-of-candidates\r\n", headers: [("If-Match", "*")]).status == .unauthorized)
            #expect(try await h.client.execute(uri: location, method: .delete, headers: .with([("Authorization", "Bearer x")])).status == .forbidden)
            #expect(try await h.client.execute(uri: location, method: .delete).status == .unauthorized)
            #expect(try await h.client.execute(uri: location, method: .delete, headers: .with([("Authorization", "Bearer sekrit")])).status == .ok)
        }
        // Without a token, the TURN server is not announced.
        try await HttpTest.withServer(iceServers: servers) { h async throws in
            #expect(try await h.client.post("/whip/s").headerValues("Link") == [#"<stun:stun.example:3478>; rel="ice-server""#])
        }
    }

    @Test("the token compare looks at every byte")
    func constantTimeCompare() {
        #expect(BearerAuth.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!BearerAuth.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!BearerAuth.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!BearerAuth.constantTimeEqual([], Array("a".utf8)))
        #expect(BearerAuth(token: nil).check([]) == .allowed)
        #expect(BearerAuth(token: "t").check(["Bearer t", "Bearer t"]) == .missing)
    }

    // MARK: Limits

    @Test("a body over 64 KiB gets 413 and never reaches the media side", .timeLimit(.minutes(1)))
    func bodyLimit() async throws {
        try await HttpTest.withServer { h async throws in
            let big = "v=0\r\n" + String(repeating: "a=x-padding:0123456789abcdef\r\n", count: 65_536 / 30 + 1)
            #expect(big.utf8.count > 65_536)
            #expect(try await h.client.post("/whip/s", offer: big).status == .contentTooLarge)
            let location = try #require(try await h.client.post("/whip/s").header("Location"))
            #expect(try await h.client.patch(location, fragment: big, headers: [("If-Match", "*")]).status == .contentTooLarge)
            #expect(h.host.calls == 1)
            #expect(h.host.state.withLock { $0.trickled.isEmpty })
        }
    }

    @Test("429 + Retry-After past the per-address burst, on POST and PATCH", .timeLimit(.minutes(1)))
    func rateLimit() async throws {
        try await HttpTest.withServer(requestRate: 0.5, requestBurst: 3) { h async throws in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<3 { statuses.append(try await h.client.post("/whip/s\(index)").status) }
            #expect(statuses == [.created, .created, .created])
            let refused = try await h.client.post("/whip/x")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.header("Retry-After").flatMap(Int.init).map { (1...2).contains($0) } == true, "\(refused.header("Retry-After") ?? "none")")
            #expect(try await h.client.patch("/whip/s0/S1", fragment: "", headers: [("If-Match", "*")]).status == .tooManyRequests)
            // DELETE is never rate-limited: a client can always leave.
            #expect(try await h.client.execute(uri: "/whip/s0/S1", method: .delete).status == .ok)
            #expect(h.host.calls == 3)
        }
    }

    @Test("2,000 POSTs beyond the rate limit are all refused; the tables stay bounded", .timeLimit(.minutes(2)))
    func floodAtTheRateLimit() async throws {
        try await HttpTest.withServer(requestRate: 0.001, requestBurst: 5) { h async throws in
            var refused = 0
            for index in 0..<2005 {
                let status = try await h.client.post("/whip/f\(index % 50)").status
                if status == .tooManyRequests { refused += 1 }
            }
            #expect(refused == 2000)
            #expect(h.host.calls == 5)
            #expect(h.host.sessionCount == 5)
            #expect(h.endpoints.limiter.count == 1)
            #expect(h.endpoints.tags.count == 5)
        }
    }

    @Test("2,000 POSTs at the session limit get 503; sessions and ETag entries stay at the limit", .timeLimit(.minutes(2)))
    func floodAtTheSessionLimit() async throws {
        try await HttpTest.withServer(maxSessions: 10) { h async throws in
            var unavailable = 0
            for index in 0..<2010 {
                let status = try await h.client.post("/whip/s\(index)").status
                if status == .serviceUnavailable { unavailable += 1 }
            }
            #expect(unavailable == 2000)
            #expect(h.host.sessionCount == 10)
            #expect(h.endpoints.tags.count == 10)
        }
    }

    @Test("the rate limiter's table never exceeds its size, whatever the number of addresses")
    func limiterTableBounded() {
        let limiter = AddressRateLimiter(rate: 1, burst: 2, maxAddresses: 100)
        let start = ContinuousClock.now
        var taken = 0
        for index in 0..<10_000 where limiter.take("10.0.\(index / 256).\(index % 256)", at: start) == nil { taken += 1 }
        #expect(limiter.count == 100)
        #expect(taken == 100)
        // Refilled buckets make room again.
        #expect(limiter.take("192.0.2.1", at: start + .seconds(5)) == nil)
        #expect(limiter.count <= 100)
    }

    @Test("the ETag table sweeps sessions the media side ended")
    func tagsBounded() {
        let tags = SessionTags(capacity: 10)
        for index in 0..<1000 {
            _ = tags.insert(LiveSessionID(value: "S\(index)"), clientUfrag: nil) { _ in false }
        }
        #expect(tags.count <= 10)
        #expect(SessionTags.ifMatch(["\"a\", \"b\""], matches: "\"b\""))
        #expect(SessionTags.ifMatch(["*"], matches: "\"b\""))
        #expect(!SessionTags.ifMatch(["W/\"b\""], matches: "\"b\""))
    }

    // MARK: Pages and probes

    @Test("GET / and /watch/{stream} serve the pages; no dotfiles; /healthz; /metrics is the registry's text", .timeLimit(.minutes(1)))
    func pagesAndProbes() async throws {
        try await HttpTest.withServer { h async throws in
            let index = try await h.client.execute(uri: "/", method: .get)
            #expect(index.status == .ok)
            #expect(index.text.contains("publish"))
            let watch = try await h.client.execute(uri: "/watch/cam_1-x", method: .get)
            #expect(watch.status == .ok)
            #expect(watch.text.contains("watch"))
            #expect(watch.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(try await h.client.execute(uri: "/watch/bad.name", method: .get).status == .badRequest)
            #expect(try await h.client.execute(uri: "/.env", method: .get).status == .notFound)
            #expect(try await h.client.execute(uri: "/healthz", method: .get).text == "ok\n")
            PrometheusMetricsFactory(registry: h.registry).makeCounter(label: "live_nacks_total", dimensions: [("stream", "s")]).increment(by: 3)
            let metrics = try await h.client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains(#"live_nacks_total{stream="s"} 3"#), "\(metrics.text)")
        }
    }
}
