import Foundation
@testable import NiceICE
import NiceWebRTC
import Testing

/// Weak references to one side's whole stack, for release checks.
struct WeakStack: Sendable {
    // Sendable: only read from the test task after the session ended.
    nonisolated(unsafe) weak var pc: IceTransport?
    nonisolated(unsafe) weak var dtls: DtlsTransport?
    nonisolated(unsafe) weak var sctp: SctpTransport?
    nonisolated(unsafe) weak var channel: DataChannel?

    var released: Bool { pc == nil && dtls == nil && sctp == nil && channel == nil }
    var alive: String {
        [pc.map { _ in "IceTransport" }, dtls.map { _ in "DtlsTransport" }, sctp.map { _ in "SctpTransport" },
         channel.map { _ in "DataChannel" }].compactMap { $0 }.joined(separator: ", ")
    }
}

/// How the answering side's user code holds on to its objects: the patterns people copy.
enum EchoStyle: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The README's echo: `channel.messageHandler = { m in try? channel.send(m) }` (a cycle).
    case readmeEcho
    /// The same with `[weak channel]`.
    case weakEcho
    /// A `dataChannelHandler` that captures the transport (another cycle).
    case handlerCapturesTransport
    /// `incomingDataChannels()` and `messages()` streams, iterated until they end.
    case streams

    var testDescription: String { rawValue }
}

/// One echo session between two stacks on 127.0.0.1 with no harness holding anything: a sends
/// three messages, b echoes them in `style`, both sides close, and b's stack is returned weakly.
func echoSessionThenClose(_ style: EchoStyle, unreadBytes: Int = 0) async throws -> WeakStack {
    var weakB = WeakStack()
    let certA = try Certificate.generate(), certB = try Certificate.generate()
    let pcA = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
    let pcB = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
    let dtlsA = try DtlsTransport(iceTransport: pcA, configuration: .init(certificate: certA))
    let dtlsB = try DtlsTransport(iceTransport: pcB, configuration: .init(certificate: certB))
    let answer = try dtlsB.setRemoteParameters(dtlsA.localParameters)
    try dtlsA.setRemoteParameters(answer)
    let sctpA = try SctpTransport(dtlsTransport: dtlsA)
    let sctpB = try SctpTransport(dtlsTransport: dtlsB)
    weakB.pc = pcB
    weakB.dtls = dtlsB
    weakB.sctp = sctpB
    let seen = Box<[DataChannel]>([])
    var streamTask: Task<Void, Never>?
    switch style {
    case .readmeEcho:
        sctpB.dataChannelHandler = { channel in
            seen.withLock { $0.append(channel) }
            channel.messageHandler = { message in try? channel.send(message) }
        }
    case .weakEcho:
        sctpB.dataChannelHandler = { channel in
            seen.withLock { $0.append(channel) }
            channel.messageHandler = { [weak channel] message in try? channel?.send(message) }
        }
    case .handlerCapturesTransport:
        sctpB.dataChannelHandler = { channel in
            seen.withLock { $0.append(channel) }
            _ = sctpB.state  // the transport, captured strongly
            channel.messageHandler = { message in try? channel.send(message) }
        }
    case .streams:
        let incoming = sctpB.incomingDataChannels()
        streamTask = Task {
            for await channel in incoming {
                seen.withLock { $0.append(channel) }
                Task {
                    for await message in channel.messages() {
                        do { try await channel.write(message) } catch { break }
                    }
                }
            }
        }
    }
    try sctpA.setRemoteParameters(SctpParameters(port: sctpB.localParameters.port))
    try sctpB.setRemoteParameters(SctpParameters(port: sctpA.localParameters.port))
    try await exchangeIce(pcA, pcB)
    let channelA = try sctpA.createDataChannel(label: "echo")
    let echoed = Box<Int>(0)
    channelA.messageHandler = { _ in echoed.withLock { $0 += 1 } }
    try await channelA.waitUntilOpen(timeout: .seconds(15))
    for i in 0..<3 { try await channelA.write(.text("hello \(i)")) }
    #expect(await eventually(.seconds(10)) { echoed.current == 3 }, "\(style): the echo works")
    if unreadBytes > 0 {
        // A second channel b never reads (its messages stay queued in b's inbox).
        let quiet = try sctpA.createDataChannel(label: "unread")
        try await quiet.waitUntilOpen(timeout: .seconds(10))
        for _ in 0..<(unreadBytes / 16_384) { try await quiet.write(.binary([UInt8](repeating: 7, count: 16_384))) }
    }
    weakB.channel = seen.current.first
    seen.withLock { $0 = [] }
    sctpA.close()
    sctpB.close()
    await pcA.closeAndWait()
    await pcB.closeAndWait()
    await streamTask?.value
    return weakB
}

