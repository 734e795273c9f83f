import Synchronization

extension IceTransport {
    /// A snapshot of the connection's ICE statistics: selected pairs, candidates, libnice's
    /// component states, candidate errors and data counters. Reads libnice on its context thread.
    public func stats() async -> IceStats {
        let core = self.core
        let snapshot = await withCheckedContinuation { (k: CheckedContinuation<AgentCore.AgentSnapshot, Never>) in
            context.execute { k.resume(returning: core.snapshot()) }
        }
        let (state, gathering, pairs, errors) = hub.withValues {
            ($0.machine.state, $0.gathering, $0.selectedPairs.sorted { $0.key < $1.key }.map(\.value), $0.candidateErrors)
        }
        let counters = self.counters
        return IceStats(
            timestamp: .now,
            iceConnectionState: state,
            iceGatheringState: gathering,
            selectedPairs: pairs,
            candidatePairs: pairs.map {
                IceCandidatePairStats(component: $0.component, local: $0.local, remote: $0.remote, state: .succeeded, nominated: true)
            },
            localCandidates: snapshot.local,
            remoteCandidates: snapshot.remote,
            componentStates: snapshot.componentStates,
            candidateErrors: errors,
            datagramsSent: counters.datagramsSent,
            bytesSent: counters.bytesSent,
            datagramsReceived: counters.datagramsReceived,
            bytesReceived: counters.bytesReceived,
            datagramsArrived: counters.datagramsArrived,
            bytesArrived: counters.bytesArrived,
            roundTripTime: nil
        )
    }
}
