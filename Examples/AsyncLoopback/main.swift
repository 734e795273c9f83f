// Two NiceICE agents in one process, written the async way: streams only (no handlers, no queue),
// candidates forwarded from `localCandidates()` (which replays what was gathered before it was
// made), `waitUntilConnected(timeout:)`, a datagram each way, `closeAndWait()`.
import NiceICE

/// Trickles `from`'s candidates to `to` until end-of-candidates.
func trickle(_ from: IceTransport, to: IceTransport) async throws {
    for await candidate in from.localCandidates() {
        try to.addIceCandidate(candidate)  // nil = end-of-candidates
        if candidate == nil { return }
    }
}
func run() async throws {
    let left = try IceTransport(configuration: .init(role: .controlling, localAddresses: ["127.0.0.1"]))
    let right = try IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))

    try left.setRemoteParameters(right.localParameters)
    try right.setRemoteParameters(left.localParameters)

    async let l: Void = trickle(left, to: right)
    async let r: Void = trickle(right, to: left)
    _ = try await (l, r)

    do {
        try await left.waitUntilConnected(timeout: .seconds(10))
        try await right.waitUntilConnected(timeout: .seconds(10))
    } catch {
        print("not connected: \(error) (state \(error.state.map { "\($0)" } ?? "?"))")
        throw error
    }
    print("connected: \(left.selectedPair.map { "\($0)" } ?? "?")")

    var received = right.receivedDatagrams().makeAsyncIterator()
    try left.send(Array("ping".utf8))
    if let datagram = await received.next() {
        print("right got \"\(String(decoding: datagram.bytes, as: UTF8.self))\"")
    }
    print("counters: left sent \(left.counters.datagramsSent), right received \(right.counters.datagramsReceived)")
    await left.closeAndWait()
    await right.closeAndWait()
    print("closed: \(left.iceConnectionState), \(right.iceConnectionState)")
}

try await run()