/// glibc's `malloc_trim(0)` (not in Swift's Glibc module): gives freed heap pages back to the
/// system, so RSS shows what is still allocated.
func trimMalloc() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}

@Suite("Data channels: lifetimes after close", .serialized)
struct DataChannelLifetimeTests {
    @Test("after close, b's IceTransport, DtlsTransport, SctpTransport and DataChannel are released",
          .timeLimit(.minutes(1)), arguments: EchoStyle.allCases)
    func releasedAfterClose(style: EchoStyle) async throws {
        let weakB = try await echoSessionThenClose(style)
        // Handlers run on the transport's queue; what is posted there when closing drains quickly.
        #expect(await eventually(.seconds(5)) { weakB.released }, "\(style): still alive: \(weakB.alive)")
    }

    @Test("a channel closed with unread messages in its inbox is released with its stack", .timeLimit(.minutes(1)))
    func releasedWithUnreadMessages() async throws {
        let weakB = try await echoSessionThenClose(.readmeEcho, unreadBytes: 256 * 1024)
        #expect(await eventually(.seconds(5)) { weakB.released }, "still alive: \(weakB.alive)")
    }
}

/// Runs on its own (`swift test --filter Soak`, a step of scripts/test.sh): it reads process-wide
/// live-object counts and RSS, which other suites running at the same time would disturb.
@Suite("Soak: 1,000 sessions, live objects and RSS", .serialized)
struct SoakTests {
    @Test("1,000 echo sessions opened and closed in a row: every object freed (live counts back to zero), RSS back within 5 %",
          .timeLimit(.minutes(5)))
    func thousandSessions() async throws {
        try await MemoryHeavy.shared.run {
            let kinds: [LiveObjects.Kind] = [.peerConnection, .dtlsTransport, .dtlsCore, .sctpTransport, .sctpCore, .dataChannel]
            func counts() -> [Int] { kinds.compactMap { LiveObjects.count($0) } }
            func settledRSS() -> Int {
                trimMalloc()  // glibc keeps freed memory in its arenas; what is still in use stays
                return residentBytes()
            }
            let start = counts()
            for _ in 0..<50 { _ = try await echoSessionThenClose(.readmeEcho) }  // warm-up: caches, pools, usrsctp
            #expect(await eventually(.seconds(10)) { counts() == start })
            let baseline = settledRSS()
            for i in 0..<1_000 {
                let weakB = try await echoSessionThenClose(EchoStyle.allCases[i % EchoStyle.allCases.count])
                if i % 100 == 0 { #expect(await eventually(.seconds(5)) { weakB.released }, "session \(i): \(weakB.alive)") }
            }
            #expect(await eventually(.seconds(20)) { counts() == start }, "live objects \(kinds) now \(counts()), were \(start)")
            let after = settledRSS()
            #expect(Double(after) <= Double(baseline) * 1.05, "RSS \(baseline >> 10) KiB → \(after >> 10) KiB after 1,000 sessions")
        }
    }
}
