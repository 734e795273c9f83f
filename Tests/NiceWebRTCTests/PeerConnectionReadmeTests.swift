import NiceWebRTC
import Testing

/// The README's first example, as written there: two PeerConnections in one process, offer and
/// answer passed directly, one message over a data channel.
func readmeExample() async throws -> String {
    let a = try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"]))
    let b = try PeerConnection(configuration: .init(localAddresses: ["127.0.0.1"]))
    a.iceCandidateHandler = { candidate in Task { try await b.addIceCandidate(candidate) } }
    b.iceCandidateHandler = { candidate in Task { try await a.addIceCandidate(candidate) } }
    let channel = try a.createDataChannel("chat")
    channel.stateHandler = { state in if state == .open { try? channel.send(text: "hello") } }
    try await b.setRemoteDescription(a.setLocalDescription())
    try await a.setRemoteDescription(b.setLocalDescription())
    for await incoming in b.incomingDataChannels() {
        for await message in incoming.messages() {
            a.close(); b.close()
            return "\(message)"
        }
    }
    return ""
}

@Suite("PeerConnection: the README example")
struct PeerConnectionReadmeTests {
    @Test("the 15-line two-PeerConnection program compiles and runs to a clean exit", .timeLimit(.minutes(1)))
    func readme() async throws {
        let got = try await readmeExample()
        #expect(got.contains("hello"))
    }
}
