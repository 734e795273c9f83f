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

seconds="${1:-60}"
case "$seconds" in
    ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$here/.build"
modules="$build/dc-modules"
work="$here/corpus-dc-work"
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

mkdir -p "$build" "$modules" "$work" "$artifacts"
compile_log="$build/dc-compile.log"
: >"$compile_log"

common=(
    -swift-version 6
    -parse-as-library
    -sanitize=fuzzer,address
    -O -g
    -enable-upcoming-feature ExistentialAny
    -enable-upcoming-feature MemberImportVisibility
    -package-name swift_nice
    -module-cache-path "$build/dc-module-cache"
)

# compile <what> <swiftc arguments...>: the linker's "Cannot export local symbol '__asan_…'"
# warnings are harmless; hide them.
compile() {
    local what="$1"
    shift
    echo "==> compiling $what"
    if ! "$swiftc" "$@" >>"$compile_log" 2>&1; then
        grep -v "Cannot export local symbol" "$compile_log" >&2 || true
        echo "==> FAILED: compilation of $what failed" >&2
        exit 1
    fi
}

compile "NiceICECore (static library)" "${common[@]}" \
    -module-name NiceICECore -emit-library -static \
    -emit-module -emit-module-path "$modules/NiceICECore.swiftmodule" \
    "$root"/Sources/NiceICECore/*.swift -o "$modules/libNiceICECore.a"

# Every file of NiceWebRTCCore, subfolders included (Negotiation/, Negotiation/Media/, …).
mapfile -t core_sources < <(find "$root/Sources/NiceWebRTCCore" -name '*.swift' | sort)

compile "$build/dc-fuzzer" "${common[@]}" \
    -I "$modules" \
    -module-name NiceWebRTCDataChannelFuzz \
    "${core_sources[@]}" "$here"/DataChannelFuzzer/*.swift \
    -L "$modules" -lNiceICECore \
    -o "$build/dc-fuzzer"
grep -v "Cannot export local symbol" "$compile_log" >&2 || true

cp -f "$here"/seed-dc/* "$work"/
cp -f "$here"/seed/sdp-*.sdp "$work"/

# Let libFuzzer/ASan report traps themselves; the Swift runtime's backtracer confuses ASan.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

echo "==> fuzzing for ${seconds}s (corpus: $work)"
set +e
"$build/dc-fuzzer" \
    -max_total_time="$seconds" \
    -max_len=65536 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    "$work"
status=$?
set -e

if [[ $status -ne 0 ]]; then
    echo "==> FAILED: fuzzer exited with status $status; reproducers in $artifacts" >&2
fi

# Known reproducers: each must now pass.
failed_reproducers=0
shopt -s nullglob
for reproducer in "$here"/dc-reproducers/*; do
    if ! "$build/dc-fuzzer" "$reproducer" >"$build/dc-reproducer.log" 2>&1; then
        echo "==> FAILED: reproducer $reproducer still fails:" >&2
        grep -A3 "invariant violated\|ERROR: " "$build/dc-reproducer.log" | head -8 >&2 || true
        failed_reproducers=$((failed_reproducers + 1))
    fi
done
shopt -u nullglob

if [[ $status -ne 0 ]]; then exit "$status"; fi
if [[ $failed_reproducers -ne 0 ]]; then exit 1; fi
echo "==> no crashes in ${seconds}s"
