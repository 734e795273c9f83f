import Dispatch
import Foundation
import Testing

@testable import NiceICE

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Security review F6: libnice 0.1.21 learns a peer-reflexive remote candidate from every
/// authenticated check that comes from a new source address and keeps it without a limit. A peer
/// that knows the credentials (the session's own peer, or a page) sends checks from many ports;
/// past ``IceTransport/Configuration/maximumPeerReflexiveCandidates`` the connection is abandoned.
/// The hostile peer here is a set of UDP sockets on 127.0.0.1 sending real RFC 8445 checks built
/// by libnice's STUN library, with the victim's credentials.
@Suite("Peer-reflexive flood (F6)", .timeLimit(.minutes(1)))
struct PeerReflexiveFloodTests {
    /// A UDP socket on 127.0.0.1 with an ephemeral port.
    final class Sender {
        let fd: Int32
        init(receiveTimeout seconds: Int = 5) throws {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(bound == 0)
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd) }

        func send(_ bytes: [UInt8], toPort port: UInt16) {
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_addr.s_addr = inet_addr("127.0.0.1")
            to.sin_port = port.bigEndian
            _ = bytes.withUnsafeBytes { b in
                withUnsafePointer(to: &to) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }

        /// Waits (the receive timeout at most) for a STUN Binding success response (class/method 0x0101).
        func receivesBindingSuccess() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 1500)
            for _ in 0..<8 {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n >= 20 else { return false }
                if buffer[0] == 0x01 && buffer[1] == 0x01 { return true }  // skip the triggered checks
            }
            return false
        }
    }

    /// A controlled victim on 127.0.0.1 that knows the attacker's credentials, its host port.
    static func victim(limit: Int) async throws -> (IceTransport, UInt16, IceParameters) {
        var config = IceTransport.Configuration(role: .controlled, localAddresses: ["127.0.0.1"])
        config.maximumPeerReflexiveCandidates = limit
        let pc = try IceTransport(configuration: config)
        pc.start(queue: DispatchQueue(label: "test.f6"))
        let attacker = IceParameters.random()
        try pc.setRemoteParameters(attacker)
        var port: UInt16?
        for await candidate in pc.localCandidates() {
            guard let candidate else { break }
            if candidate.transport == .udp { port = candidate.port; break }
        }
        return (pc, try #require(port), attacker)
    }

    static func check(for pc: IceTransport, from attacker: IceParameters) throws -> [UInt8] {
        let local = pc.localParameters
        return try #require(LibNice.iceConnectivityCheck(
            username: "\(local.usernameFragment):\(attacker.usernameFragment)", password: local.password,
            controlling: true, priority: 1_853_824_767))
    }

    @Test("Checks from as many ports as the limit: each answered, all learnt, the connection stays usable")
    func underTheLimit() async throws {
        let (pc, port, attacker) = try await Self.victim(limit: 10)
        defer { pc.close() }
        let senders = try (0..<10).map { _ in try Sender() }
        for s in senders {
            s.send(try Self.check(for: pc, from: attacker), toPort: port)
            #expect(s.receivesBindingSuccess(), "libnice answers an authenticated check")
        }
        let stats = await pc.stats()
        #expect(stats.remoteCandidates.filter { $0.type == .prflx }.count == 10, "\(stats.remoteCandidates)")
        #expect(pc.iceConnectionState != .failed)
    }

    @Test("One port over the limit: failed (peerReflexiveFlood) at once, the agent released, close still works")
    func overTheLimit() async throws {
        let (pc, port, attacker) = try await Self.victim(limit: 10)
        defer { pc.close() }
        let changes = pc.stateChanges()
        let failed = Task { () -> IceStateChange? in
            for await change in changes where change.state == .failed { return change }
            return nil
        }
        let senders = try (0..<11).map { _ in try Sender() }
        for s in senders { s.send(try Self.check(for: pc, from: attacker), toPort: port) }
        let change = await withTaskGroup(of: IceStateChange?.self) { group in
            group.addTask { await failed.value }
            group.addTask { try? await Task.sleep(for: .seconds(10)); return nil }  // the bound, not a sync point
            defer { group.cancelAll(); failed.cancel() }
            return await group.next() ?? nil
        }
        #expect(change?.reason == .peerReflexiveFlood, "\(String(describing: change))")
        // The agent is released: a further check from a new port gets no answer.
        let late = try Sender(receiveTimeout: 1)
        late.send(try Self.check(for: pc, from: attacker), toPort: port)
        #expect(!late.receivesBindingSuccess(), "the abandoned agent no longer answers")
        await pc.closeAndWait()
        #expect(pc.iceConnectionState == .closed)
    }
}
