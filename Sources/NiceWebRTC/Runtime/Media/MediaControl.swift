import NiceWebRTCCore

/// What the session knows about the stream a packet belongs to, passed with it to the control.
struct MediaStreamInfo: Sendable, Hashable {
    /// The section's kind (picks the RTCP report interval).
    var kind: MediaKind
    /// Our SSRC on the binding (the sender of our RR/NACK/PLI for a remote stream).
    var localSsrc: UInt32
    /// The payload format's RTP clock rate (0: unknown, taken as 90 kHz).
    var clockRate: UInt32
}

/// Seam for the RTCP engine (issue 19): the per-SSRC state machines (send history + NACK
/// responder, receive statistics, NACK generator, SR builder, keyframe-request limiter, RTCP
/// interval). ``MediaSession`` calls it with no lock of its own held, on the thread the packet
/// came from (the context thread for inbound packets, the writer's thread for outbound ones), so
/// an implementation keeps its own (leaf) lock and returns quickly. ``RtcpEngine`` is the real
/// one; ``NoMediaControl`` does nothing.
protocol MediaControl: Sendable {
    /// The session the control sends through and schedules on (called once, from its init).
    func attach(_ session: MediaSession)
    /// An RTP packet was sent (or dropped by the test-only filter as if lost on the wire) on
    /// `packet.ssrc`: `bytes` is its serialized form before SRTP. `shared`, when given, is where
    /// the track's shared history keeps the original (then NACKs are answered from there and
    /// `bytes` is not kept).
    func didSend(_ packet: RtpPacket, bytes: [UInt8], stream: MediaStreamInfo, shared: RtpSharedPacket?)
    /// An RTP packet arrived for a receiver (RTX already unwrapped, `repaired` then true).
    func didReceive(_ packet: RtpPacket, wireCount: Int, repaired: Bool, stream: MediaStreamInfo)
    /// A Generic NACK for one of our SSRCs.
    func didReceiveNack(_ nack: RtcpGenericNack)
    /// A sender report from the peer (its report blocks included).
    func didReceiveSenderReport(_ report: RtcpSenderReport)
    /// A receiver report about what we send.
    func didReceiveReceiverReport(_ report: RtcpReceiverReport)
    /// A PLI (`firSequence` nil) or FIR entry for our `ssrc`: whether to pass it to the local
    /// track's ``LocalTrack/keyframeRequests()``.
    func shouldForwardKeyframeRequest(ssrc: UInt32, firSequence: UInt8?) -> Bool
    /// The keyframe request to send for ``RemoteTrack/requestKeyframe()`` (a FIR when `fir`), or
    /// nil when one went within the rate-limit interval.
    func makeKeyframeRequest(senderSsrc: UInt32, mediaSsrc: UInt32, fir: Bool) -> RtcpPacket?
    /// The session closed: timers stop, state goes.
    func close()
    /// The negotiated transport-wide-cc header extension id for receiving (nil: none).
    func setTransportCc(extensionId: UInt8?)
    /// Any RTP packet SRTP let through, before routing (for transport-wide CC feedback).
    func didReceiveTransport(_ packet: RtpPacket)
    /// Transport-wide CC feedback from the peer.
    func didReceiveTransportWideCc(_ feedback: RtcpTransportWideCc)
}

extension MediaControl {
    func setTransportCc(extensionId: UInt8?) {}
    func didReceiveTransport(_ packet: RtpPacket) {}
    func didReceiveTransportWideCc(_ feedback: RtcpTransportWideCc) {}
}

/// The control that does nothing (every keyframe request is forwarded and sent).
struct NoMediaControl: MediaControl {
    func attach(_ session: MediaSession) {}
    func didSend(_ packet: RtpPacket, bytes: [UInt8], stream: MediaStreamInfo, shared: RtpSharedPacket?) {}
    func didReceive(_ packet: RtpPacket, wireCount: Int, repaired: Bool, stream: MediaStreamInfo) {}
    func didReceiveNack(_ nack: RtcpGenericNack) {}
    func didReceiveSenderReport(_ report: RtcpSenderReport) {}
    func didReceiveReceiverReport(_ report: RtcpReceiverReport) {}
    func shouldForwardKeyframeRequest(ssrc: UInt32, firSequence: UInt8?) -> Bool { true }
    func makeKeyframeRequest(senderSsrc: UInt32, mediaSsrc: UInt32, fir: Bool) -> RtcpPacket? {
        fir
            ? .fullIntraRequest(RtcpFullIntraRequest(senderSsrc: senderSsrc, entries: [.init(ssrc: mediaSsrc, sequenceNumber: 0)]))
            : .pictureLossIndication(RtcpPictureLossIndication(senderSsrc: senderSsrc, mediaSsrc: mediaSsrc))
    }
    func close() {}
}
