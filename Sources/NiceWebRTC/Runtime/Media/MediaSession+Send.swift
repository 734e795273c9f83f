import NiceWebRTCCore

extension MediaSession {
    /// One packet a ``LocalTrack`` wrote, for the binding `id`: rewritten under the lock (our
    /// SSRC, the negotiated payload type for the track's MIME type, the binding's next sequence
    /// number, only the mid header extension), protected and sent after it is released. Dropped
    /// and counted when the binding does not send that track or SRTP refuses.
    ///
    /// `sharedIndex` is the packet's write index in the track's ``SharedSendHistory`` (nil: a
    /// packet made for this binding alone, a frame's, kept in the binding's own history): the
    /// RTCP engine then keeps only that index and the rewrite for NACKs, not the bytes.
    func write(_ packet: RtpPacket, from track: LocalTrack, binding id: Int, sharedIndex: UInt64? = nil) {
        let prepared = state.withLock { s -> (bytes: [UInt8], packet: RtpPacket, srtp: SrtpCore, stream: MediaStreamInfo, shared: RtpSharedPacket?)? in
            guard !s.closed, let binding = s.bindings[id], binding.localTrack === track, let send = binding.send,
                let payloadType = send.payloadTypes[track.mimeType.lowercased()], let srtp = s.srtp
            else {
                s.counters.writesDropped += 1
                return nil
            }
            let rewrite = RtpRewrite(
                payloadType: payloadType, midExtensionId: send.midExtensionId, mid: send.mid,
                transportCcExtensionId: send.transportCcExtensionId)
            var out = packet
            if rewrite.apply(to: &out, ssrc: binding.ssrc, sequenceNumber: binding.nextSequenceNumber, transportSequence: s.transportSequence) {
                s.transportSequence &+= 1
            }
            let bytes: [UInt8]
            do throws(RtpError) { bytes = try out.serialized() } catch {
                s.counters.writesDropped += 1
                return nil
            }
            s.bindings[id]?.nextSequenceNumber &+= 1
            s.bindings[id]?.sent.packets += 1
            s.bindings[id]?.sent.bytes += UInt64(out.payload.count)
            var shared: RtpSharedPacket?
            if let sharedIndex {
                let source: RtpSharedSource
                if let cached = binding.sharedSource, cached.matches(store: track.history, rewrite: rewrite) {
                    source = cached
                } else {
                    source = RtpSharedSource(store: track.history, rewrite: rewrite)
                    s.bindings[id]?.sharedSource = source
                }
                shared = RtpSharedPacket(source: source, index: sharedIndex)
            }
            let clockRate = send.codecs.first { $0.payloadType == payloadType }?.clockRate ?? 0
            return (bytes, out, srtp, MediaStreamInfo(kind: binding.kind, localSsrc: binding.ssrc, clockRate: clockRate), shared)
        }
        guard let prepared else { return }
        do throws(SrtpError) {
            if passesOutboundFilter(prepared.packet) { try prepared.srtp.sendRtp(prepared.bytes) }
            control.didSend(prepared.packet, bytes: prepared.bytes, stream: prepared.stream, shared: prepared.shared)
        } catch {
            state.withLock { $0.counters.sendFailures += 1 }
        }
    }

    /// Asks the sender of what binding `id` receives for a keyframe (``RemoteTrack/requestKeyframe()``):
    /// a PLI, or a FIR when the section negotiated `ccm fir` but not `nack pli`, rate-limited by
    /// the ``MediaControl`` (a request inside the interval is coalesced with the last one: true,
    /// nothing sent). False when nothing was received yet (no media SSRC to name) or SRTP refused.
    @discardableResult
    func requestKeyframe(binding id: Int) -> Bool {
        let target = state.withLock { s -> (sender: UInt32, media: UInt32, fir: Bool, srtp: SrtpCore)? in
            guard !s.closed, let binding = s.bindings[id], let media = binding.remoteMediaSsrc ?? binding.receive?.remoteSsrcs.first,
                let srtp = s.srtp
            else { return nil }
            let feedback = binding.receive?.codecs.flatMap(\.rtcpFeedback) ?? []
            let pli = feedback.contains { $0.type == "nack" && $0.parameter == "pli" }
            let fir = feedback.contains { $0.type == "ccm" && $0.parameter == "fir" }
            return (binding.ssrc, media, fir && !pli, srtp)
        }
        guard let target else { return false }
        guard let request = control.makeKeyframeRequest(senderSsrc: target.sender, mediaSsrc: target.media, fir: target.fir) else {
            return true
        }
        do throws(SrtpError) {
            guard let bytes = try? request.serialized() else { return false }
            try target.srtp.sendRtcp(bytes)
            return true
        } catch {
            state.withLock { $0.counters.sendFailures += 1 }
            return false
        }
    }

    /// Sends an already-built RTP packet again (the RTCP engine's NACK answers: a seam): as it
    /// was stored, except that a packet carrying the transport-wide-cc extension gets the next
    /// transport-wide sequence number, as libwebrtc and Pion do, so the peer's feedback reports
    /// each transmission on its own.
    func sendRaw(rtp bytes: [UInt8]) throws(SrtpError) {
        guard let srtp else { throw SrtpError(.notReady, reason: "no media session keyed") }
        try srtp.sendRtp(withNewTransportSequence(bytes))
    }

    /// `bytes` with the next transport-wide sequence number in place of the one it carries, when
    /// its SSRC is one of our senders with the extension negotiated; otherwise `bytes` unchanged.
    func withNewTransportSequence(_ bytes: [UInt8]) -> [UInt8] {
        guard var packet = try? RtpPacket(parsing: bytes) else { return bytes }
        return state.withLock { s in
            guard let id = s.bindings.values.first(where: { $0.ssrc == packet.ssrc && $0.send != nil })?.send?.transportCcExtensionId,
                packet.extensionValue(id: id) != nil
            else { return bytes }
            let sequence = s.transportSequence
            do throws(RtpError) {
                try packet.setExtension(id: id, value: [UInt8(sequence >> 8), UInt8(truncatingIfNeeded: sequence)])
                let out = try packet.serialized()
                s.transportSequence &+= 1
                return out
            } catch {
                return bytes
            }
        }
    }

    /// Sends an RTCP compound as is (for the RTCP engine's SR/RR/NACK: a seam).
    func sendRaw(rtcp bytes: [UInt8]) throws(SrtpError) {
        guard let srtp else { throw SrtpError(.notReady, reason: "no media session keyed") }
        try srtp.sendRtcp(bytes)
    }
}
