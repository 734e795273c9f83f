// One WHIP/WHEP negotiation, without trickle: the offer with every local candidate (gathering on
// one loopback address completes at once), POSTed; the answer applied.
import NiceWebRTC

/// What a negotiation gives back, with its times.
struct Negotiated: Sendable {
    let resource: WhipResource
    /// Just before the POST went.
    let postedAt: ContinuousClock.Instant
    /// When the answer was applied.
    let answeredAt: ContinuousClock.Instant
}

enum WhipNegotiation {
    /// Creates and applies the offer, waits for gathering (at most `gatherTimeout`), POSTs the
    /// offer to `/{endpoint}/{stream}` and applies the answer.
    static func run(_ pc: PeerConnection, http: WhipHttp, endpoint: String, stream: String, gatherTimeout: Duration) async throws(LoadError) -> Negotiated {
        do {
            _ = try await pc.setLocalDescription()
        } catch {
            throw LoadError("setLocalDescription: \(error)")
        }
        await waitForGathering(pc, timeout: gatherTimeout)
        // An offer carries the candidates gathered when it was created: the first one started
        // gathering, this one (same credentials, in have-local-offer) has them all.
        let offer: String
        do {
            offer = try await pc.setLocalDescription().sdp
        } catch {
            throw LoadError("setLocalDescription (with candidates): \(error)")
        }
        let postedAt = ContinuousClock.now
        let resource = try await http.post(endpoint: endpoint, stream: stream, offer: offer)
        do {
            try await pc.setRemoteDescription(SessionDescription(type: .answer, sdp: resource.answer))
        } catch {
            await http.delete(resource)
            throw LoadError("setRemoteDescription(answer): \(error)")
        }
        return Negotiated(resource: resource, postedAt: postedAt, answeredAt: .now)
    }

    /// Returns once gathering is complete or `timeout` passed.
    static func waitForGathering(_ pc: PeerConnection, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await state in pc.iceGatheringStateChanges() where state == .complete { return }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
