import NiceICECore
import NiceWebRTCCore
import Testing

/// Peers, descriptions and candidates the Negotiation tests share.
enum Jsep {
    /// A certificate fingerprint of its own for each seed.
    static func fingerprint(_ seed: UInt8) throws -> DtlsFingerprint {
        try DtlsFingerprint(algorithm: .sha256, digest: (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed) &* 13) })
    }

    /// Valid credentials tagged by `tag` (letters and digits).
    static func ice(_ tag: String) -> IceParameters {
        IceParameters(usernameFragment: "u" + tag + "xxxx", password: "p" + tag + "0123456789abcdefghijklmn")
    }

    /// A negotiation with its own credentials and fingerprint.
    static func peer(_ tag: String, seed: UInt8, lite: Bool = false) throws -> Negotiation {
        Negotiation(local: LocalTransportValues(ice: ice(tag), fingerprints: [try fingerprint(seed)], iceLite: lite), sessionId: UInt64(seed) + 1)
    }

    /// `offerer` offers, `answerer` answers, both apply: the effects of the four calls.
    @discardableResult
    static func handshake(_ offerer: inout Negotiation, _ answerer: inout Negotiation) throws -> [[NegotiationEffect]] {
        let offer = try offerer.createOffer()
        let e1 = try offerer.setLocalDescription(offer)
        let e2 = try answerer.setRemoteDescription(offer)
        let answer = try answerer.createAnswer()
        let e3 = try answerer.setLocalDescription(answer)
        let e4 = try offerer.setRemoteDescription(answer)
        return [e1, e2, e3, e4]
    }

    /// W3C's `doSignalingHandshakeEndOnSecond`: the answer is applied by the offerer first.
    static func handshakeEndOnSecond(_ offerer: inout Negotiation, _ answerer: inout Negotiation) throws {
        _ = try offerer.setLocalDescription(offerer.createOffer())
        _ = try answerer.setRemoteDescription(#require(offerer.localDescription))
        let answer = try answerer.createAnswer()
        _ = try offerer.setRemoteDescription(answer)
        _ = try answerer.setLocalDescription(answer)
    }

    /// The `a=ice-ufrag` values of an SDP, in order.
    static func ufrags(_ description: SessionDescription?) -> [String] {
        (description?.sdp ?? "").split(separator: "\r\n").filter { $0.hasPrefix("a=ice-ufrag:") }.map { String($0.dropFirst(12)) }
    }

    /// The lines of an SDP that start with `prefix`.
    static func lines(_ sdp: String, _ prefix: String) -> [String] {
        sdp.split(separator: "\r\n").filter { $0.hasPrefix(prefix) }.map(String.init)
    }

    static let hostCandidate = "candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host"
    static let srflxCandidate = "candidate:2 1 udp 1686052607 198.51.100.1 5001 typ srflx raddr 192.0.2.1 rport 5000"

    /// The W3C error code a call threw, or nil when it did not throw.
    static func code(_ body: () throws -> Void) -> PeerConnectionError.Code? {
        do {
            try body()
            return nil
        } catch let error as PeerConnectionError {
            return error.code
        } catch {
            return nil
        }
    }

    static func error(_ body: () throws -> Void) -> PeerConnectionError? {
        do {
            try body()
            return nil
        } catch let error as PeerConnectionError {
            return error
        } catch {
            return nil
        }
    }
}
