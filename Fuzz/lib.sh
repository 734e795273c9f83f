# What the fuzz scripts (run.sh, dc-run.sh, dtls-run.sh, media-run.sh) share. Sourced, not run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   fuzz_setup NAME "$@"        parses [seconds] (default 60) and sets the paths below
#   fuzz_compile WHAT ARGS...   swiftc ARGS (fails the script, showing the log, if it fails)
#   fuzz_compile_ice_core FLAGS...  Sources/NiceICECore as a static library of its own module
#   fuzz_core_sources           every file of Sources/NiceWebRTCCore, subfolders included
#   fuzz_run BINARY MAX_LEN     fuzzes Fuzz/corpus-NAME-work/ for the given time, replays
#                               Fuzz/NAME-reproducers/*, and exits as the script should
#
# After fuzz_setup: seconds, here (Fuzz/), root, build (Fuzz/.build), modules
# (Fuzz/.build/NAME-modules), work (Fuzz/corpus-NAME-work), artifacts (Fuzz/.build/artifacts),
# swiftc, compile_log, common (the swiftc flags every compilation uses; each script adds its
# sanitizers and optimisation), instrumented (-sanitize=fuzzer,address -O) and shared (the
# Swift files every fuzzer compiles in: Fuzz/Shared/*.swift).

# fuzz_setup NAME [seconds]
fuzz_setup() {
    fuzz_name="$1"
    seconds="${2:-60}"
    case "$seconds" in
        ''|*[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
    esac

    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    root="$(cd "$here/.." && pwd)"
    build="$here/.build"
    modules="$build/$fuzz_name-modules"
    work="$here/corpus-$fuzz_name-work"
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
    compile_log="$build/$fuzz_name-compile.log"
    : >"$compile_log"

    common=(
        -swift-version 6
        -parse-as-library
        -g
        -enable-upcoming-feature ExistentialAny
        -enable-upcoming-feature MemberImportVisibility
        -package-name swift_nice
        -module-cache-path "$build/$fuzz_name-module-cache"
    )
    instrumented=(-sanitize=fuzzer,address -O)
    shared=("$here"/Shared/*.swift)
}

# fuzz_compile <what> <swiftc arguments...>: the linker's "Cannot export local symbol '__asan_…'"
# warnings are harmless; hide them.
fuzz_compile() {
    local what="$1"
    shift
    echo "==> compiling $what"
    if ! "$swiftc" "$@" >>"$compile_log" 2>&1; then
        grep -v "Cannot export local symbol" "$compile_log" >&2 || true
        echo "==> FAILED: compilation of $what failed" >&2
        exit 1
    fi
    grep -v "Cannot export local symbol" "$compile_log" >&2 || true
    : >"$compile_log"
}

# fuzz_compile_ice_core <flags...>: Sources/NiceICECore as $modules/libNiceICECore.a with its
# module (the NiceWebRTCCore files `import NiceICECore`).
fuzz_compile_ice_core() {
    fuzz_compile "NiceICECore (static library)" "${common[@]}" "$@" \
        -module-name NiceICECore -emit-library -static \
        -emit-module -emit-module-path "$modules/NiceICECore.swiftmodule" \
        "$root"/Sources/NiceICECore/*.swift -o "$modules/libNiceICECore.a"
}

# fuzz_core_sources: sets core_sources to every file of Sources/NiceWebRTCCore, subfolders
# included (Negotiation/, Rtp/, …), in a stable order.
fuzz_core_sources() {
    mapfile -t core_sources < <(find "$root/Sources/NiceWebRTCCore" -name '*.swift' | LC_ALL=C sort)
}

# fuzz_run <binary> <max_len>: fuzzes $work for $seconds, then replays every file of
# Fuzz/$fuzz_name-reproducers/ (inputs that made the fuzzer find a bug, kept as regression tests
# once it is fixed). Exits non-zero if libFuzzer found a crash, leak, timeout or invariant
# violation (the reproducer is left in $artifacts) or a reproducer still fails.
fuzz_run() {
    local binary="$1" max_len="$2"

    # Let libFuzzer/ASan report traps themselves; the Swift runtime's backtracer confuses ASan.
    export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

    echo "==> fuzzing for ${seconds}s (corpus: $work)"
    local status
    set +e
    "$binary" \
        -max_total_time="$seconds" \
        -max_len="$max_len" \
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

    local failed_reproducers=0 reproducer log="$build/$fuzz_name-reproducer.log"
    shopt -s nullglob
    for reproducer in "$here/$fuzz_name-reproducers"/*; do
        if ! "$binary" "$reproducer" >"$log" 2>&1; then
            echo "==> FAILED: reproducer $reproducer still fails:" >&2
            grep -A3 "invariant violated\|ERROR: " "$log" | head -8 >&2 || true
            failed_reproducers=$((failed_reproducers + 1))
        fi
    done
    shopt -u nullglob

    if [[ $status -ne 0 ]]; then exit "$status"; fi
    if [[ $failed_reproducers -ne 0 ]]; then exit 1; fi
    echo "==> no crashes in ${seconds}s"
}
