import Dispatch
import Foundation
import NiceICE
import NiceWebRTC
import Testing

/// One side of a data-channel test: a DtlsPeer plus an SCTP transport on it, recording the
/// channels the peer opened.
final class SctpPeer: Sendable {
    let dtlsPeer: DtlsPeer
    let sctp: SctpTransport
    let incoming = Box<[DataChannel]>([])

    init(_ dtlsPeer: DtlsPeer, configuration: SctpTransport.Configuration = .init()) throws {
        self.dtlsPeer = dtlsPeer
        sctp = try SctpTransport(dtlsTransport: dtlsPeer.dtls, configuration: configuration)
        let incoming = self.incoming
        sctp.dataChannelHandler = { c in incoming.withLock { $0.append(c) } }
    }

    var pc: IceTransport { dtlsPeer.pc }

    /// The `n`-th channel the peer opened, waiting for it.
    func incomingChannel(_ n: Int = 0, timeout: Duration = .seconds(10)) async throws -> DataChannel {
        let arrived = await eventually(timeout) { incoming.withLock { $0.count > n } }
        try #require(arrived, "no incoming channel #\(n) within \(timeout)")
        return incoming.withLock { $0[n] }
    }
}

/// Two peers with ICE, DTLS and SCTP set up over 127.0.0.1 (a offers, b answers).
struct SctpPair {
    let a: SctpPeer
    let b: SctpPeer

    static func make(
        configuration: SctpTransport.Configuration = .init(), remoteMaxMessageSize: (Int, Int) = (262_144, 262_144)
    ) async throws -> SctpPair {
        let dtls = try await DtlsPair.make()
        let a = try SctpPeer(dtls.a, configuration: configuration)
        let b = try SctpPeer(dtls.b, configuration: configuration)
        try a.sctp.setRemoteParameters(SctpParameters(port: b.sctp.localParameters.port, maxMessageSize: remoteMaxMessageSize.0))
        try b.sctp.setRemoteParameters(SctpParameters(port: a.sctp.localParameters.port, maxMessageSize: remoteMaxMessageSize.1))
        return SctpPair(a: a, b: b)
    }

    func waitConnected(timeout: Duration = .seconds(15)) async throws {
        try await a.sctp.waitUntilConnected(timeout: timeout)
        try await b.sctp.waitUntilConnected(timeout: timeout)
    }

    func close() async {
        a.sctp.close()
        b.sctp.close()
        await a.pc.closeAndWait()
        await b.pc.closeAndWait()
    }
}

/// Collects a channel's messages (handler mode) for assertions.
final class MessageRecorder: Sendable {
    let messages = Box<[DataChannelMessage]>([])
    let states = Box<[DataChannelState]>([])
    let errors = Box<[DataChannelError]>([])

    init(_ channel: DataChannel) {
        let messages = self.messages, states = self.states, errors = self.errors
        channel.messageHandler = { m in messages.withLock { $0.append(m) } }
        channel.stateHandler = { s in states.withLock { $0.append(s) } }
        channel.errorHandler = { e in errors.withLock { $0.append(e) } }
    }

    var count: Int { messages.withLock { $0.count } }
    /// The states after `open` (whose delivery may come before or after the recorder was set).
    var statesAfterOpen: [DataChannelState] { states.withLock { $0.filter { $0 != .open } } }
}

/// Message `i` of a test run: `size` bytes whose first 4 carry `i`, the rest a pattern of `i`.
func numbered(_ i: Int, size: Int) -> [UInt8] {
    (0..<size).map { k in
        k < 4 ? UInt8((i >> (8 * k)) & 0xFF) : UInt8(truncatingIfNeeded: i &* 31 &+ k)
    }
}
