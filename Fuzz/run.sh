#!/usr/bin/env bash
# Builds the NiceICE candidate/SDP fuzzer with libFuzzer + AddressSanitizer and runs it.
#
#   Fuzz/run.sh [seconds]      (default 60)
#
# Compiles the pure-Swift parser sources directly (no SwiftPM, no libnice needed) into
# Fuzz/.build/candidate-fuzzer, copies Fuzz/seed/ into Fuzz/corpus-work/ and fuzzes for the given
# time. Exits non-zero if libFuzzer finds a crash, leak, timeout or invariant violation; the
# reproducer is left in Fuzz/.build/artifacts/.
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
    ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$here/.build"
work="$here/corpus-work"
artifacts="$build/artifacts"

swiftc="${SWIFTC:-}"
if [[ -z "$swiftc" ]]; then
    if command -v swiftc >/dev/null 2>&1; then
        swiftc="$(command -v swiftc)"
    elif [[ -x /opt/swift/usr/bin/swiftc ]]; then
        swiftc=/opt/swift/usr/bin/swiftc
    else
        echo "swiftc not found; set SWIFTC" >&2
        exit 2
    fi
fi

# The protocol core (Sources/NiceICECore: no libnice, no swift-log) and the fuzzer, as one module.
sources=("$root"/Sources/NiceICECore/*.swift "$here/CandidateFuzzer/main.swift")

mkdir -p "$build" "$work" "$artifacts"
echo "==> compiling $build/candidate-fuzzer"
# The linker's "Cannot export local symbol '__asan_…'" warnings are harmless; hide them.
compile_log="$build/compile.log"
if ! "$swiftc" \
    -swift-version 6 \
    -sanitize=fuzzer,address \
    -parse-as-library \
    -O -g \
    -module-name NiceICEFuzz \
    -package-name swift_nice \
    -module-cache-path "$build/module-cache" \
    "${sources[@]}" \
    -o "$build/candidate-fuzzer" >"$compile_log" 2>&1; then
    grep -v "Cannot export local symbol" "$compile_log" >&2 || true
    echo "==> FAILED: compilation failed" >&2
    exit 1
fi
grep -v "Cannot export local symbol" "$compile_log" >&2 || true

cp -f "$here"/seed/* "$work"/

# Let libFuzzer/ASan report traps themselves; the Swift runtime's backtracer confuses ASan.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

echo "==> fuzzing for ${seconds}s (corpus: $work)"
set +e
"$build/candidate-fuzzer" \
    -max_total_time="$seconds" \
    -max_len=70000 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    "$work"
status=$?
set -e

if [[ $status -ne 0 ]]; then
    echo "==> FAILED: fuzzer exited with status $status; reproducers in $artifacts" >&2
    exit "$status"
fi
echo "==> no crashes in ${seconds}s"
