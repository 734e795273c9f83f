import Dispatch
import Foundation
import NiceICE
@testable import NiceWebRTC
import Testing

/// Runtime-level ports of the web-platform-tests for the connection's states and `close()`, for
/// a data-only session (two PeerConnections on 127.0.0.1; a data channel stands in for the
/// tests' media tracks where the case is about connectivity, not media). The signalling-state
/// cases are the core's (NiceWebRTCCoreTests/NegotiationSignalingTests.swift).
///
/// **RTCPeerConnection-connectionState.https.html**
/// - Ported: "Initial connectionState should be new"; "Closing the connection should set
///   connectionState to closed"; "connection with one data channel should eventually have
///   connected connection state" (through `connecting`); "… should eventually have transports
///   in connected state" (DTLS `connected`, ICE `connected` or `completed`); "connectionState
///   remains new when not adding remote ice candidates" (a data channel instead of the audio
///   track; the test checks `iceConnectionState`, and so do we, plus `connectionState`);
///   "connectionState transitions to connected via connecting" (exactly `connecting`,
///   `connected`); "Closing a PeerConnection should not fire connectionstatechange event".
/// - Do not apply: "Something something unbundled partially connected" (a BUNDLE group renamed
///   so audio and video use two transports; it asserts nothing).
///
/// **RTCPeerConnection-iceConnectionState.https.html**
/// - Ported: "Initial iceConnectionState should be new"; "Closing the connection should set
///   iceConnectionState to closed"; "connection with one data channel should eventually have
///   connected or completed connection state" (through `checking`); "… should eventually have
///   connected connection state" (the ICE transport's own state agrees with each event: our
///   events reach the handler queue after the transport changed, so the transport may be one
///   step further — `completed` for `connected` — never behind); the bundle-policy loop, for
///   a data-only session: with each `bundlePolicy` one ICE transport carries it and connects.
/// - Do not apply: "connection with audio track …", "… audio and video tracks …", "ICE can
///   connect in a recvonly usecase" (media); the bundle-policy loop's check that the caller's
///   ICE transport is `connected` at the moment its `setRemoteDescription(answer)` resolves
///   (it needs the media sections' early checks of a browser; a data-only caller's checks
///   start with the answer).
///
/// **RTCPeerConnection-iceGatheringState.html**
/// - Ported: "Initial iceGatheringState should be new"; "iceGatheringState should eventually
///   become complete after setLocalDescription" (an offer made without a channel: ours always
///   carries the data section); "connection with one data channel should eventually have
///   connected connection state" (pc2's `icegatheringstatechange`; at `complete` its ICE
///   transport is `complete`), with the order W3C's "surface the candidate" steps give:
///   `gathering`, the candidates, the end-of-candidates candidate, `complete`, then the null
///   candidate.
/// - Deliberate difference: at the connection's `gathering`, the ICE transport may already be
///   `complete`: it gathers from the connection's creation (as with a candidate pool), and the
///   connection reports gathering only once a local description is applied.
///
/// **RTCPeerConnection-close.html**
/// - Ported: "Closing the peer connection should close all channels (before connection
///   establishment)" and "(after connection establishment)" (24 channels, every other one
///   negotiated, `closed` as `close()` returns); "Closing the peer connection should set the
///   SCTP transport to closed".
@Suite("PeerConnection: WPT connectionState, iceConnectionState, iceGatheringState, close")
struct PeerConnectionWptStateTests {
    static let order: [IceConnectionState] = [.new, .checking, .connected, .completed]

    @Test("initial states new; close() sets connection, ICE and signalling states closed at once, without events", .timeLimit(.minutes(1)))
    func initialAndClosed() async throws {
        let queue = DispatchQueue(label: "test.initial")
        let pc = try loopbackPeer(queue: queue)
        #expect(pc.connectionState == .new && pc.iceConnectionState == .new && pc.iceGatheringState == .new)
        let events = Box(0)
        pc.connectionStateHandler = { _ in events.withLock { $0 += 1 } }
        pc.iceConnectionStateHandler = { _ in events.withLock { $0 += 1 } }
        pc.close()
        #expect(pc.connectionState == .closed && pc.iceConnectionState == .closed && pc.signalingState == .closed)
        queue.sync {}
        #expect(events.current == 0)
    }

