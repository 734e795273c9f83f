#!/usr/bin/env bash
# Builds the NiceICE candidate/SDP fuzzer with libFuzzer + AddressSanitizer and runs it.
#
#   Fuzz/run.sh [seconds]      (default 60)
#
# Compiles the pure-Swift parser sources directly (no SwiftPM, no libnice needed) into
# Fuzz/.build/candidate-fuzzer, copies Fuzz/seed/ into Fuzz/corpus-candidate-work/ and fuzzes for the given
# time. Exits non-zero if libFuzzer finds a crash, leak, timeout or invariant violation; the
# reproducer is left in Fuzz/.build/artifacts/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fuzz_setup candidate "$@"

# The protocol core (Sources/NiceICECore: no libnice, no swift-log) and the fuzzer, as one module.
fuzz_compile "$build/candidate-fuzzer" "${common[@]}" "${instrumented[@]}" \
    -module-name NiceICEFuzz \
    "$root"/Sources/NiceICECore/*.swift "$here/CandidateFuzzer/main.swift" "${shared[@]}" \
    -o "$build/candidate-fuzzer"

cp -f "$here"/seed/* "$work"/
fuzz_run "$build/candidate-fuzzer" 70000
