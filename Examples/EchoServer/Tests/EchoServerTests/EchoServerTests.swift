// The EchoServer in-process on 127.0.0.1 (an ephemeral port), driven by raw HTTP and WebSocket
// bytes: the Origin policy of /signal, the per-address session limit, the server-wide offer budget
// and the static files (no dotfiles, no symlinks). Every wait is for an answer from the server;
// each test is bounded by its time limit.
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NiceWebRTC
import ServiceLifecycle
import Testing

@testable import EchoServer

@Suite("EchoServer policies, against the server on 127.0.0.1")
struct EchoServerPolicyTests {
    // MARK: Origin

    @Test("a foreign Origin gets 403 and no upgrade; no session is opened", .timeLimit(.minutes(1)))
    func foreignOriginIsRefused() async throws {
        try await withServer { port, registry in
            for origin in ["http://evil.example", "http://127.0.0.1:\(port + 1)", "null", "http://127.0.0.1:\(port)/path"] {
                let head = try await withConnection(port) { wire in
                    try await wire.send(upgradeRequest(port: port, origin: origin))
                    return try await wire.readHead()
                }
                #expect(head?.status == 403, "Origin \(origin): \(head?.text ?? "no answer")")
                #expect(head?.text.lowercased().contains("upgrade: websocket") == false)
            }
            // Two Origin headers, one of them ours: refused.
            let twice = try await withConnection(port) { wire in
                try await wire.send(upgradeRequest(port: port, origin: "http://127.0.0.1:\(port)", extra: "Origin: http://evil.example\r\n"))
                return try await wire.readHead()
            }
            #expect(twice?.status == 403)
            #expect(registry.count == 0)
        }
    }

