#!/usr/bin/env bash
# Runs the loopback demo under valgrind's leak checker and fails on any definite or indirect leak.
# ("possibly lost" blocks are thread-local storage of Dispatch worker threads still alive at exit
# and Swift runtime metadata caches, not NiceICE allocations.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
swift build --product LoopbackDemo
log=$(mktemp)
timeout 300 valgrind --leak-check=full --num-callers=40 --error-exitcode=0 .build/debug/LoopbackDemo 2> "$log"
grep -E "definitely lost|indirectly lost|possibly lost|still reachable" "$log"
if grep -qE "(definitely|indirectly) lost: [1-9]" "$log"; then
    echo "FAIL: valgrind found a definite leak (full report: $log)" >&2
    exit 1
fi
echo "valgrind: no definite or indirect leak"
rm -f "$log"

# The send race libnice 0.1.21 has on TCP sockets would corrupt the heap: 4 threads send on an
# ICE-TCP pair for 10 s under memcheck, with GLib's slice allocator off so every block is checked.
log=$(mktemp)
if ! G_SLICE=always-malloc timeout 600 valgrind --error-exitcode=9 --num-callers=40 .build/debug/LoopbackDemo --tcp-stress 10 2> "$log"; then
    grep -E "Invalid|uninitialised|ERROR SUMMARY|stress" "$log" | head -40 >&2
    echo "FAIL: the ICE-TCP send stress under valgrind reported errors or failed (full report: $log)" >&2
    exit 1
fi
grep -E "ERROR SUMMARY" "$log"
echo "valgrind: ICE-TCP send stress, no memory error"
rm -f "$log"
