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
# first as static libraries of their own modules (every file of Sources/NiceWebRTCCore, subfolders
# included, instrumented like the fuzzer; Sources/NiceICECore/*.swift, which the DTLS path only uses for a few value types,
# with AddressSanitizer but without coverage and optimisation, to keep the build short).
#
# Then every file in Fuzz/dtls-reproducers/ is replayed: inputs that made the fuzzer find a bug
# (kept as regression tests once it is fixed); one that still fails fails the script.
#
# Seeds and reproducers are written by the fuzzer itself (Fuzz/DtlsFuzzer/Seeds.swift):
#   Fuzz/.build/dtls-fuzzer --write-seeds Fuzz/seed-dtls
#   Fuzz/.build/dtls-fuzzer --write-reproducers Fuzz/dtls-reproducers
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fuzz_setup dtls "$@"

fuzz_compile_ice_core -sanitize=address -Onone
fuzz_core_sources
fuzz_compile "NiceWebRTCCore (static library)" "${common[@]}" "${instrumented[@]}" \
    -I "$modules" \
    -module-name NiceWebRTCCore -emit-library -static \
    -emit-module -emit-module-path "$modules/NiceWebRTCCore.swiftmodule" \
    "${core_sources[@]}" -o "$modules/libNiceWebRTCCore.a"

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
fuzz_compile "$build/dtls-fuzzer" "${common[@]}" "${instrumented[@]}" \
    -I "$modules" -I "$root/Sources/COpenSSL" -I "$root/Sources/CSrtp" \
    -module-name NiceWebRTCDtlsFuzz \
    "${engine[@]}" "$here"/DtlsFuzzer/*.swift "${shared[@]}" \
    -L "$modules" -lNiceWebRTCCore -lNiceICECore -lssl -lcrypto -lsrtp2 \
    -Xlinker --export-dynamic-symbol=gettimeofday \
    -o "$build/dtls-fuzzer"

cp -f "$here"/seed-dtls/* "$work"/
fuzz_run "$build/dtls-fuzzer" 24576
