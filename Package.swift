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
        .executable(name: "LoopbackDemo", targets: ["LoopbackDemo"]),
        .executable(name: "ice-peer", targets: ["ice-peer"]),
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

        // MARK: Library
        .target(
            name: "NiceICE",
            dependencies: [
                "CNice",
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
            name: "ice-peer",
            dependencies: ["NiceICE", .product(name: "Logging", package: "swift-log")],
            path: "Examples/ice-peer",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "NiceICETests",
            dependencies: ["NiceICE"],
            exclude: ["Network/topology.sh"],
            swiftSettings: swiftSettings
        ),
    ]
)
