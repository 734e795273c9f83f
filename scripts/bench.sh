#!/usr/bin/env bash
# NiceICE performance harness (issue 5): builds the plain-C libnice reference and the Swift
# benchmarks (release), runs C and Swift for each figure one after the other, and prints one table.
#
#   scripts/bench.sh            full run (20 connects, 200,000 datagrams, N = 500 and the largest N
#                               the fd limit allows, 10,000 churn cycles; about 12 minutes on 2 cores)
#   scripts/bench.sh --quick    smoke run for CI (3 runs, 2,000 datagrams, N = 20, 100 cycles)
#
# Sizes can be overridden with CONNECT_RUNS, TP_COUNT, TP_RUNS, EVENT_RUNS, SCALE_NS, CHURN_CYCLES.
# Installs nothing (needs swift, gcc, pkg-config, libnice-dev). No timing assertions: exits
# non-zero only when a build fails or a benchmark program crashes, fails or times out.
# Raw JSON lines and each program's stderr go to Benchmarks/.build/results/.
set -u

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 64 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
results="$root/Benchmarks/.build/results"
mkdir -p "$results"
jsonl="$results/results.jsonl"
: > "$jsonl"
cbin="$results/nice-bench"
sbin="$root/Benchmarks/.build/release/NiceBench"

hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then hard=1048576; fi
ulimit -n "$hard" 2>/dev/null || true
# 4 fds per pair (2 per agent: UDP socket + GCancellable eventfd), some headroom; at most 5,000.
nmax=$(( (hard - 64) / 4 / 10 * 10 ))
if [ "$nmax" -gt 5000 ]; then nmax=5000; fi

if [ "$quick" = 1 ]; then
  : "${CONNECT_RUNS:=3}" "${TP_COUNT:=2000}" "${TP_RUNS:=3}" "${EVENT_RUNS:=3}" "${SCALE_NS:=20}" "${CHURN_CYCLES:=100}"
else
  : "${CONNECT_RUNS:=20}" "${TP_COUNT:=200000}" "${TP_RUNS:=5}" "${EVENT_RUNS:=200}" "${SCALE_NS:=500 $nmax}" "${CHURN_CYCLES:=10000}"
fi

echo "== building" >&2
"$root/Benchmarks/c-reference/build.sh" "$cbin" || { echo "C reference build failed" >&2; exit 1; }
swift build -c release --package-path "$root/Benchmarks" 2>&1 | grep -v "prohibited flag" >&2
if [ "${PIPESTATUS[0]}" -ne 0 ] || [ ! -x "$sbin" ]; then echo "swift build failed" >&2; exit 1; fi

failed=0
# run NAME TIMEOUT_S PREFIX PROGRAM ARGS... : stdout JSON -> results (bench names prefixed), stderr -> NAME.log
run() {
  local name=$1 secs=$2 prefix=$3
  shift 3
  echo "== $name: $*  (timeout ${secs}s)" >&2
  timeout -k 10 "$secs" "$@" 2>"$results/$name.log" | sed "s|\"bench\":\"|\"bench\":\"$prefix|" >>"$jsonl"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    failed=1
    case $rc in
      124|137) echo "!! $name TIMED OUT after ${secs}s (log: $results/$name.log)" >&2 ;;
      *) echo "!! $name exited with status $rc (log: $results/$name.log)" >&2 ;;
    esac
    tail -5 "$results/$name.log" >&2
  fi
  return 0
}

