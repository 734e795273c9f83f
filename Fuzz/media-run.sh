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

seconds="${1:-60}"
case "$seconds" in
    ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$here/.build"
modules="$build/media-modules"
work="$here/corpus-media-work"
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
compile_log="$build/media-compile.log"
: >"$compile_log"

common=(
    -swift-version 6
    -parse-as-library
    -sanitize=fuzzer,address
    -O -g
    -enable-upcoming-feature ExistentialAny
    -enable-upcoming-feature MemberImportVisibility
    -package-name swift_nice
    -module-cache-path "$build/media-module-cache"
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

core_sources=()
while IFS= read -r -d '' file; do core_sources+=("$file"); done \
    < <(find "$root/Sources/NiceWebRTCCore" -name '*.swift' -print0 | sort -z)

compile "$build/media-fuzzer" "${common[@]}" \
    -I "$modules" \
    -module-name NiceWebRTCMediaFuzz \
    "${core_sources[@]}" "$here"/MediaFuzzer/*.swift \
    -L "$modules" -lNiceICECore \
    -o "$build/media-fuzzer"
grep -v "Cannot export local symbol" "$compile_log" >&2 || true

cp -f "$here"/seed-media/* "$work"/

# Let libFuzzer/ASan report traps themselves; the Swift runtime's backtracer confuses ASan.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

echo "==> fuzzing for ${seconds}s (corpus: $work)"
set +e
"$build/media-fuzzer" \
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
for reproducer in "$here"/media-reproducers/*; do
    if ! "$build/media-fuzzer" "$reproducer" >"$build/media-reproducer.log" 2>&1; then
        echo "==> FAILED: reproducer $reproducer still fails:" >&2
        grep -A3 "invariant violated\|ERROR: " "$build/media-reproducer.log" | head -8 >&2 || true
        failed_reproducers=$((failed_reproducers + 1))
    fi
done
shopt -u nullglob

if [[ $status -ne 0 ]]; then exit "$status"; fi
if [[ $failed_reproducers -ne 0 ]]; then exit 1; fi
echo "==> no crashes in ${seconds}s"
