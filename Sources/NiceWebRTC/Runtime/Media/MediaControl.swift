import NiceWebRTCCore

/// Seam for the RTCP engine (issue 19, branch `rtcp-engine`): the per-SSRC state machines (send
/// history + NACK responder, receive statistics, NACK generator, SR builder, keyframe-request
/// limiter, RTCP interval) plug in here. ``MediaSession`` calls it with no lock of its own held,
/// on the thread the packet came from (the context thread for inbound packets, the writer's
/// thread for outbound ones), so an implementation keeps its own (leaf) lock and returns quickly.
///
/// Today only ``NoMediaControl`` exists: SR/RR are not sent, NACKs are not answered, and
/// keyframe requests are not rate-limited.
protocol MediaControl: Sendable {
    /// An RTP packet was protected and sent on `ssrc` (after the rewrite: our SSRC, PT, seq).
    /// TODO(rtcp-engine): the send history (for NACK answers) and the SR's packet/octet counts.
    func didSend(_ packet: RtpPacket, wireCount: Int)
    /// An RTP packet arrived for a receiver (RTX already unwrapped, `repaired` then true).
    /// TODO(rtcp-engine): receive statistics (loss, jitter, report blocks) and the NACK generator.
    func didReceive(_ packet: RtpPacket, wireCount: Int, repaired: Bool)
    /// A Generic NACK for one of our SSRCs. TODO(rtcp-engine): resend from the send history
    /// (through ``MediaSession/sendRaw(rtp:)``), as RTX when negotiated.
    func didReceiveNack(_ nack: RtcpGenericNack)
    /// A sender report from the peer. TODO(rtcp-engine): LSR/DLSR for our report blocks.
    func didReceiveSenderReport(_ report: RtcpSenderReport)
    /// A receiver report (or an SR's report blocks) about what we send. TODO(rtcp-engine): RTT,
    /// remote-inbound-rtp stats.
    func didReceiveReceiverReport(_ report: RtcpReceiverReport)
    /// A PLI or FIR for our `ssrc`: whether to pass it to the local track's
    /// ``LocalTrack/keyframeRequests()``. TODO(rtcp-engine): the keyframe-request limiter.
    func shouldForwardKeyframeRequest(ssrc: UInt32) -> Bool
}

/// The control that does nothing yet (every keyframe request is forwarded).
struct NoMediaControl: MediaControl {
    func didSend(_ packet: RtpPacket, wireCount: Int) {}
    func didReceive(_ packet: RtpPacket, wireCount: Int, repaired: Bool) {}
    func didReceiveNack(_ nack: RtcpGenericNack) {}
    func didReceiveSenderReport(_ report: RtcpSenderReport) {}
    func didReceiveReceiverReport(_ report: RtcpReceiverReport) {}
    func shouldForwardKeyframeRequest(ssrc: UInt32) -> Bool { true }
}
