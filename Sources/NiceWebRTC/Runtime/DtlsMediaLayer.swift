/// The media layer beside a DTLS transport's plaintext: SRTP and SRTCP keyed by the handshake
/// (RFC 5764), on the same ICE component (RFC 7983 demultiplexing: first byte 128–191).
///
/// Both calls come with no DTLS lock held, so the layer may read ``DtlsCore`` (its state, its
/// keys) and send over ICE from inside them.
protocol DtlsMediaLayer: AnyObject, Sendable {
    /// One datagram whose first byte says RTP or RTCP (128–191), still protected, on the context
    /// thread inside libnice's receive callback. The bytes are valid only during the call.
    func dtlsDidReceiveMedia(_ bytes: UnsafeRawBufferPointer)
    /// The DTLS state (or the ICE state under it) may have changed; read it again. Any thread.
    func dtlsStateDidChange()
}

/// The attached media layer, held weakly: the layer owns the DTLS transport's core, not the other
/// way round.
struct DtlsMediaSlot: Sendable {
    weak var layer: (any DtlsMediaLayer)?
}
