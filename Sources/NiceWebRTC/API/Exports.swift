// `import NiceWebRTC` is enough for the whole stack: the DTLS layer's pure values (NiceWebRTCCore)
// and the ICE layer (NiceICE, which re-exports NiceICECore).
@_exported import NiceICE
@_exported import NiceWebRTCCore
