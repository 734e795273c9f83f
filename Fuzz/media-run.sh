#!/usr/bin/env bash
# Builds the NiceWebRTC media fuzzer (RTP packets and header extensions, RTCP compound
# packets, NACK and transport-wide CC feedback, sequence numbers; depacketizers in modes >= 0x80)
# with libFuzzer + AddressSanitizer and runs it.
#
#   Fuzz/media-run.sh [seconds]   (default 60)
#
# The first input byte picks a mode (see Fuzz/MediaFuzzer/main.swift); modes >= 0x80 go to
# fuzzDepacketizers in Fuzz/MediaFuzzer/Depacketizers.swift.
#
# Compiles the pure-Swift cores directly (no SwiftPM, no libnice, no OpenSSL): Sources/NiceICECore
# as a static library of its own module (the NiceWebRTCCore files `import NiceICECore`), then
# every file of Sources/NiceWebRTCCore (its subfolders included) and the fuzzer
# (Fuzz/MediaFuzzer/*.swift) as one module, so the fuzzer sees internal helpers. Both are
# instrumented for coverage. Copies Fuzz/seed-media/ into Fuzz/corpus-media-work/ and fuzzes for
# the given time. Exits non-zero if libFuzzer finds a crash, leak, timeout or invariant
# violation; the reproducer is left in Fuzz/.build/artifacts/ (run
# `Fuzz/.build/media-fuzzer <file>` to replay one).
#
# Then every file in Fuzz/media-reproducers/ (if any) is replayed: inputs that made the fuzzer find
# a bug, kept as regression tests once it is fixed; one that still fails fails the script.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fuzz_setup media "$@"

fuzz_compile_ice_core "${instrumented[@]}"
fuzz_core_sources
fuzz_compile "$build/media-fuzzer" "${common[@]}" "${instrumented[@]}" \
    -I "$modules" \
    -module-name NiceWebRTCMediaFuzz \
    "${core_sources[@]}" "$here"/MediaFuzzer/*.swift "${shared[@]}" \
    -L "$modules" -lNiceICECore \
    -o "$build/media-fuzzer"

cp -f "$here"/seed-media/* "$work"/
fuzz_run "$build/media-fuzzer" 65536
