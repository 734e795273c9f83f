#!/usr/bin/env bash
# Builds the NiceWebRTC DTLS record-input fuzzer with libFuzzer + AddressSanitizer and runs it.
#
#   Fuzz/dtls-run.sh [seconds]      (default 60)
#
# Compiles the sans-I/O DTLS engine (Sources/NiceWebRTC/Binding/*.swift, over the system's
# OpenSSL 3 through Sources/COpenSSL) and the fuzzer (Fuzz/DtlsFuzzer/*.swift) directly with swiftc
# (no SwiftPM, no libnice) into Fuzz/.build/dtls-fuzzer, copies Fuzz/seed-dtls/ into
# Fuzz/corpus-dtls-work/ and fuzzes for the given time. Exits non-zero if libFuzzer finds a crash,
# leak, timeout or invariant violation; the reproducer is left in Fuzz/.build/artifacts/ (run
# `Fuzz/.build/dtls-fuzzer <file>` to replay one).
#
# The Binding files import NiceWebRTCCore, whose files import NiceICECore, so those two are built
# first as static libraries of their own modules (Sources/NiceWebRTCCore/*.swift instrumented like
# the fuzzer; Sources/NiceICECore/*.swift, which the DTLS path only uses for a few value types,
# with AddressSanitizer but without coverage and optimisation, to keep the build short).
#
# Then every file in Fuzz/dtls-reproducers/ is replayed: inputs that made the fuzzer find a bug
# (kept as regression tests once it is fixed); one that still fails fails the script.
#
# Seeds and reproducers are written by the fuzzer itself (Fuzz/DtlsFuzzer/Seeds.swift):
#   Fuzz/.build/dtls-fuzzer --write-seeds Fuzz/seed-dtls
#   Fuzz/.build/dtls-fuzzer --write-reproducers Fuzz/dtls-reproducers
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
    ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$here/.build"
modules="$build/dtls-modules"
work="$here/corpus-dtls-work"
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
compile_log="$build/dtls-compile.log"
: >"$compile_log"

common=(
    -swift-version 6
    -parse-as-library
    -g
    -enable-upcoming-feature ExistentialAny
    -enable-upcoming-feature MemberImportVisibility
    -package-name swift_nice
    -module-cache-path "$build/dtls-module-cache"
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

compile "NiceICECore (static library)" "${common[@]}" -sanitize=address -Onone \
    -module-name NiceICECore -emit-library -static \
    -emit-module -emit-module-path "$modules/NiceICECore.swiftmodule" \
    "$root"/Sources/NiceICECore/*.swift -o "$modules/libNiceICECore.a"

compile "NiceWebRTCCore (static library)" "${common[@]}" -sanitize=fuzzer,address -O \
    -I "$modules" \
    -module-name NiceWebRTCCore -emit-library -static \
    -emit-module -emit-module-path "$modules/NiceWebRTCCore.swiftmodule" \
    "$root"/Sources/NiceWebRTCCore/*.swift -o "$modules/libNiceWebRTCCore.a"

# The DTLS engine and the fuzzer, as one module (the engine's internal types are visible to it).
# -I Sources/COpenSSL resolves `internal import COpenSSL` through its module map (which links
# libssl and libcrypto; named here too for clarity). The fuzzer defines `gettimeofday` (a virtual
# clock for OpenSSL's retransmission timers, see Harness.swift); exporting it makes libssl bind to it.
# The OpenSSL binding only: Usrsctp.swift (the SCTP funnel) needs NiceICE and usrsctp, not DTLS.
# The SRTP funnel (Srtp*.swift) comes along: the context offers the DTLS-SRTP profiles libsrtp
# supports (-I Sources/CSrtp, whose module map links libsrtp2).
engine=()
for f in "$root"/Sources/NiceWebRTC/Binding/*.swift; do
    case "$(basename "$f")" in Usrsctp*) ;; *) engine+=("$f") ;; esac
done
compile "$build/dtls-fuzzer" "${common[@]}" -sanitize=fuzzer,address -O \
    -I "$modules" -I "$root/Sources/COpenSSL" -I "$root/Sources/CSrtp" \
    -module-name NiceWebRTCDtlsFuzz \
    "${engine[@]}" "$here"/DtlsFuzzer/*.swift \
    -L "$modules" -lNiceWebRTCCore -lNiceICECore -lssl -lcrypto -lsrtp2 \
    -Xlinker --export-dynamic-symbol=gettimeofday \
    -o "$build/dtls-fuzzer"
grep -v "Cannot export local symbol" "$compile_log" >&2 || true

cp -f "$here"/seed-dtls/* "$work"/

# Let libFuzzer/ASan report traps themselves; the Swift runtime's backtracer confuses ASan.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

echo "==> fuzzing for ${seconds}s (corpus: $work)"
set +e
"$build/dtls-fuzzer" \
    -max_total_time="$seconds" \
    -max_len=24576 \
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
for reproducer in "$here"/dtls-reproducers/*; do
    if ! "$build/dtls-fuzzer" "$reproducer" >"$build/dtls-reproducer.log" 2>&1; then
        echo "==> FAILED: reproducer $reproducer still fails:" >&2
        grep -A3 "invariant violated\|ERROR: " "$build/dtls-reproducer.log" | head -8 >&2 || true
        failed_reproducers=$((failed_reproducers + 1))
    fi
done
shopt -u nullglob

if [[ $status -ne 0 ]]; then exit "$status"; fi
if [[ $failed_reproducers -ne 0 ]]; then exit 1; fi
echo "==> no crashes in ${seconds}s"
