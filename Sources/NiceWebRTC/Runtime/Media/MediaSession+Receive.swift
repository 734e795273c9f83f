import NiceWebRTCCore

extension MediaSession {
    /// One unprotected packet from ``SrtpCore`` (context thread, no lock held).
    func receive(_ packet: SrtpCore.Packet) {
        switch packet.kind {
        case .rtp: receiveRtp(packet.bytes)
        case .rtcp: receiveRtcp(packet.bytes)
        }
    }

    private func receiveRtp(_ bytes: [UInt8]) {
        let parsed: RtpPacket
        do throws(RtpError) { parsed = try RtpPacket(parsing: bytes) } catch {
            state.withLock { $0.counters.malformedRtp += 1 }
            return
        }
        let routed = state.withLock { s -> (RemoteTrack?, RtpPacket, Bool, MediaStreamInfo, (FrameCodec, UInt32)?)? in
            guard !s.closed, let id = route(parsed, &s) else { return nil }
            guard let binding = s.bindings[id], let receive = binding.receive else {
                s.counters.notReceived += 1
                return nil
            }
            var packet = parsed
            var repaired = false
            if let apt = receive.rtx[packet.payloadType] {
                // RFC 4588 §4: the original sequence number, then the original payload.
                guard packet.payload.count >= 2 else {
                    s.counters.rtxDropped += 1
                    return nil
                }
                packet.sequenceNumber = UInt16(packet.payload[0]) << 8 | UInt16(packet.payload[1])
                packet.payload.removeFirst(2)
                packet.payloadType = apt
                if let media = receive.fid[packet.ssrc] ?? binding.remoteMediaSsrc { packet.ssrc = media }
                repaired = true
                s.counters.rtxUnwrapped += 1
            } else if receive.payloadTypes.contains(packet.payloadType) {
                if binding.remoteMediaSsrc == nil { s.bindings[id]?.remoteMediaSsrc = packet.ssrc }
            } else {
                s.counters.notReceived += 1
                return nil
            }
            s.bindings[id]?.received[packet.ssrc, default: .init()].packets += 1
            s.bindings[id]?.received[packet.ssrc, default: .init()].bytes += UInt64(packet.payload.count)
            let codec = receive.codecs.first { $0.payloadType == packet.payloadType }
            return (binding.remoteTrack, packet, repaired, MediaStreamInfo(kind: binding.kind, localSsrc: binding.ssrc, clockRate: codec?.clockRate ?? 0),
                    codec.flatMap { c in FrameCodec(name: c.name).map { ($0, c.clockRate) } })
        }
        guard let (track, packet, repaired, stream, frameCodec) = routed else { return }
        control.didReceive(packet, wireCount: bytes.count, repaired: repaired, stream: stream)
        track?.deliver(packet, codec: frameCodec)
    }

    /// The binding of an inbound packet: by SSRC, else learnt from the mid extension (under the
    /// cap) — counted as unknown when neither works.
    private func route(_ packet: RtpPacket, _ s: inout State) -> Int? {
        if let id = s.routes[packet.ssrc] { return id }
        let ids = Set(s.bindings.values.compactMap { $0.receive?.midExtensionId })
        for extId in ids {
            guard let value = packet.extensionValue(id: extId), let mid = String(validating: value, as: UTF8.self),
                let id = s.bindings.first(where: { $0.value.receive?.mid == mid })?.key
            else { continue }
            guard s.learnt < Self.learntSsrcLimit else { break }
            s.learnt += 1
            s.routes[packet.ssrc] = id
            return id
        }
        s.counters.unknownSsrc += 1
        return nil
    }

    private func receiveRtcp(_ bytes: [UInt8]) {
        let packets: [RtcpPacket]
        do throws(RtpError) { packets = try RtcpPacket.parseCompound(bytes) } catch {
            state.withLock { $0.counters.malformedRtcp += 1 }
            return
        }
        var keyframes: [(LocalTrack, KeyframeRequest)] = []
        for packet in packets {
            switch packet {
            case .pictureLossIndication(let pli):
                if let track = sendingTrack(ssrc: pli.mediaSsrc, firSequence: nil) { keyframes.append((track, .pli)) }
            case .fullIntraRequest(let fir):
                for entry in fir.entries {
                    if let track = sendingTrack(ssrc: entry.ssrc, firSequence: entry.sequenceNumber) { keyframes.append((track, .fir)) }
                }
            case .genericNack(let nack): control.didReceiveNack(nack)
            case .senderReport(let report): control.didReceiveSenderReport(report)
            case .receiverReport(let report): control.didReceiveReceiverReport(report)
            default: break
            }
        }
        for (track, request) in keyframes { track.deliverKeyframeRequest(request) }
    }

    /// The local track a binding with our `ssrc` sends, if the control lets the request through
    /// (at most one per interval: a flood is counted, not surfaced).
    private func sendingTrack(ssrc: UInt32, firSequence: UInt8?) -> LocalTrack? {
        let track = state.withLock { s in s.bindings.values.first { $0.ssrc == ssrc }?.localTrack }
        guard let track, control.shouldForwardKeyframeRequest(ssrc: ssrc, firSequence: firSequence) else { return nil }
        return track
    }
}
