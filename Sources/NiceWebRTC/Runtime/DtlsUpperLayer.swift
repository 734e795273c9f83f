/// A protocol layer on top of a DTLS transport's plaintext — the SCTP association of data channels
/// (RFC 8261). Once attached, decrypted records go to the layer only, not to the transport's
/// receive handler and streams.
///
/// Both calls come with no DTLS lock held (``DtlsCore`` collects under its lock and hands up after
/// releasing it), so the layer may call ``DtlsCore/send(_:)`` from inside them: usrsctp does, from
/// inside `usrsctp_conninput`.
protocol DtlsUpperLayer: AnyObject, Sendable {
    /// One decrypted record, on the context thread. The bytes are valid only during the call.
    func dtlsDidReceive(_ plaintext: UnsafeRawBufferPointer)
    /// The DTLS state (or the ICE state under it) may have changed; read them again. Any thread.
    func dtlsStateDidChange()
}

/// The attached layer, held weakly: the layer owns the transport, not the other way round.
struct DtlsUpperSlot: Sendable {
    weak var layer: (any DtlsUpperLayer)?
}
