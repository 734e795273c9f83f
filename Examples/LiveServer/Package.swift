// swift-tools-version:6.1
import PackageDescription

// A live-media server (WHIP ingest, WHEP playback) on Hummingbird 2: a package of its own, so that
// the library at ../.. never depends on Hummingbird (issue 20).
let package = Package(
    name: "LiveServer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "LiveServer", targets: ["LiveServer"]),
        .executable(name: "LiveLoad", targets: ["LiveLoad"]),
    ],
    dependencies: [
        .package(name: "swift-nice", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through Hummingbird; named for the types we use (ByteBuffer,
        // SocketAddress), as MemberImportVisibility wants.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // Also through Hummingbird; named for HTTPField (header names), as MemberImportVisibility wants.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.5.1"),
    ],
    targets: [
        // The server: HTTP (Http/: WHIP/WHEP resources, CORS, auth, limits, /metrics) and media
        // (Media/: streams, publisher → viewers forwarding, keyframe requests, recording).
        .executableTarget(
            name: "LiveServer",
            dependencies: [
                .product(name: "NiceWebRTC", package: "swift-nice"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
        // The load generator / benchmark client: one WHIP publisher and N WHEP viewers, each a
        // NiceWebRTC PeerConnection, in a process of its own (issue 20's performance figures).
        .executableTarget(
            name: "LiveLoad",
            dependencies: [
                .product(name: "NiceWebRTC", package: "swift-nice"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
        // The server in-process on 127.0.0.1 (Swift Testing): every status code, trickle and ICE
        // restart over PATCH, forwarding to NiceWebRTC viewers. `swift test --package-path Examples/LiveServer`.
        .testTarget(
            name: "LiveServerTests",
            dependencies: [
                "LiveServer",
                .product(name: "NiceWebRTC", package: "swift-nice"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
    ]
)