    @Test("one data channel: connectionState connecting then connected exactly; ICE checking before connected; transports connected; each ICE event agrees with the transport", .timeLimit(.minutes(1)))
    func connects() async throws {
        let queue = DispatchQueue(label: "test.connects")
        let pc1 = try loopbackPeer(queue: queue), pc2 = try loopbackPeer()
        let states = Box<[PeerConnectionState]>([]), ice = Box<[IceConnectionState]>([])
        let transportAtEvent = Box<[(IceConnectionState, IceConnectionState)]>([])
        let atConnected = Box<(DtlsTransportState, IceConnectionState)?>(nil)
        pc1.connectionStateHandler = { s in
            states.withLock { $0.append(s) }
            if s == .connected { atConnected.withLock { $0 = (pc1.dtlsTransport.state, pc1.iceTransport.iceConnectionState) } }
        }
        pc1.iceConnectionStateHandler = { s in
            ice.withLock { $0.append(s) }
            transportAtEvent.withLock { $0.append((s, pc1.iceTransport.iceConnectionState)) }
        }
        _ = try pc1.createDataChannel("test")
        let links = trickle(pc1, pc2)
        try await negotiate(pc1, pc2)
        try await pc1.waitUntilConnected(timeout: .seconds(20))
        queue.sync {}
        #expect(states.current == [.connecting, .connected])
        let iceSeen = ice.current
        #expect(iceSeen.first == .checking && (iceSeen.contains(.connected) || iceSeen.contains(.completed)), "\(iceSeen)")
        let at = try #require(atConnected.current)
        #expect(at.0 == .connected)
        #expect(at.1 == .connected || at.1 == .completed)
        for (event, transport) in transportAtEvent.current {
            let e = Self.order.firstIndex(of: event) ?? 0, t = Self.order.firstIndex(of: transport) ?? -1
            #expect(t >= e, "connection said \(event), its ICE transport \(transport)")
        }
        // Closing fires no connectionstatechange.
        let before = states.current.count
        pc2.close()
        pc1.close()
        queue.sync {}
        #expect(states.current.count == before)
        links.forEach { $0.cancel() }
        await pc1.closeAndWait()
        await pc2.closeAndWait()
    }

    @Test("no remote candidates signalled: after offer/answer both sides stay new", .timeLimit(.minutes(1)))
    func staysNewWithoutCandidates() async throws {
        let caller = try loopbackPeer(), callee = try loopbackPeer()
        _ = try caller.createDataChannel("x")
        try await negotiate(caller, callee)
        #expect(caller.iceConnectionState == .new && callee.iceConnectionState == .new)
        #expect(caller.connectionState == .new && callee.connectionState == .new)
        caller.close()
        callee.close()
    }

    @Test("every bundlePolicy: a data-only session uses one ICE transport and connects", .timeLimit(.minutes(1)), arguments: BundlePolicy.allCases)
    func bundlePolicies(policy: BundlePolicy) async throws {
        let configuration = PeerConnection.Configuration(bundlePolicy: policy, localAddresses: ["127.0.0.1"])
        let caller = try PeerConnection(configuration: configuration), callee = try loopbackPeer()
        let channel = try caller.createDataChannel("datachannel")
        let links = trickle(caller, callee)
        let offer = try await caller.setLocalDescription()
        #expect(offer.sdp.components(separatedBy: "m=").count == 2)   // one section, one transport
        try await callee.setRemoteDescription(offer)
        try await caller.setRemoteDescription(try await callee.setLocalDescription())
        try await channel.waitUntilOpen(timeout: .seconds(20))
        #expect(caller.iceConnectionState == .connected || caller.iceConnectionState == .completed)
        links.forEach { $0.cancel() }
        await caller.closeAndWait()
        await callee.closeAndWait()
    }

