import Dispatch
import Foundation
import Synchronization
import Testing

@testable import NiceICE

/// Issue 4: NiceICE on real (namespaced) networks, with NAT routers, random loss, link cuts and a
/// real coturn. Every scenario prints its timeline (ms since start, peer, state and reason, pairs,
/// candidate errors, test notes). Needs root, ip, iptables and coturn; elsewhere it skips with the
/// reason printed, and `NetworkPrerequisites` fails the run for it under NICE_REQUIRE_NETNS=1
/// (scripts/test.sh sets it as root). Loss and link cuts are iptables rules in the NAT namespaces.
@Suite(
    "Network: NAT, STUN/TURN (coturn), loss, link cuts in namespaces",
    .serialized,
    .enabled(if: NetworkLab.available, "needs root, network namespaces, iptables and coturn (the reason is printed above)"),
    .internet, .timeLimit(.minutes(20))
)
struct NetworkTests {
    var internet: Internet {
        get throws { try #require(InternetScope.current, "the suite's inet namespace and coturn were not set up") }
    }

    /// coturn's recent log lines, for failure messages.
    func coturnLog() -> String { InternetScope.current?.coturn.logTail() ?? "(no coturn)" }

    // MARK: 1. srflx through endpoint-independent NATs

    @Test("1: behind two endpoint-independent NATs, STUN gives a srflx↔srflx (or prflx) pair", .timeLimit(.minutes(1)))
    func srflxBehindNats() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent, .endpointIndependent])
        defer { scene.tearDown() }
        let pair = try NetPair(
            "1: srflx through two endpoint-independent NATs",
            a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1), servers: [Internet.stunServer])),
            b: ("lan2", scene.lan(2), .net(.controlled, bind: scene.agentAddress(2), servers: [Internet.stunServer])))
        defer { pair.closeNow(); pair.log.print() }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)")
        #expect(await pair.exchangeData())
        for (peer, own, other) in [(pair.a, 1, 2), (pair.b, 2, 1)] {
            #expect(peer.localCandidates.contains { $0.type == .srflx && $0.address == scene.natPublicAddress(own) },
                    "\(peer.name) gathered no srflx candidate with its NAT's address")
            let stats = await peer.pc.stats()
            pair.log.note("\(peer.name) stats: \(describe(stats))")
            let selected = try #require(stats.selectedPairs.first, "\(peer.name): no selected pair in stats()")
            let types: Set<IceCandidate.CandidateType> = [.srflx, .prflx]
            #expect(types.contains(selected.local.type) && types.contains(selected.remote.type)
                    && !(selected.local.type == .prflx && selected.remote.type == .prflx),
                    "\(peer.name): selected \(selected)")
            #expect(selected.local.address == scene.natPublicAddress(own), "\(peer.name): selected \(selected)")
            #expect(selected.remote.address == scene.natPublicAddress(other), "\(peer.name): selected \(selected)")
            #expect(stats.datagramsSent >= 3 && stats.datagramsReceived >= 3)
        }
        await pair.closeBoth()
    }

    @Test("1b: behind one endpoint-independent NAT, no STUN, to a public agent: the public side learns a prflx candidate",
          .timeLimit(.minutes(1)))
    func prflxToPublicAgent() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        let pair = try NetPair(
            "1b: lan1 behind a NAT (no STUN) ↔ public agent in inet",
            a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1))),
            b: ("inet", scene.inet, .net(.controlled, bind: Internet.peerAddress)))
        defer { pair.closeNow(); pair.log.print() }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)\n\(scene.dump(1))")
        #expect(await pair.exchangeData())
        let stats = await pair.b.pc.stats()
        pair.log.note("inet stats: \(describe(stats))")
        let selected = try #require(stats.selectedPairs.first)
        #expect(selected.remote.type == .prflx && selected.remote.address == scene.natPublicAddress(1), "\(selected)")
        await pair.closeBoth()
    }

    // MARK: 2. symmetric NATs need TURN; relay policy

    @Test("2a: behind two symmetric NATs STUN alone fails and TURN connects through a relay pair", .timeLimit(.minutes(2)))
    func symmetricNatsNeedTurn() async throws {
        let scene = try NetworkScene(try internet, nats: [.symmetric, .symmetric])
        defer { scene.tearDown() }
        do {
            let stunOnly = try NetPair(
                "2a: two symmetric NATs, STUN only (must fail)",
                a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1), servers: [Internet.stunServer])),
                b: ("lan2", scene.lan(2), .net(.controlled, bind: scene.agentAddress(2), servers: [Internet.stunServer])))
            defer { stunOnly.closeNow(); stunOnly.log.print() }
            try stunOnly.start()
            #expect(await stunOnly.a.waitForState(.failed, timeout: .seconds(40)), "\(stunOnly.a.timeline)")
            #expect(!stunOnly.a.states.contains(.connected) && !stunOnly.b.states.contains(.connected),
                    "\(stunOnly.a.timeline) / \(stunOnly.b.timeline)")
            await stunOnly.closeBoth()
        }
        let servers = [Internet.stunServer, Internet.turnServer()]
        let pair = try NetPair(
            "2a: two symmetric NATs, STUN + TURN",
            a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1), servers: servers)),
            b: ("lan2", scene.lan(2), .net(.controlled, bind: scene.agentAddress(2), servers: servers)))
        defer { pair.closeNow(); pair.log.print() }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(30)), "\(pair.a.timeline) / \(pair.b.timeline)\n\(coturnLog())")
        #expect(await pair.exchangeData())
        for peer in [pair.a, pair.b] {
            #expect(peer.localCandidates.contains { $0.type == .relay && $0.address == Internet.turnAddress })
            let stats = await peer.pc.stats()
            pair.log.note("\(peer.name) stats: \(describe(stats))")
            let selected = try #require(stats.selectedPairs.first, "\(peer.name): no selected pair")
            #expect(selected.local.type == .relay || selected.remote.type == .relay, "\(peer.name): selected \(selected)")
            #expect(stats.candidateErrors.isEmpty, "\(stats.candidateErrors)")
        }
        await pair.closeBoth()
    }

    @Test("2b: relay policy on a plain LAN gathers only relay candidates and connects relay↔relay",
          .timeLimit(.minutes(1)), arguments: ["udp", "tcp"])
    func relayPolicyOnPlainLan(turnTransport: String) async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        func config(_ role: IceTransport.Role, _ host: Int) -> IceTransport.Configuration {
            var c = IceTransport.Configuration.net(role, bind: scene.agentAddress(1, host: host),
                                                     servers: [Internet.turnServer(transport: turnTransport)])
            c.iceTransportPolicy = .relay
            return c
        }
        let pair = try NetPair(
            "2b: relay policy, two agents on one LAN, turn:…?transport=\(turnTransport)",
            a: ("lan1a", scene.lan(1), config(.controlling, 2)),
            b: ("lan1b", scene.lan(1), config(.controlled, 3)))
        defer { pair.closeNow(); pair.log.print(candidates: true) }
        if turnTransport == "tcp" {
            // Only TCP reaches the TURN server from this LAN, so the relay must come over TCP.
            try scene.iptables(scene.nat(1), ["-I", "FORWARD", "1", "-p", "udp", "-d", Internet.turnAddress, "-j", "DROP"])
            pair.log.note("UDP to the TURN server dropped at nat1")
        }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(30)), "\(pair.a.timeline) / \(pair.b.timeline)\n\(coturnLog())")
        #expect(await pair.exchangeData())
        for peer in [pair.a, pair.b] {
            #expect(!peer.localCandidates.isEmpty && peer.localCandidates.allSatisfy { $0.type == .relay },
                    "\(peer.name) gathered \(peer.localCandidates.map(\.description))")
            let stats = await peer.pc.stats()
            pair.log.note("\(peer.name) stats: \(describe(stats))")
            let selected = try #require(stats.selectedPairs.first, "\(peer.name): no selected pair")
            #expect(selected.local.type == .relay && selected.remote.type == .relay, "\(peer.name): selected \(selected)")
        }
        await pair.closeBoth()
    }

    // MARK: 3. link cut after completed

    @Test("3: link cut after completed: disconnected, failed after the grace period (consent lost); restartIce recovers",
          .timeLimit(.minutes(3)))
    func linkCutAndRestart() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent, .endpointIndependent])
        defer { scene.tearDown() }
        let grace = Duration.seconds(3)
        let pair = try NetPair(
            "3: link cut on lan1 after completed, restore, restartIce",
            a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1), servers: [Internet.stunServer], grace: grace)),
            b: ("lan2", scene.lan(2), .net(.controlled, bind: scene.agentAddress(2), servers: [Internet.stunServer], grace: grace)))
        defer { pair.closeNow(); pair.log.print() }
        try pair.start()
        #expect(await pair.a.waitForState(.completed, timeout: .seconds(20)), "\(pair.a.timeline)")
        #expect(await pair.b.waitForState(.completed, timeout: .seconds(20)), "\(pair.b.timeline)")
        try #require(await pair.exchangeData())

        let beforeCut = pair.b.changes.count
        try scene.cutLink(1)
        pair.log.note("link cut: DROP all through nat1's lan0")
        // The other side (lan2) loses consent: disconnected, then failed after the grace period.
        let sawDisconnected = await pair.b.waitFor(.seconds(60)) { $0.dropFirst(beforeCut).contains(.disconnected) }
        let disconnectedAt = ContinuousClock.now
        #expect(sawDisconnected, "\(pair.b.timeline)")
        let sawFailed = await pair.b.waitForState(.failed, timeout: grace + .seconds(5))
        let graceSeen = ContinuousClock.now - disconnectedAt
        #expect(sawFailed, "\(pair.b.timeline)")
        let afterCut = Array(pair.b.changes.dropFirst(beforeCut))
        #expect(afterCut == [IceStateChange(state: .disconnected, reason: .consentLost),
                             IceStateChange(state: .failed, reason: .consentLost)], "\(pair.b.timeline)")
        #expect(graceSeen >= grace - .milliseconds(100) && graceSeen < grace + .seconds(2),
                "disconnected → failed took \(graceSeen), grace period \(grace)")
        pair.log.note("lan2 disconnected → failed after \(graceSeen)")
        // The cut side itself loses consent too.
        #expect(await pair.a.waitForState(.failed, timeout: .seconds(30)), "\(pair.a.timeline)")

        try scene.restoreLink(1)
        pair.log.note("link restored")
        let beforeRestart = (pair.a.changes.count, pair.b.changes.count)
        try pair.restartBoth()
        for (peer, before) in [(pair.a, beforeRestart.0), (pair.b, beforeRestart.1)] {
            #expect(await peer.waitForState(.completed, timeout: .seconds(30)), "\(peer.timeline)")
            let afterRestart = Array(peer.states.dropFirst(before))
            #expect(afterRestart == [.checking, .connected, .completed], "\(peer.timeline)")
            #expect(peer.changes.dropFirst(before).first?.reason == .iceRestart, "\(peer.timeline)")
        }
        #expect(await pair.exchangeData())
        await pair.closeBoth()
    }

    // MARK: 4. 20 % loss

    // The loss applies to everything lan1 sends or receives, STUN to coturn included. With
    // libnice's default 3 transmissions per STUN request (2 s), a request whose three round trips
    // all lose a packet (0.36³ ≈ 5 %) fails: no srflx candidate, or checks exhausted; about one run
    // in 10 failed. The test therefore raises `stunMaxRetransmissions` to 6, as a user on a lossy
    // link would.

    @Test("4: 20 % random loss both ways on lan1's link: connects every time in 10 runs", .timeLimit(.minutes(12)))
    func connectsUnderLoss() async throws {
        let internet = try internet
        var durations: [String] = []
        var restarts = 0
        var freshPairs = 0
        for run in 1...10 {
            // Attempt 2 exists for one failure only: a gathering that lost its server-reflexive
            // candidate (libnice's STUN binding got no answer through the loss) cannot connect
            // through two NATs, and libnice's ICE restart keeps the candidates it has (no new
            // gathering), so the application's answer is a fresh transport; the test does that
            // once and reports it. Any other failure fails the run.
            for attempt in 1...2 {
                let scene = try NetworkScene(internet, nats: [.endpointIndependent, .endpointIndependent])
                defer { scene.tearDown() }
                try scene.addLoss(1, probability: 0.2)
                // Lossy links need more STUN transmissions than libnice's default 3 (see
                // `Configuration.stunMaxRetransmissions`): with 3, about one run in 10 fails.
                var a = IceTransport.Configuration.net(.controlling, bind: scene.agentAddress(1), servers: [Internet.stunServer])
                var b = IceTransport.Configuration.net(.controlled, bind: scene.agentAddress(2), servers: [Internet.stunServer])
                a.stunMaxRetransmissions = 6
                b.stunMaxRetransmissions = 6
                let pair = try NetPair(
                    "4: 20 % loss through nat1, run \(run)/10\(attempt > 1 ? " (a fresh pair)" : "")",
                    a: ("lan1", scene.lan(1), a), b: ("lan2", scene.lan(2), b))
                defer { pair.closeNow() }
                try pair.start()
                var up = await pair.waitForUp(timeout: .seconds(45))
                let lostSrflx = [pair.a, pair.b].contains { peer in !peer.localCandidates.contains { $0.type == .srflx } }
                if !up, lostSrflx, attempt == 1 {
                    freshPairs += 1
                    pair.log.note("not up after 45 s and a peer has no srflx candidate: \(pair.a.timeline) / \(pair.b.timeline); a fresh pair")
                    pair.log.note("loss rule: \(scene.droppedByLoss(1))")
                    pair.log.print(candidates: true)
                    await pair.closeBoth()
                    continue
                }
                // libnice's regular nomination can lose the race against the controlled side's 5 s
                // idle timeout when the nominating check needs several retransmissions: that side then
                // reports `failed`. An application answers `failed` with an ICE restart (W3C); so does
                // this test, once, and reports it.
                if !up {
                    restarts += 1
                    pair.log.note("not up after 45 s: \(pair.a.timeline) / \(pair.b.timeline); restarting ICE")
                    try pair.restartBoth()
                    up = await pair.waitForUp(timeout: .seconds(45))
                }
                let ms = pair.log.elapsedMs
                pair.log.note("loss rule: \(scene.droppedByLoss(1))")
                pair.log.print(candidates: true)
                let srflx = [pair.a, pair.b].map { peer in peer.localCandidates.contains { $0.type == .srflx } ? "\(peer.name) has srflx" : "\(peer.name) has NO srflx" }
                #expect(up, "run \(run): \(pair.a.timeline) / \(pair.b.timeline); \(srflx.joined(separator: ", "))\n\(scene.dump(1))\n\(scene.dump(2))")
                durations.append(up ? "\(ms) ms" : "FAILED")
                await pair.closeBoth()
                break
            }
        }
        print("4: time to connected/completed on both sides, 10 runs with 20 % loss: \(durations.joined(separator: ", ")); runs that needed one ICE restart: \(restarts), a fresh pair (no srflx gathered): \(freshPairs)")
    }

    // MARK: 5. ICE-TCP

    @Test("5: TCP-only candidates connect; closing the peer gives disconnected → failed", .timeLimit(.minutes(1)))
    func tcpOnly() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        func config(_ role: IceTransport.Role, _ host: Int) -> IceTransport.Configuration {
            var c = IceTransport.Configuration.net(role, bind: scene.agentAddress(1, host: host))
            c.iceUDP = false
            c.iceTCP = true
            return c
        }
        let pair = try NetPair(
            "5: TCP-only candidates on one LAN, then the peer closes",
            a: ("lan1a", scene.lan(1), config(.controlling, 2)),
            b: ("lan1b", scene.lan(1), config(.controlled, 3)))
        defer { pair.closeNow(); pair.log.print(candidates: true) }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)")
        #expect(await pair.exchangeData())
        for peer in [pair.a, pair.b] {
            #expect(!peer.localCandidates.isEmpty && peer.localCandidates.allSatisfy { $0.transport == .tcp },
                    "\(peer.name) gathered \(peer.localCandidates.map(\.description))")
            let stats = await peer.pc.stats()
            pair.log.note("\(peer.name) stats: \(describe(stats))")
            let selected = try #require(stats.selectedPairs.first)
            #expect(selected.local.transport == .tcp && selected.remote.transport == .tcp, "\(selected)")
        }
        let before = pair.a.changes.count
        await pair.b.pc.closeAndWait()
        pair.log.note("lan1b closed")
        #expect(await pair.a.waitForState(.failed, timeout: .seconds(15)), "\(pair.a.timeline)")
        let after = pair.a.changes.dropFirst(before).map(\.state)
        #expect(after == [.disconnected, .failed], "\(pair.a.timeline)")
        await pair.a.pc.closeAndWait()
    }

    @Test("5b: TCP-only from behind a NAT to a public agent (active → passive)", .timeLimit(.minutes(1)))
    func tcpOnlyThroughNat() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        func config(_ role: IceTransport.Role, _ address: String) -> IceTransport.Configuration {
            var c = IceTransport.Configuration.net(role, bind: address)
            c.iceUDP = false
            c.iceTCP = true
            return c
        }
        let pair = try NetPair(
            "5b: TCP-only, lan1 behind a NAT ↔ public agent in inet",
            a: ("lan1", scene.lan(1), config(.controlling, scene.agentAddress(1))),
            b: ("inet", scene.inet, config(.controlled, Internet.peerAddress)))
        defer { pair.closeNow(); pair.log.print() }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)")
        #expect(await pair.exchangeData())
        let selected = try #require(await pair.a.pc.stats().selectedPairs.first)
        #expect(selected.local.transport == .tcp && selected.remote.address == Internet.peerAddress, "\(selected)")
        await pair.closeBoth()
    }

    // MARK: 6. wrong TURN password

    /// libnice 0.1.21 (agent/conncheck.c, conn_check_handle_inbound_stun): an inbound STUN message
    /// is validated against the first discovery item on the same socket only. The TURN discovery
    /// (RFC 5389 agent) comes first and stays in the list when it fails; it rejects the STUN
    /// server's cookie-less RFC 3489 Binding response ("no cookie", BAD_REQUEST instead of
    /// UNMATCHED_RESPONSE), so the srflx discovery behind it never sees its response and times out.
    static let turnFailureHidesSrflx = "libnice 0.1.21: a failing TURN discovery on the host socket swallows the STUN Binding responses, so no srflx candidate is gathered"

    @Test("6: wrong TURN password: candidate error 401, no relay candidate, srflx connectivity unaffected",
          .timeLimit(.minutes(1)))
    func wrongTurnPassword() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent, .endpointIndependent])
        defer { scene.tearDown() }
        let bad = [Internet.stunServer, Internet.turnServer(password: "not-the-password")]
        let pair = try NetPair(
            "6: lan1 has a wrong TURN password",
            a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1), servers: bad)),
            b: ("lan2", scene.lan(2), .net(.controlled, bind: scene.agentAddress(2), servers: [Internet.stunServer])))
        defer { pair.closeNow(); pair.log.print(candidates: true) }
        try pair.start()
        // Gathering ends (never hangs), then the error event comes with the server's code.
        #expect(await pair.a.waitForEndOfCandidates(timeout: .seconds(20)), "lan1 gathering never completed")
        #expect(await pair.a.waitForCandidateError(timeout: .seconds(10)), "no candidate error event")
        let errors = pair.a.candidateErrors
        #expect(errors.count == 1 && errors.allSatisfy { $0.errorCode == 401 && $0.url.hasPrefix("turn:\(Internet.turnAddress)") },
                "candidate errors: \(errors)")
        #expect(!errors.contains { $0.url.contains("not-the-password") || $0.errorText.contains("not-the-password") })
        #expect(!pair.a.localCandidates.contains { $0.type == .relay }, "\(pair.a.localCandidates.map(\.description))")
        let stats = await pair.a.pc.stats()
        #expect(stats.candidateErrors.contains { $0.errorCode == 401 }, "\(stats.candidateErrors)")
        #expect(pair.b.candidateErrors.isEmpty)
        // NiceICE works around the libnice bug described at `turnFailureHidesSrflx` (TURN servers
        // are handed to libnice after the STUN discovery exists): srflx still forms.
        #expect(pair.a.localCandidates.contains { $0.type == .srflx }, "lan1 gathered \(pair.a.localCandidates.map(\.description))")
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)")
        #expect(await pair.exchangeData(timeout: .seconds(2)))
        let selected = try #require(await pair.a.pc.stats().selectedPairs.first)
        #expect(selected.local.type != .relay && selected.remote.type != .relay, "\(selected)")
        pair.log.note("lan1 stats: \(describe(await pair.a.pc.stats()))")
        await pair.closeBoth()
    }

    @Test("6b: wrong TURN password, peer reachable without srflx: the connection forms over host/prflx", .timeLimit(.minutes(1)))
    func wrongTurnPasswordPublicPeer() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        let bad = [Internet.stunServer, Internet.turnServer(password: "not-the-password")]
        let pair = try NetPair(
            "6b: lan1 (wrong TURN password) ↔ public agent in inet",
            a: ("lan1", scene.lan(1), .net(.controlling, bind: scene.agentAddress(1), servers: bad)),
            b: ("inet", scene.inet, .net(.controlled, bind: Internet.peerAddress, servers: [Internet.stunServer])))
        defer { pair.closeNow(); pair.log.print(candidates: true) }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)")
        #expect(await pair.exchangeData())
        #expect(await pair.a.waitForCandidateError(timeout: .seconds(10)))
        #expect(pair.a.candidateErrors.map(\.errorCode) == [401], "\(pair.a.candidateErrors)")
        #expect(!pair.a.localCandidates.contains { $0.type == .relay })
        // Still connected after the error event (the probe does not disturb the agent).
        #expect(pair.a.pc.iceConnectionState == .connected || pair.a.pc.iceConnectionState == .completed)
        await pair.closeBoth()
    }

    @Test("6c: unreachable TURN server: candidate error 701, gathering still ends", .timeLimit(.minutes(1)))
    func unreachableTurnServer() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        let config = IceTransport.Configuration.net(.controlling, bind: scene.agentAddress(1), servers: [
            Internet.stunServer,
            IceServer(url: "turn:\(Internet.turnAddress):3999?transport=udp", username: Internet.user, credential: Internet.password),
        ])
        let log = ScenarioLog("6c: TURN server that does not answer (port 3999, nothing listens)")
        let peer = try NetPeer("lan1", namespace: scene.lan(1), config, log: log)
        peer.pc.candidateHandler = { peer.record(.candidate($0)) }
        peer.pc.candidateErrorHandler = { peer.record(.candidateError($0)) }
        defer { peer.pc.close(); log.print(candidates: true) }
        peer.pc.start(queue: peer.queue)
        #expect(await peer.waitForEndOfCandidates(timeout: .seconds(30)), "gathering never completed")
        #expect(await peer.waitForCandidateError(timeout: .seconds(10)))
        #expect(peer.candidateErrors.map(\.errorCode) == [701], "\(peer.candidateErrors)")
        #expect(!peer.localCandidates.contains { $0.type == .relay })
        #expect(peer.localCandidates.contains { $0.type == .srflx }, "gathered \(peer.localCandidates.map(\.description))")
        await peer.pc.closeAndWait()
    }

    // MARK: NAT 1:1

    @Test("NAT 1:1: lan1 behind a static 1:1 NAT advertises the public address; the peer connects to it as a host candidate",
          .timeLimit(.minutes(1)))
    func natOneToOne() async throws {
        let scene = try NetworkScene(try internet, nats: [.endpointIndependent])
        defer { scene.tearDown() }
        try scene.addOneToOneNat(1)
        let publicAddress = scene.oneToOneAddress(1)
        var behind = IceTransport.Configuration.net(.controlling, bind: scene.agentAddress(1))
        behind.natOneToOneAddresses = [publicAddress]
        let pair = try NetPair(
            "NAT 1:1: lan1 (advertises \(publicAddress)) ↔ public agent in inet",
            a: ("lan1", scene.lan(1), behind),
            b: ("inet", scene.inet, .net(.controlled, bind: Internet.peerAddress)))
        defer { pair.closeNow(); pair.log.print(candidates: true) }
        try pair.start()
        #expect(await pair.waitForUp(timeout: .seconds(20)), "\(pair.a.timeline) / \(pair.b.timeline)\n\(scene.dump(1))")
        #expect(await pair.exchangeData())
        let hosts = pair.a.localCandidates.filter { $0.type == .host }
        #expect(!hosts.isEmpty && hosts.allSatisfy { $0.address == publicAddress }, "\(hosts.map(\.description))")
        #expect(!pair.a.localCandidates.contains { $0.address == scene.agentAddress(1) })
        let stats = await pair.b.pc.stats()
        pair.log.note("inet stats: \(describe(stats))")
        let selected = try #require(stats.selectedPairs.first)
        #expect(selected.remote.type == .host && selected.remote.address == publicAddress, "\(selected)")
        #expect(stats.remoteCandidates.contains { $0.type == .host && $0.address == publicAddress })
        await pair.closeBoth()
    }
}