    @Test("the page's own origin, an --allow-origin and no Origin at all upgrade", .timeLimit(.minutes(1)))
    func allowedOriginsUpgrade() async throws {
        try await withServer(allowOrigins: ["https://echo.example", "http://[::1]:9000"]) { port, _ in
            let origins: [String?] = [
                "http://127.0.0.1:\(port)", "https://127.0.0.1:\(port)", "HTTP://127.0.0.1:\(port)",
                "https://echo.example", "https://echo.example:443", "http://[::1]:9000", nil,
            ]
            for origin in origins {
                let status = try await withConnection(port) { wire in
                    try await wire.send(upgradeRequest(port: port, origin: origin))
                    let head = try await wire.readHead()
                    // A session answers: the upgrade led to a session, not only to a 101.
                    try await wire.sendText(#"{"type":"nonsense"}"#)
                    let reply = try await wire.readTextMessage()
                    #expect(reply?.contains(#""type":"error""#) == true, "Origin \(origin ?? "none"): \(reply ?? "no reply")")
                    return head?.status
                }
                #expect(status == 101, "Origin \(origin ?? "none")")
            }
        }
    }

    @Test("the page's own origin follows the Host the request came to")
    func ownOriginFollowsHost() throws {
        let policy = try OriginPolicy(allowing: [])
        #expect(policy.check(origins: ["http://echo.example"], host: "echo.example") == .allowed)
        #expect(policy.check(origins: ["https://echo.example"], host: "echo.example:443") == .allowed)
        #expect(policy.check(origins: ["http://echo.example:8080"], host: "echo.example:8080") == .allowed)
        #expect(policy.check(origins: [], host: "echo.example") == .allowed)
        #expect(policy.check(origins: ["http://echo.example:8081"], host: "echo.example:8080") != .allowed)
        #expect(policy.check(origins: ["http://evil.example"], host: "echo.example") != .allowed)
        #expect(policy.check(origins: ["http://echo.example"], host: nil) != .allowed)
        #expect(policy.check(origins: ["http://echo.example.evil.example"], host: "echo.example") != .allowed)
        #expect(policy.check(origins: ["http://user@echo.example"], host: "user@echo.example") != .allowed)
        #expect(OriginPolicy.normalise("https://Echo.Example:443/") == "https://echo.example")
        #expect(OriginPolicy.normalise("http://[::1]:80") == "http://[::1]")
        #expect(OriginPolicy.normalise("http://echo.example:0") == nil)
        #expect(OriginPolicy.normalise("http://echo.example/x") == nil)
        #expect(OriginPolicy.normalise("echo.example") == nil)
        #expect(throws: OriginPolicy.Invalid.self) { try OriginPolicy(allowing: ["https://echo.example/path"]) }
    }

    // MARK: Limits

    @Test("the per-address limit refuses the N+1th session with bye (address limit)", .timeLimit(.minutes(1)))
    func perAddressLimit() async throws {
        var settings = Self.settings()
        settings.maxSessionsPerAddress = 3
        try await withServer(settings: settings) { port, registry in
            try await withSessions(port, count: 3) { _ in
                #expect(registry.count(from: "127.0.0.1") == 3)
                let refused = try await withConnection(port) { wire -> (Int?, String?, UInt8?) in
                    try await wire.send(upgradeRequest(port: port, origin: nil))
                    let status = try await wire.readHead()?.status
                    let bye = try await wire.readTextMessage()
                    let next = try await wire.readFrame()?.opcode
                    return (status, bye, next)
                }
                #expect(refused.0 == 101)
                let bye = try #require(refused.1.flatMap(jsonObject), "no bye: \(refused.1 ?? "the connection closed")")
                #expect(bye["type"] as? String == "bye")
                #expect(bye["reason"] as? String == "address limit")
                #expect(refused.2 == 0x8, "a close frame follows the bye")
                #expect(registry.count(from: "127.0.0.1") == 3)
            }
        }
    }

    @Test("a session past --max-lifetime gets bye (session lifetime) and a close", .timeLimit(.minutes(1)))
    func lifetime() async throws {
        var settings = Self.settings()
        settings.maxLifetime = .milliseconds(300)
        try await withServer(settings: settings) { port, _ in
            try await withSessions(port, count: 1) { wires in
                // The next message is the server's, at the lifetime.
                let bye = try #require(try await wires[0].readTextMessage().flatMap(jsonObject))
                #expect(bye["type"] as? String == "bye")
                #expect(bye["reason"] as? String == "session lifetime")
                let next = try await wires[0].readFrame()
                #expect(next?.opcode == 0x8, "a close frame follows the bye")
                #expect(next.map { $0.payload.count >= 2 ? Int($0.payload[0]) << 8 | Int($0.payload[1]) : 0 } == 1000)
            }
        }
    }

    @Test("the server-wide offer budget refuses offers past it, across sessions", .timeLimit(.minutes(1)))
    func offerBudget() async throws {
        var settings = Self.settings()
        settings.offerRate = 0.001  // no refill within the test
        settings.offerBurst = 2
        try await withServer(settings: settings) { port, _ in
            // Malformed offers still cost a token: the budget is taken before the SDP is read.
            let offer = #"{"type":"offer","sdp":"v=0 not an offer"}"#
            try await withSessions(port, count: 2) { wires in
                var fields: [String] = []
                for wire in [wires[0], wires[0], wires[1], wires[0]] {
                    try await wire.sendText(offer)
                    let reply = try #require(try await wire.readTextMessage())
                    let object = try #require(jsonObject(reply), "\(reply)")
                    #expect(object["type"] as? String == "error")
                    fields.append(object["field"] as? String ?? "?")
                }
                #expect(fields[0] != "rate" && fields[1] != "rate", "\(fields)")
                #expect(fields[2] == "rate", "the other session's offer is over the same budget: \(fields)")
                #expect(fields[3] == "rate", "\(fields)")
            }
        }
    }

    @Test("an offer the SDP layer refuses gets error with the SdpError's field, and its line in the reason", .timeLimit(.minutes(1)))
    func badOffers() async throws {
        let head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
            + "c=IN IP4 0.0.0.0\r\na=mid:0\r\n"
        let credentials = "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
        let cases: [(sdp: String, field: String, reason: String)] = [
            (head + credentials + "a=setup:actpass\r\na=fingerprint:sha-256 ZZ\r\n", "a=fingerprint", "offer: line 11: "),
            (head + "a=setup:actpass\r\n", "a=ice-ufrag", "offer: line 5: "),
            ("v=0\r\ns=-\r\nt=0 0\r\n", "m=application", "offer: the description has no data-channel section"),
        ]
        try await withServer { port, _ in
            try await withSessions(port, count: 1) { wires in
                for bad in cases {
                    let message = try JSONSerialization.data(withJSONObject: ["type": "offer", "sdp": bad.sdp])
                    try await wires[0].sendText(String(decoding: message, as: UTF8.self))
                    let reply = try #require(try await wires[0].readTextMessage())
                    let object = try #require(jsonObject(reply), "\(reply)")
                    #expect(object["type"] as? String == "error", "\(reply)")
                    #expect(object["field"] as? String == bad.field, "\(reply)")
                    #expect((object["reason"] as? String)?.hasPrefix(bad.reason) == true, "\(reply)")
                }
            }
        }
    }

    @Test("the per-address key: IPv4 as it is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64")
    func addressKey() throws {
        #expect(RemoteAddress.key(try SocketAddress(ipAddress: "10.79.0.2", port: 5)) == "10.79.0.2")
        #expect(RemoteAddress.key(try SocketAddress(ipAddress: "::ffff:10.79.0.2", port: 5)) == "10.79.0.2")
        #expect(RemoteAddress.key(try SocketAddress(ipAddress: "2001:db8:1:2:3:4:5:6", port: 5)) == "2001:db8:1:2::/64")
        #expect(RemoteAddress.key(try SocketAddress(ipAddress: "2001:db8:1:2:ffff::1", port: 5)) == "2001:db8:1:2::/64")
        #expect(RemoteAddress.key(nil) == "local")
    }

    @Test("the token bucket: a burst, then the rate")
    func tokenBucket() {
        let bucket = TokenBucket(rate: 2, burst: 3)
        let t0 = ContinuousClock.now
        #expect((0..<3).map { _ in bucket.take(at: t0) } == [true, true, true])
        #expect(bucket.take(at: t0) == false)
        #expect(bucket.take(at: t0 + .milliseconds(499)) == false)
        #expect(bucket.take(at: t0 + .milliseconds(600)) == true)  // 1.2 tokens came back
        #expect(bucket.take(at: t0 + .milliseconds(600)) == false)
        #expect(bucket.take(at: t0 + .seconds(60)) == true)  // full again, not more than the burst
        #expect((0..<3).map { _ in bucket.take(at: t0 + .seconds(60)) } == [true, true, false])
        #expect(bucket.refused == 4)
    }

    // MARK: Static files

    @Test("the static files: no dotfiles, no symlinks", .timeLimit(.minutes(1)))
    func staticFiles() async throws {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("echo-public-\(UUID().uuidString)").path
        let publicDir = base + "/Public"
        let outside = base + "/outside"
        defer { try? fm.removeItem(atPath: base) }
        for dir in [publicDir + "/.git", publicDir + "/sub", outside + "/dir"] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let files = [
            publicDir + "/index.html": "<p>index</p>", publicDir + "/ok.txt": "ok", publicDir + "/.hidden": "hidden",
            publicDir + "/.git/config": "config", publicDir + "/sub/.env": "env", publicDir + "/sub/fine.txt": "fine",
            outside + "/secret.txt": "secret", outside + "/dir/secret.txt": "secret",
        ]
        for (path, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }
        try fm.createSymbolicLink(atPath: publicDir + "/link.txt", withDestinationPath: outside + "/secret.txt")
        try fm.createSymbolicLink(atPath: publicDir + "/linkdir", withDestinationPath: outside + "/dir")
        try fm.createSymbolicLink(atPath: publicDir + "/inside.txt", withDestinationPath: publicDir + "/ok.txt")

        try await withServer(publicDirectory: publicDir) { port, _ in
            let expected: [(String, Int)] = [
                ("/", 200), ("/index.html", 200), ("/ok.txt", 200), ("/sub/fine.txt", 200),
                ("/.hidden", 404), ("/%2Ehidden", 404), ("/.git/config", 404), ("/.git/", 404), ("/sub/.env", 404),
                ("/link.txt", 404), ("/linkdir/secret.txt", 404), ("/linkdir/", 404), ("/inside.txt", 404),
                ("/sub/../.hidden", 404),
            ]
            for (path, status) in expected {
                let response = try await withConnection(port) { wire in
                    try await wire.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
                    return try await wire.readToEnd()
                }
                let line = response.prefix(while: { $0 != "\r" })
                if path.contains("..") {
                    // Hummingbird refuses `..` itself (400 or 404): anything but the file.
                    #expect(!line.hasPrefix("HTTP/1.1 2"), "GET \(path): \(line)")
                } else {
                    #expect(line.hasPrefix("HTTP/1.1 \(status)"), "GET \(path): \(line)")
                }
                #expect(!response.contains("secret") && !response.contains("hidden\r") && !response.hasSuffix("hidden"), "GET \(path)")
            }
        }
    }

    // MARK: Helpers

    static func settings() -> ServerSettings {
        ServerSettings(
            connection: PeerConnection.Configuration(localAddresses: ["127.0.0.1"]),
            maxSessions: 100, idleTimeout: .seconds(30))
    }

    static let logger: Logger = {
        var logger = Logger(label: "EchoServerTests") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }()

    struct ServerDidNotStart: Error {}

    /// Runs the server on 127.0.0.1 (an ephemeral port) while `body` runs, then stops it.
    func withServer<R: Sendable>(
        settings: ServerSettings = Self.settings(), allowOrigins: [String] = [], publicDirectory: String? = nil,
        _ body: @Sendable (Int, SessionRegistry) async throws -> R
    ) async throws -> R {
        let registry = SessionRegistry(settings: settings, logger: Self.logger)
        let directory = publicDirectory ?? PublicDirectory.locate() ?? FileManager.default.temporaryDirectory.path
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let application = EchoApplication.build(
            host: "127.0.0.1", port: 0, publicDirectory: directory, origins: try OriginPolicy(allowing: allowOrigins),
            registry: registry, logger: Self.logger,
            onServerRunning: { channel in
                announce.yield(channel.localAddress?.port ?? 0)
                announce.finish()
            })
        // As in EchoServerCommand: the registry last, so that it shuts down first.
        let services = ServiceGroup(configuration: .init(services: [application, registry], logger: Self.logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw ServerDidNotStart()
            }
            do {
                let result = try await body(port, registry)
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Opens `count` sessions (WebSockets without Origin) and runs `body` while they are all open.
    /// Each session answered a message first, so all of them were admitted.
    func withSessions<R>(_ port: Int, count: Int, _ body: ([Wire]) async throws -> R) async throws -> R {
        func open(_ wires: [Wire]) async throws -> R {
            if wires.count == count { return try await body(wires) }
            return try await withConnection(port) { wire in
                try await wire.send(upgradeRequest(port: port, origin: nil))
                let status = try await wire.readHead()?.status
                try #require(status == 101)
                try await wire.sendText(#"{"type":"nonsense"}"#)
                let reply = try await wire.readTextMessage()
                try #require(reply?.contains(#""type":"error""#) == true, "session \(wires.count + 1): \(reply ?? "no reply")")
                return try await open(wires + [wire])
            }
        }
        return try await open([])
    }
}

/// A JSON object's fields, or nil.
func jsonObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}

/// A WebSocket upgrade request for /signal (with `Origin` if given).
func upgradeRequest(port: Int, origin: String?, extra: String = "") -> String {
    "GET /signal HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + (origin.map { "Origin: \($0)\r\n" } ?? "") + extra + "\r\n"
}

/// Runs `body` on a TCP connection to 127.0.0.1:`port`, closed afterwards.
func withConnection<R>(_ port: Int, _ body: (Wire) async throws -> R) async throws -> R {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await body(Wire(inbound: inbound.makeAsyncIterator(), outbound: outbound))
    }
}

/// The client side of one connection: raw bytes out, an HTTP head or WebSocket frames in.
final class Wire {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads more bytes; false at the end of the stream.
    private func fill() async throws -> Bool {
        guard var more = try await inbound.next() else { return false }
        buffer.writeBuffer(&more)
        return true
    }

    /// The response head (up to the blank line), or nil if the connection ends first.
    func readHead() async throws -> (status: Int, text: String)? {
        while true {
            let view = buffer.readableBytesView
            if let end = view.firstRange(of: Array("\r\n\r\n".utf8)) {
                let length = end.upperBound - view.startIndex
                let text = buffer.readString(length: length) ?? ""
                let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
                return (status, text)
            }
            guard try await fill() else { return nil }
        }
    }

    /// Everything until the server closes the connection.
    func readToEnd() async throws -> String {
        while try await fill() {}
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    /// One frame from the server (unmasked), or nil at the end of the stream.
    func readFrame() async throws -> (opcode: UInt8, payload: [UInt8])? {
        while true {
            if let frame = takeFrame() { return frame }
            guard try await fill() else { return nil }
        }
    }

    private func takeFrame() -> (opcode: UInt8, payload: [UInt8])? {
        let bytes = Array(buffer.readableBytesView)
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        buffer.moveReaderIndex(forwardBy: offset + length)
        return (bytes[0] & 0x0F, Array(bytes[offset..<(offset + length)]))
    }

    /// The next text message (pings skipped), or nil if the server closes first.
    func readTextMessage() async throws -> String? {
        while let frame = try await readFrame() {
            switch frame.opcode {
            case 0x1: return String(decoding: frame.payload, as: UTF8.self)
            case 0x8: return nil
            default: continue
            }
        }
        return nil
    }

    /// A masked text frame, as a client must send it.
    func sendText(_ text: String) async throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let mask: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        var out = ByteBuffer()
        out.writeBytes(frame)
        try await outbound.write(out)
    }
}