    @Test("iceGatheringState: new, then gathering and complete after setLocalDescription, in W3C's order with the candidates", .timeLimit(.minutes(1)))
    func gathering() async throws {
        // After setLocalDescription of an offer made without a channel.
        let lone = try loopbackPeer()
        #expect(lone.iceGatheringState == .new)
        try await lone.setLocalDescription(try await lone.createOffer())
        #expect(await withDeadline(.seconds(10)) { () async -> Bool in
            for await s in lone.iceGatheringStateChanges() where s == .complete { return true }
            return false
        } == true)
        lone.close()
        // pc2's events with one data channel, against its ICE transport's own state.
        let queue = DispatchQueue(label: "test.gathering")
        let pc1 = try loopbackPeer(), pc2 = try loopbackPeer(queue: queue)
        let log = Box<[String]>([]), transportAtComplete = Box<IceGatheringState?>(nil)
        pc2.iceGatheringStateHandler = { s in
            log.withLock { $0.append("state \(s.rawValue)") }
            if s == .complete { transportAtComplete.withLock { $0 = pc2.iceTransport.iceGatheringState } }
        }
        pc2.iceCandidateHandler = { c in
            log.withLock { $0.append(c == nil ? "null" : c?.candidate == "" ? "end" : "candidate") }
        }
        _ = try pc1.createDataChannel("test")
        let links = trickle(pc1, pc2)
        try await negotiate(pc1, pc2)
        try await pc2.waitUntilConnected(timeout: .seconds(20))
        #expect(await withDeadline(.seconds(10)) { () async -> Bool in
            for await c in pc2.iceCandidates() where c == nil { return true }
            return false
        } == true)
        queue.sync {}
        let seen = log.current
        #expect(seen.first == "state gathering", "\(seen)")
        #expect(Array(seen.suffix(3)) == ["end", "state complete", "null"], "\(seen)")
        #expect(seen.dropFirst().dropLast(3).allSatisfy { $0 == "candidate" } && seen.count > 4, "\(seen)")
        #expect(transportAtComplete.current == .complete)
        links.forEach { $0.cancel() }
        await pc1.closeAndWait()
        await pc2.closeAndWait()
    }

    /// 24 channels, every other one negotiated (ids 0, 2, …), as the WPT makes them.
    static func channels(on pc: PeerConnection, from start: Int = 0) throws -> [DataChannel] {
        try (start..<24).map { i in
            let options = i % 2 == 0 ? DataChannelOptions(negotiated: true, id: UInt16(i)) : DataChannelOptions()
            return try pc.createDataChannel("test-channel-\(i)", options: options)
        }
    }

    @Test("close(): every channel closed as close() returns, before the connection was established", .timeLimit(.minutes(1)))
    func closeBeforeEstablished() async throws {
        let pc = try loopbackPeer()
        let channels = try Self.channels(on: pc)
        #expect(channels.allSatisfy { $0.readyState != .closed })
        pc.close()
        #expect(channels.allSatisfy { $0.readyState == .closed })
        #expect(pc.sctp == nil && pc.sctpTransport.state == .closed, "never negotiated: W3C sctp is null")
    }

    @Test("close(): every channel closed as close() returns, after the connection was established; SCTP transport closed", .timeLimit(.minutes(1)))
    func closeAfterEstablished() async throws {
        let pc1 = try loopbackPeer(), pc2 = try loopbackPeer()
        let links = trickle(pc1, pc2)
        let dc1 = try pc1.createDataChannel("pair")
        try await negotiate(pc1, pc2)
        try await dc1.waitUntilOpen(timeout: .seconds(20))
        let dc2 = try await firstIncoming(pc2)
        let channels = try [dc1, dc2] + Self.channels(on: pc1, from: 1)
        #expect(channels.allSatisfy { $0.readyState != .closed })
        pc1.close()
        pc2.close()
        #expect(channels.allSatisfy { $0.readyState == .closed }, "\(channels.map(\.readyState))")
        #expect(pc1.sctp?.state == .closed && pc2.sctp?.state == .closed)
        links.forEach { $0.cancel() }
        await pc1.closeAndWait()
        await pc2.closeAndWait()
    }
}
