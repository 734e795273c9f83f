import Foundation
import NiceICE
import NiceWebRTCCore
import Synchronization

extension PeerConnection {
    /// W3C `getStats()`: a ``StatsReport`` built from the transports' own counters and libnice's
    /// candidate lists (read on the ICE context thread).
    public func stats() async -> StatsReport {
        let ice = core.ice
        let iceStats = await ice.stats()
        let dtls = core.dtls
        let transportId = "T01"
        let localCertificateId = "CF" + core.certificate.fingerprint.hexValue
        let remoteFingerprint = dtls.remoteCertificateFingerprint
        let remoteCertificateId = remoteFingerprint.map { "CF" + $0.hexValue }
        let localUfrag = ice.localParameters.usernameFragment
        let remoteUfrag = ice.remoteParameters?.usernameFragment
        func candidateId(_ prefix: String, _ c: IceCandidate) -> String {
            "\(prefix)\(c.transport.rawValue)-\(c.address)-\(c.port)-\(c.type.rawValue)"
        }
        let locals = iceStats.localCandidates.map {
            IceCandidateStats(id: candidateId("IL", $0), transportId: transportId, $0, usernameFragment: localUfrag)
        }
        let remotes = iceStats.remoteCandidates.map {
            IceCandidateStats(id: candidateId("IR", $0), transportId: transportId, $0, usernameFragment: remoteUfrag)
        }
        // libnice 0.1.21 publishes no STUN round-trip time: SCTP's smoothed RTT over the pair is
        // the best measure of the path we have (it includes the peer's SACK delay, ≤ 200 ms).
        let rtt = iceStats.roundTripTime ?? core.sctp.core.roundTripTime
        // What arrived over ICE, counted where libnice hands it over (before DTLS takes it: the
        // ICE transport's own receive counters see none of it under a PeerConnection). A
        // data-only session has one component, so the transport's count is the selected pair's.
        let packetsReceived = iceStats.datagramsArrived
        let bytesReceived = iceStats.bytesArrived
        let pairs = iceStats.candidatePairs.filter { $0.component == 1 }.map { p in
            CandidatePairStats(
                id: "CP\(candidateId("", p.local))_\(candidateId("", p.remote))", transportId: transportId,
                localCandidateId: candidateId("IL", p.local), remoteCandidateId: candidateId("IR", p.remote),
                state: p.state.rawValue, nominated: p.nominated,
                packetsSent: iceStats.datagramsSent, packetsReceived: packetsReceived,
                bytesSent: iceStats.bytesSent, bytesReceived: bytesReceived,
                currentRoundTripTime: rtt.map(Self.seconds), totalRoundTripTime: nil)
        }
        let role = core.negotiation { $0.iceRole }
        let dtlsRole = core.negotiation { $0.dtlsRole }
        let dtlsState = dtls.state
        let transport = TransportStats(
            id: transportId, packetsSent: iceStats.datagramsSent, packetsReceived: packetsReceived,
            bytesSent: iceStats.bytesSent, bytesReceived: bytesReceived,
            iceRole: role?.rawValue ?? "unknown", iceLocalUsernameFragment: localUfrag, dtlsState: dtlsState.rawValue,
            iceState: iceConnectionState.rawValue, selectedCandidatePairId: pairs.first?.id,
            localCertificateId: localCertificateId, remoteCertificateId: remoteCertificateId,
            tlsVersion: dtlsState == .connected ? "DTLSv1.2" : nil, dtlsCipher: dtls.cipherSuite,
            dtlsRole: dtlsRole.map { $0 == .client ? "client" : $0 == .server ? "server" : "unknown" } ?? "unknown")
        let channels = core.sctp.core.liveChannels.enumerated().map { index, channel in
            DataChannelStats(
                id: "D\(channel.id.map(String.init) ?? "-\(index)")", label: channel.label, protocol: channel.protocol,
                dataChannelIdentifier: channel.id, state: channel.readyState.rawValue,
                messagesSent: channel.counters.messagesSent.load(ordering: .relaxed),
                bytesSent: channel.counters.bytesSent.load(ordering: .relaxed),
                messagesReceived: channel.counters.messagesReceived.load(ordering: .relaxed),
                bytesReceived: channel.counters.bytesReceived.load(ordering: .relaxed))
        }
        var certificates = [
            CertificateStats(
                id: localCertificateId, fingerprint: core.certificate.fingerprint.hexValue.lowercased(),
                fingerprintAlgorithm: core.certificate.fingerprint.algorithm.rawValue,
                base64Certificate: Self.base64DER(pem: core.certificate.pemCertificate))
        ]
        if let remoteFingerprint, let remoteCertificateId {
            certificates.append(CertificateStats(
                id: remoteCertificateId, fingerprint: remoteFingerprint.hexValue.lowercased(),
                fingerprintAlgorithm: remoteFingerprint.algorithm.rawValue, base64Certificate: nil))
        }
        let opened = channels.filter { $0.state != DataChannelState.connecting.rawValue }.count
        let closed = channels.filter { $0.state == DataChannelState.closed.rawValue }.count
        let rtp = core.media.rtpStats(transportId: transport.id)
        return StatsReport(
            timestamp: Date().timeIntervalSince1970 * 1000,
            peerConnection: PeerConnectionStats(id: "P", dataChannelsOpened: UInt32(opened), dataChannelsClosed: UInt32(closed)),
            transport: transport, candidatePairs: pairs, localCandidates: locals, remoteCandidates: remotes,
            dataChannels: channels, certificates: certificates, inboundRtp: rtp.inbound, outboundRtp: rtp.outbound,
            remoteInboundRtp: rtp.remoteInbound, remoteOutboundRtp: rtp.remoteOutbound)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The base64 body of a PEM certificate (its DER in base64, W3C's `base64Certificate`).
    static func base64DER(pem: String) -> String {
        pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
    }
}
