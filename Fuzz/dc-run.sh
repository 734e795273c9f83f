#!/usr/bin/env bash
# Builds the NiceWebRTC data-channel fuzzer (DCEP, message PPIDs, data-channel SDP offer/answer)
# with libFuzzer + AddressSanitizer and runs it.
#
#   Fuzz/dc-run.sh [seconds]      (default 60)
#
# Mode 4 drives the JSEP core (Negotiation) with scripted offers, answers, rollbacks, restarts,
# sessions with and without a data section (offersDataSection),
# mutated descriptions, fuzzed candidates and audio/video transceivers
# (Fuzz/DataChannelFuzzer/NegotiationScript.swift); SDP inputs also go through the media reader
# and a media answer (Fuzz/DataChannelFuzzer/MediaSdp.swift).
#
# Compiles the pure-Swift cores directly (no SwiftPM, no libnice, no OpenSSL): Sources/NiceICECore
# as a static library of its own module (the NiceWebRTCCore files `import NiceICECore`), then
# Sources/NiceWebRTCCore and the fuzzer (Fuzz/DataChannelFuzzer/main.swift) as one module, so the
# fuzzer sees internal helpers. Both are instrumented for coverage. Copies Fuzz/seed-dc/ and the
# SDP seeds of Fuzz/seed/ into Fuzz/corpus-dc-work/ and fuzzes for the given time. Exits non-zero
# if libFuzzer finds a crash, leak, timeout or invariant violation; the reproducer is left in
# Fuzz/.build/artifacts/ (run `Fuzz/.build/dc-fuzzer <file>` to replay one).
#
# Then every file in Fuzz/dc-reproducers/ (if any) is replayed: inputs that made the fuzzer find
# a bug, kept as regression tests once it is fixed; one that still fails fails the script.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fuzz_setup dc "$@"

fuzz_compile_ice_core "${instrumented[@]}"
fuzz_core_sources
fuzz_compile "$build/dc-fuzzer" "${common[@]}" "${instrumented[@]}" \
    -I "$modules" \
    -module-name NiceWebRTCDataChannelFuzz \
    "${core_sources[@]}" "$here"/DataChannelFuzzer/*.swift "${shared[@]}" \
    -L "$modules" -lNiceICECore \
    -o "$build/dc-fuzzer"

cp -f "$here"/seed-dc/* "$work"/
cp -f "$here"/seed/sdp-*.sdp "$work"/
fuzz_run "$build/dc-fuzzer" 65536
