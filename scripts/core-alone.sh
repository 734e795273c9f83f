#!/usr/bin/env bash
# Builds and tests the protocol core (Sources/NiceICECore, Tests/NiceICECoreTests) as a package of its
# own that has no libnice, no GLib, no CNice target and no other dependency: proof that the core needs
# no C. Fails if any core file imports CNice, NiceICE or Logging.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if grep -rnE '^(@_exported |internal |@testable )?import (CNice|NiceICE|Logging)$' "$root/Sources/NiceICECore" "$root/Tests/NiceICECoreTests"; then
    echo "FAIL: the protocol core imports a C binding or the library" >&2
    exit 1
fi
dir="$root/.build-core-package"
rm -rf "$dir"
mkdir -p "$dir/Sources" "$dir/Tests"
ln -s "$root/Sources/NiceICECore" "$dir/Sources/NiceICECore"
ln -s "$root/Tests/NiceICECoreTests" "$dir/Tests/NiceICECoreTests"
cat >"$dir/Package.swift" <<'SWIFT'
// swift-tools-version:6.1
import PackageDescription

let settings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
let package = Package(
    name: "swift-nice",
    targets: [
        .target(name: "NiceICECore", swiftSettings: settings),
        .testTarget(name: "NiceICECoreTests", dependencies: ["NiceICECore"], swiftSettings: settings),
    ]
)
SWIFT
cd "$dir"
swift test 2>&1 | tee "$dir/test.log" | grep -E "error|warning:|Test run with" || true
grep -q "Test run with .* passed" "$dir/test.log" || { echo "FAIL: the core tests did not pass on their own" >&2; exit 1; }
