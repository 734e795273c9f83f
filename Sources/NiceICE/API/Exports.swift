// `import NiceICE` gives the protocol core's public types too (IceCandidate, IceError, the states),
// as swift-nio's umbrella module re-exports NIOCore.
@_exported import NiceICECore
