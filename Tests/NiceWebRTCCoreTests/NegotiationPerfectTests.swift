import NiceICECore
import NiceWebRTCCore
import Testing

/// W3C's perfect negotiation pattern (webrtc-pc §10.7) on two Negotiation values, with the
/// signalling messages (descriptions and trickled candidates) delivered in random interleavings:
/// 100 rounds in which either side, or both at once, need negotiation, with or without an ICE
/// restart. After each round both sides are stable on the same exchange and agree on
/// credentials, ICE and DTLS roles and the data mid; no candidate is refused except those the
/// impolite side ignores with an ignored offer.
@Suite("Negotiation: perfect negotiation, 100 rounds of glare")
struct NegotiationPerfectTests {
    /// SplitMix64: a reproducible sequence.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    enum Message {
        case description(SessionDescription)
        case candidate(IceCandidateInit)
    }

    struct Peer {
        var negotiation: Negotiation
        let polite: Bool
        var ignoreOffer = false
        var outbox: [Message] = []
        var candidateNumber = 0

        mutating func trickle() throws {
            candidateNumber += 1
            let line = "candidate:\(candidateNumber) 1 udp 2122260223 192.0.2.\(polite ? 1 : 2) \(5000 + candidateNumber) typ host"
            if let out = negotiation.trickled(try IceCandidate(parsing: line)) { outbox.append(.candidate(out)) }
        }

        /// `negotiationneeded`: the implicit offer.
        mutating func negotiate() throws {
            _ = try negotiation.setLocalDescription(SessionDescription(type: .offer, sdp: ""))
            outbox.append(.description(try #require(negotiation.localDescription)))
            try trickle()
        }

        mutating func receive(_ message: Message) throws {
            switch message {
            case .description(let description):
                let collision = description.type == .offer && negotiation.signalingState != .stable
                ignoreOffer = !polite && collision
                if ignoreOffer { return }
                _ = try negotiation.setRemoteDescription(description)
                if description.type == .offer {
                    _ = try negotiation.setLocalDescription(SessionDescription(type: .answer, sdp: ""))
                    outbox.append(.description(try #require(negotiation.localDescription)))
                    try trickle()
                }
            case .candidate(let candidate):
                do {
                    _ = try negotiation.route(candidate)
                } catch {
                    if !ignoreOffer { throw error }
                }
            }
        }
    }

    @Test("100 rounds: both sides offer at once, either restarts; always back to one agreed exchange", .timeLimit(.minutes(1)))
    func hundredRounds() throws {
        var random = Random(state: 18)
        var peers = [
            Peer(negotiation: try Jsep.peer("a", seed: 1), polite: false),
            Peer(negotiation: try Jsep.peer("b", seed: 2), polite: true),
        ]
        var glares = 0
        var restarts = 0
        for round in 1...100 {
            // Who needs negotiation this round (at least one side), and who restarts ICE.
            let who = round == 1 ? 2 : random.below(3)   // 0: a, 1: b, 2: both
            for side in 0..<2 where who == side || who == 2 {
                if round > 1, random.below(3) == 0 {
                    _ = peers[side].negotiation.restartIce()
                    restarts += 1
                }
                if peers[side].negotiation.signalingState == .stable { try peers[side].negotiate() }
            }
            if who == 2 { glares += 1 }
            // Deliver in a random interleaving; a side whose restart is still pending offers
            // again once stable (W3C fires negotiationneeded then).
            var quiet = 0
            while quiet < 3 {
                let ready = (0..<2).filter { !peers[$0].outbox.isEmpty }
                if ready.isEmpty {
                    var again = false
                    for side in 0..<2 where peers[side].negotiation.signalingState == .stable && peers[side].negotiation.restartPending {
                        try peers[side].negotiate()
                        again = true
                    }
                    quiet = again ? 0 : quiet + 1
                    continue
                }
                let from = ready[random.below(ready.count)]
                let message = peers[from].outbox.removeFirst()
                try peers[1 - from].receive(message)
            }
            let a = peers[0].negotiation
            let b = peers[1].negotiation
            try #require(a.signalingState == .stable && b.signalingState == .stable, "round \(round)")
            #expect(a.currentLocalDescription == b.currentRemoteDescription, "round \(round)")
            #expect(b.currentLocalDescription == a.currentRemoteDescription, "round \(round)")
            #expect(a.remoteIce == b.local.ice && b.remoteIce == a.local.ice, "round \(round)")
            #expect(a.iceRole != nil && a.iceRole != b.iceRole, "round \(round)")
            #expect(a.dtlsRole != nil && a.dtlsRole != b.dtlsRole, "round \(round)")
            #expect(a.dataMid == "0" && b.dataMid == "0", "round \(round)")
            #expect(!a.restartPending && !b.restartPending, "round \(round)")
        }
        #expect(glares > 20 && restarts > 20)
        // The first exchange decided DTLS for good: the impolite side offered, so it is the server.
        #expect(peers[0].negotiation.dtlsRole == .server && peers[1].negotiation.dtlsRole == .client)
    }
}