# 1. connect
run c-connect $((CONNECT_RUNS * 3 + 60)) "" "$cbin" connect "$CONNECT_RUNS"
run swift-connect $((CONNECT_RUNS * 3 + 60)) "" "$sbin" connect "$CONNECT_RUNS"
# 2. throughput (C libnice, plain UDP ceiling, Swift handler / unpaced / stream)
tp_secs=$((TP_RUNS * 3 * (TP_COUNT / 10000 + 15) + 60))
run c-throughput "$tp_secs" "" "$cbin" throughput "$TP_COUNT" 1200 "$TP_RUNS"
run c-udp "$tp_secs" "" "$cbin" udp "$TP_COUNT" 1200 "$TP_RUNS"
run swift-throughput "$tp_secs" "" "$sbin" throughput "$TP_COUNT" 1200 "$TP_RUNS"
# 3. event latency (Swift only: in C the handler is the signal): IceStateChange.producedAt (SPI,
#    stamped in the component-state-changed handler) → the stateUpdateHandler on its queue
run swift-event $((EVENT_RUNS * 3 + 60)) "" "$sbin" event "$EVENT_RUNS"
# 4. scale: C, Swift on one NiceContext, Swift on a NiceContextGroup (one context per core, round-robin)
for n in $SCALE_NS; do
  secs=$((n / 10 + 180))
  run "c-scale-$n" "$secs" "N$n/" "$cbin" scale "$n"
  run "swift-scale-$n" "$secs" "N$n/" "$sbin" scale "$n" 1
  run "swift-scale-pool-$n" "$secs" "N$n/" "$sbin" scale "$n" 0
done
# 5. churn: measures memory/threads/fds, not time, and is mostly idle (each cycle waits on
# libnice's ~62 ms of nomination timers), so C and Swift run side by side to halve the wall time.
churn_secs=$((CHURN_CYCLES / 2 + 120))
run c-churn "$churn_secs" "" "$cbin" churn "$CHURN_CYCLES" &
cpid=$!
run swift-churn "$churn_secs" "" "$sbin" churn "$CHURN_CYCLES"
wait "$cpid"
# the background run's `failed` is lost in its subshell: check its log for the outcome instead
if ! grep -q '"bench":"churn-fds","impl":"c","summary"' "$jsonl"; then
  failed=1
  echo "!! c-churn produced no result (log: $results/c-churn.log)" >&2
fi

# The C program logs its thread and fd counts after cycle 10 and at the end: turn them into the
# same cycle-10 → end figures the Swift program prints (GLib's one-time gmain thread excluded).
awk '
  /churn: after cycle/ { for (i = 1; i <= NF; i++) { if ($i ~ /^threads=/) { sub("threads=", "", $i); t10 = $i } if ($i ~ /^fds=/) { sub("fds=", "", $i); f10 = $i } } }
  /churn: rss@10=/ { for (i = 1; i <= NF; i++) { if ($i == "threads") { split($(i+1), a, "->"); tend = a[2] } if ($i == "fds") { split($(i+1), b, "->"); fend = b[2] } } }
  END { if (t10 != "" && tend != "") {
          printf "{\"bench\":\"churn-threads-steady\",\"impl\":\"c\",\"summary\":true,\"median\":%d,\"p10\":%d,\"p90\":%d,\"n\":1,\"unit\":\"threads\"}\n", tend - t10, tend - t10, tend - t10
          printf "{\"bench\":\"churn-fds-steady\",\"impl\":\"c\",\"summary\":true,\"median\":%d,\"p10\":%d,\"p90\":%d,\"n\":1,\"unit\":\"fds\"}\n", fend - f10, fend - f10, fend - f10 } }
' "$results/c-churn.log" >>"$jsonl"

mode=full
[ "$quick" = 1 ] && mode="quick (smoke run: sizes too small for the figures to mean anything)"
{
  echo "NiceICE benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr), mode: $mode"
  echo "connect runs=$CONNECT_RUNS; throughput ${TP_COUNT} x 1200 B, runs=$TP_RUNS; event runs=$EVENT_RUNS; scale N=$SCALE_NS; churn cycles=$CHURN_CYCLES"
  echo
  "$sbin" report "$jsonl"
} | tee "$results/table.md"

if [ "$failed" != 0 ]; then
  echo "!! at least one benchmark program crashed, failed or timed out (see above)" >&2
  exit 1
fi
exit 0
