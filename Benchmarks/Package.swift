// swift-tools-version:6.1
// NiceICE benchmarks: a plain executable (`NiceBench`) printing the same JSON lines as the C
// reference (`c-reference/nice-bench`), so `scripts/bench.sh` can put both side by side; the DTLS
// figures (NiceWebRTC) sit next to aiortc's (`aiortc_handshake.py`).
// Build: swift build -c release --package-path Benchmarks
import PackageDescription

let package = Package(
    name: "NiceICEBenchmarks",
    dependencies: [
        .package(name: "swift-nice", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "NiceBench",
            dependencies: [
                .product(name: "NiceICE", package: "swift-nice"),
                .product(name: "NiceWebRTC", package: "swift-nice"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ]
)
