import NiceICECore

// Every NiceWebRTC error has the layers' one shape (code, field, reason; see `LayerError`).
extension DtlsError: LayerError {}
extension DataChannelError: LayerError {}
extension SdpError: LayerError {}
extension PeerConnectionError: LayerError {}
