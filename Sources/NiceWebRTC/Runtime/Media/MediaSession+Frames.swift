import NiceWebRTCCore

/// What one binding keeps to send a track's frames: the codec's packetizer (VP8's picture IDs go
/// on from frame to frame) and the RTP clock.
struct FrameSender: Sendable {
    let codec: FrameCodec
    let clockRate: UInt32
    var packetizer: any RtpPacketizer
    /// The first frame's RTP timestamp (random, RFC 3550 §5.1).
    let baseTimestamp = UInt32.random(in: 0...UInt32.max)
    /// The media time written so far: timestamps are computed from the sum, so durations that
    /// are not whole clock ticks (1/30 s at 90 kHz is) never drift.
    var elapsed: Duration = .zero

    init(codec: FrameCodec, clockRate: UInt32) {
        self.codec = codec
        self.clockRate = clockRate
        packetizer = codec.makePacketizer()
    }

    /// The RTP timestamp of the next frame.
    var timestamp: UInt32 {
        let (seconds, attoseconds) = elapsed.components
        let rate = Int64(clockRate)
        // The fraction's ticks rounded to the nearest (1/30 s is 33,333,333,333,333,333 as: 2,999.99… ticks
        // at 90 kHz), in 128 bits: attoseconds × rate overflows 64.
        let product = attoseconds.multipliedFullWidth(by: rate)
        let (low, carry) = product.low.addingReportingOverflow(500_000_000_000_000_000)
        let (fraction, _) = Int64(1_000_000_000_000_000_000).dividingFullWidth((high: product.high &+ (carry ? 1 : 0), low: low))
        return baseTimestamp &+ UInt32(truncatingIfNeeded: seconds &* rate &+ fraction)
    }
}

extension MediaSession {
    /// The largest RTP payload a packet of binding `send` may carry: what is left of a 1,200-byte
    /// datagram (DTLS's bound, which every path WebRTC runs on carries) after the 12-byte RTP
    /// header, the `sdes:mid` header extension when negotiated (its block header and the element,
    /// padded to 32 bits) and SRTP's largest trailer (16 bytes, the AES-GCM tag).
    static func maximumPayloadSize(mid: String?) -> Int {
        let extensionBytes = mid.map { 4 + (2 + $0.utf8.count + 3) / 4 * 4 } ?? 0
        return 1200 - 12 - extensionBytes - 16
    }

    /// One frame a ``LocalTrack`` wrote, for the binding `id`: packetized with the binding's
    /// negotiated codec for the track's MIME type at its RTP clock, then written packet by packet
    /// (the rewrite of ``write(_:from:binding:)``). Nothing happens when the binding does not
    /// send the track (counted as a dropped write).
    ///
    /// - Throws: ``RtpError`` when the codec has no packetizer here (not VP8, H.264 or Opus), or
    ///   the packetizer refuses the frame (empty, an Opus packet over the payload limit, no H.264
    ///   NAL unit).
    func write(frame: [UInt8], duration: Duration, from track: LocalTrack, binding id: Int) throws(RtpError) {
        let prepared = state.withLock { s -> Result<[RtpPacket], RtpError> in
            guard !s.closed, let binding = s.bindings[id], binding.localTrack === track, let send = binding.send,
                  let payloadType = send.payloadTypes[track.mimeType.lowercased()],
                  let parameters = send.codecs.first(where: { $0.payloadType == payloadType })
            else {
                s.counters.writesDropped += 1
                return .success([])
            }
            guard let codec = FrameCodec(name: parameters.name) else {
                return .failure(RtpError(.invalidValue, field: "mimeType", reason: "no packetizer for \(track.mimeType) (VP8, H.264, Opus)"))
            }
            var sender = binding.frameSender.flatMap { $0.codec == codec ? $0 : nil } ?? FrameSender(codec: codec, clockRate: parameters.clockRate)
            let timestamp = sender.timestamp
            let units: [RtpPayloadUnit]
            do throws(RtpError) {
                units = try sender.packetizer.packetize(frame, timestamp: timestamp, firstSequenceNumber: 0,
                                                        maximumPayloadSize: Self.maximumPayloadSize(mid: send.midExtensionId == nil ? nil : send.mid))
            } catch {
                return .failure(error)
            }
            sender.elapsed += duration
            s.bindings[id]?.frameSender = sender
            return .success(units.map {
                RtpPacket(marker: $0.marker, payloadType: payloadType, sequenceNumber: 0, timestamp: $0.timestamp, ssrc: binding.ssrc, payload: $0.payload)
            })
        }
        // Sequence numbers, SSRC and the mid extension are set by the packet rewrite.
        for packet in try prepared.get() { write(packet, from: track, binding: id) }
    }
}
