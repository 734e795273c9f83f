#!/usr/bin/env bash
# Builds and tests the protocol cores (Sources/NiceICECore and Sources/NiceWebRTCCore, with their
# tests) as a package of their own that has no libnice, GLib, OpenSSL, C target or other dependency:
# proof that the cores need no C. Fails if any core file imports a C binding, a library or Logging.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if grep -rnE '^(@_exported |internal |@testable )?import (CNice|COpenSSL|CUsrsctp|CSrtp|NiceICE|NiceWebRTC|Logging)$' \
    "$root/Sources/NiceICECore" "$root/Tests/NiceICECoreTests" "$root/Sources/NiceWebRTCCore" "$root/Tests/NiceWebRTCCoreTests"; then
    echo "FAIL: the protocol core imports a C binding or the library" >&2
    exit 1
fi
dir="$root/.build-core-package"
rm -rf "$dir"
mkdir -p "$dir/Sources" "$dir/Tests"
ln -s "$root/Sources/NiceICECore" "$dir/Sources/NiceICECore"
ln -s "$root/Tests/NiceICECoreTests" "$dir/Tests/NiceICECoreTests"
ln -s "$root/Sources/NiceWebRTCCore" "$dir/Sources/NiceWebRTCCore"
ln -s "$root/Tests/NiceWebRTCCoreTests" "$dir/Tests/NiceWebRTCCoreTests"
ln -s "$root/Fuzz" "$dir/Fuzz"  # the browser SDP samples the DTLS value tests read
cat >"$dir/Package.swift" <<'SWIFT'
// swift-tools-version:6.1
import PackageDescription

let settings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
let package = Package(
    name: "swift-nice",
    targets: [
        .target(name: "NiceICECore", swiftSettings: settings),
        .testTarget(name: "NiceICECoreTests", dependencies: ["NiceICECore"], swiftSettings: settings),
        .target(name: "NiceWebRTCCore", dependencies: ["NiceICECore"], swiftSettings: settings),
        .testTarget(name: "NiceWebRTCCoreTests", dependencies: ["NiceWebRTCCore"], swiftSettings: settings),
    ]
)
SWIFT
cd "$dir"
swift test 2>&1 | tee "$dir/test.log" | grep -E "error|warning:|Test run with" || true
grep -q "Test run with .* passed" "$dir/test.log" || { echo "FAIL: the core tests did not pass on their own" >&2; exit 1; }
