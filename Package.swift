// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-nice",
    products: [
        .library(name: "NiceICE", targets: ["NiceICE"]),
        .library(name: "NiceICECore", targets: ["NiceICECore"]),
        .library(name: "NiceWebRTC", targets: ["NiceWebRTC"]),
        .executable(name: "LoopbackDemo", targets: ["LoopbackDemo"]),
        .executable(name: "ice-peer", targets: ["ice-peer"]),
        .executable(name: "dc-peer", targets: ["dc-peer"]),
        .executable(name: "media-peer", targets: ["media-peer"]),
        .executable(name: "AsyncLoopback", targets: ["AsyncLoopback"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // MARK: C binding
        .systemLibrary(
            name: "CNice",
            pkgConfig: "nice",
            providers: [.apt(["libnice-dev", "libglib2.0-dev", "pkg-config"])]
        ),

        // MARK: Protocol core (no C, no I/O: grammar, values, the state machine, errors)
        .target(
            name: "NiceICECore",
            swiftSettings: swiftSettings
        ),

        // MARK: Library
        .target(
            name: "NiceICE",
            dependencies: [
                "NiceICECore",
                "CNice",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Above ICE (the second product): DTLS, SCTP data channels, SRTP
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // No pkgConfig: usrsctp.pc adds only -DINET -DINET6, which SwiftPM refuses (with a warning)
        // and the header does not need; the library is in the default paths. scripts/deps.sh
        // installs libusrsctp-dev.
        .systemLibrary(
            name: "CUsrsctp",
            providers: [.apt(["libusrsctp-dev"])]
        ),
        // libsrtp2 (Debian builds it on NSS): SRTP and SRTCP for media keyed by DTLS-SRTP.
        .systemLibrary(
            name: "CSrtp",
            pkgConfig: "libsrtp2",
            providers: [.apt(["libsrtp2-dev"])]
        ),
        .target(
            name: "NiceWebRTCCore",
            dependencies: ["NiceICECore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NiceWebRTC",
            dependencies: [
                "NiceICE",
                "NiceWebRTCCore",
                "COpenSSL",
                "CUsrsctp",
                "CSrtp",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Examples
        .executableTarget(
            name: "LoopbackDemo",
            dependencies: ["NiceICE"],
            path: "Examples/LoopbackDemo",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AsyncLoopback",
            dependencies: ["NiceICE"],
            path: "Examples/AsyncLoopback",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ice-peer",
            dependencies: ["NiceICE", "NiceWebRTC", .product(name: "Logging", package: "swift-log")],
            path: "Examples/ice-peer",
            swiftSettings: swiftSettings
        ),
        // What the WebRTC-JSONL peers share (options, protocol lines, signalling, the data channel).
        .target(
            name: "JsonlPeer",
            dependencies: ["NiceICE", "NiceWebRTC", .product(name: "Logging", package: "swift-log")],
            path: "Examples/jsonl-peer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dc-peer",
            dependencies: ["JsonlPeer", .product(name: "Logging", package: "swift-log")],
            path: "Examples/dc-peer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "media-peer",
            dependencies: ["JsonlPeer", "NiceWebRTC", .product(name: "Logging", package: "swift-log")],
            path: "Examples/media-peer",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        // Helpers the test targets share: posix_spawn for helper processes (Foundation's Process
        // aborts under AddressSanitizer) and the sweep of what a dead test run left behind.
        .target(
            name: "NiceTestSupport",
            path: "Tests/NiceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NiceICECoreTests",
            dependencies: ["NiceICECore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NiceICETests",
            dependencies: ["NiceICE", "NiceICECore", "NiceTestSupport"],
            exclude: ["Network/topology.sh"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NiceWebRTCCoreTests",
            dependencies: ["NiceWebRTCCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NiceWebRTCTests",
            dependencies: ["NiceWebRTC", "NiceICE", "NiceTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ]
)
