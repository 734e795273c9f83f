import NiceICE
import NiceWebRTC
import Testing

/// One transport that never connects: no remote parameters, no peer.
private func lonelyStack() throws -> (IceTransport, DtlsTransport, SctpTransport) {
    let pc = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
    let dtls = try DtlsTransport(iceTransport: pc, configuration: .init(certificate: try Certificate.generate()))
    let sctp = try SctpTransport(dtlsTransport: dtls)
    return (pc, dtls, sctp)
}

@Suite("Waits: every layer reports timeout, cancellation and close with the same codes")
struct WaitCodeTests {
    @Test("timeout → timedOut (DTLS, SCTP, channel)", .timeLimit(.minutes(1)))
    func timeouts() async throws {
        let (pc, dtls, sctp) = try lonelyStack()
        let channel = try sctp.createDataChannel(label: "never")
        await #expect { try await dtls.waitUntilConnected(timeout: .milliseconds(50)) } throws: { ($0 as? DtlsError)?.code == .timedOut }
        await #expect { try await sctp.waitUntilConnected(timeout: .milliseconds(50)) } throws: { ($0 as? DataChannelError)?.code == .timedOut }
        await #expect { try await channel.waitUntilOpen(timeout: .milliseconds(50)) } throws: { ($0 as? DataChannelError)?.code == .timedOut }
        sctp.close()
        await pc.closeAndWait()
    }

    @Test("cancellation → cancelled, before or during the wait", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let (pc, dtls, sctp) = try lonelyStack()
        let channel = try sctp.createDataChannel(label: "never")
        let waits: [Task<String?, Never>] = [
            Task { () async -> String? in
                do throws(DtlsError) { try await dtls.waitUntilConnected(timeout: .seconds(60)); return nil } catch { return error.code.rawValue }
            },
            Task { () async -> String? in
                do throws(DataChannelError) { try await sctp.waitUntilConnected(timeout: .seconds(60)); return nil } catch { return error.code.rawValue }
            },
            Task { () async -> String? in
                do throws(DataChannelError) { try await channel.waitUntilOpen(timeout: .seconds(60)); return nil } catch { return error.code.rawValue }
            },
        ]
        for w in waits { w.cancel() }
        for w in waits { #expect(await w.value == "cancelled") }
        sctp.close()
        await pc.closeAndWait()
    }

    @Test("close → closed", .timeLimit(.minutes(1)))
    func closing() async throws {
        let (pc, dtls, sctp) = try lonelyStack()
        let channel = try sctp.createDataChannel(label: "never")
        sctp.close()
        await #expect { try await dtls.waitUntilConnected(timeout: .seconds(10)) } throws: { ($0 as? DtlsError)?.code == .closed }
        await #expect { try await sctp.waitUntilConnected(timeout: .seconds(10)) } throws: { ($0 as? DataChannelError)?.code == .closed }
        await #expect { try await channel.waitUntilOpen(timeout: .seconds(10)) } throws: { ($0 as? DataChannelError)?.code == .closed }
        await pc.closeAndWait()
    }
}
