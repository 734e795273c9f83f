import NiceWebRTCCore

/// The engine's state for transport-wide congestion control: the receiver's recorder and its
/// feedback timer, and what the sender side counts of the peer's feedback.
struct TransportCcState: Sendable {
    /// The negotiated transport-wide-cc extension id of what we receive (nil: not negotiated,
    /// nothing recorded).
    var extensionId: UInt8?
    var recorder = TransportWideCcRecorder()
    /// The media SSRC of the last recorded packet (the feedback's media SSRC, as libwebrtc's).
    var mediaSsrc: UInt32 = 0
    var armed = false
}

/// Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01): every RTP
/// packet that SRTP let through — routed or not, padding probes and RTX included — is recorded
/// by its transport-wide sequence number when the extension was negotiated for receiving; a
/// timer on the ICE context thread sends the feedback ``feedbackInterval`` after the first
/// packet not yet reported (so every ~100 ms while packets arrive, nothing when none do), each
/// feedback packet alone (reduced-size, as NACK and PLI go). The peer's feedback about what we
/// send is counted.
extension RtcpEngine {
    /// How long after an unreported arrival feedback goes.
    static let feedbackInterval = 100 * RtpClock.millisecond

    /// The transport-wide-cc extension id negotiated for receiving (nil: none, recording stops).
    func setTransportCc(extensionId: UInt8?) {
        state.withLock { $0.transportCc.extensionId = extensionId }
    }

    /// An RTP packet SRTP let through, before routing: recorded when it carries the extension.
    func didReceiveTransport(_ packet: RtpPacket) {
        let now = clock.monotonic()
        let arm = state.withLock { s -> Bool in
            guard !s.closed, let id = s.transportCc.extensionId, let value = packet.extensionValue(id: id), value.count >= 2 else {
                return false
            }
            s.transportCc.recorder.record(sequenceNumber: UInt16(value[0]) << 8 | UInt16(value[1]), arrival: now)
            s.transportCc.mediaSsrc = packet.ssrc
            guard !s.transportCc.armed, s.transportCc.recorder.hasPendingFeedback else { return false }
            s.transportCc.armed = true
            return true
        }
        if arm { armTransportCcFeedback() }
    }

    /// Feedback from the peer about the packets we sent (counted).
    func didReceiveTransportWideCc(_ feedback: RtcpTransportWideCc) {
        state.withLock { s in
            s.counters.transportCcFeedbackReceived &+= 1
            s.counters.transportCcPacketsReported &+= UInt64(feedback.packetStatusCount)
        }
    }

    private func armTransportCcFeedback() {
        guard let session = state.withLock({ $0.closed ? nil : $0.session }) else {
            state.withLock { $0.transportCc.armed = false }
            return
        }
        session.dtls.core.connection.scheduleOnContext(after: .nanoseconds(Int64(Self.feedbackInterval))) { [weak self] in
            self?.transportCcTick()
        }
    }

    /// Sends what the recorder has; re-armed when a bound left some for the next round.
    func transportCcTick() {
        let (packets, again) = state.withLock { s -> ([RtcpPacket], Bool) in
            s.transportCc.armed = false
            guard !s.closed else { return ([], false) }
            let sender = s.incoming.keys.min().flatMap { s.incoming[$0]?.generator.senderSsrc } ?? s.outgoing.keys.min() ?? 0
            let feedback = s.transportCc.recorder.makeFeedback(senderSsrc: sender, mediaSsrc: s.transportCc.mediaSsrc)
            s.counters.transportCcFeedbackSent &+= UInt64(feedback.count)
            let again = s.transportCc.recorder.hasPendingFeedback
            s.transportCc.armed = again
            return (feedback.map { .transportWideCc($0) }, again)
        }
        send(packets)
        if again { armTransportCcFeedback() }
    }
}
