#!/usr/bin/env bash
# NiceICE performance harness (issue 5): builds the plain-C libnice reference and the Swift
# benchmarks (release), runs C and Swift for each figure one after the other, and prints one table.
# The DTLS figures (NiceWebRTC) compare with aiortc ↔ aiortc (handshake) and with plain ICE in the
# same run (throughput, memory) instead of C.
#
#   scripts/bench.sh            full run (20 connects, 200,000 datagrams, N = 500 and the largest N
#                               the fd limit allows, 10,000 churn cycles, 20 DTLS handshakes,
#                               1,000 DTLS connections; about 13 minutes on 2 cores; the media
#                               figures add about 4: forwarding to N = 10…300 for 10 s each,
#                               1,000 media connections)
#   scripts/bench.sh --quick    smoke run for CI (3 runs, 2,000 datagrams, N = 20, 100 cycles,
#                               3 DTLS handshakes, 20 DTLS connections; media: 3 SRTP runs,
#                               forwarding to N = 2 and 5 for 2 s each, 20 media connections)
#
# Sizes can be overridden with CONNECT_RUNS, TP_COUNT, TP_RUNS, EVENT_RUNS, SCALE_NS, CHURN_CYCLES,
# and for the DTLS figures (NiceWebRTC) DTLS_RUNS (handshakes; aiortc's too unless AIORTC_RUNS is
# set) and DTLS_CONNS (connections for the RSS figure, at most 2 per pair the fd limit allows);
# the DTLS throughput figure uses TP_COUNT and TP_RUNS. FIGURES picks the figures (default all:
# "connect throughput event scale churn dtls dc dcrtt media"), e.g. FIGURES=dtls for the DTLS ones alone, FIGURES=dc
# for the data-channel ones (DC_RUNS channel opens, DC_COUNT messages per size, DC_CONNS connections;
# the reference is aiortc <-> aiortc from Interop/aiortc_dc_bench.py in the same venv), FIGURES=media
# for the media ones (SRTP_RUNS batches of SRTP_BATCH packets for SRTP vs DTLS per packet, again
# with SRTP_BUSY other connections' SRTP sessions alive;
# FORWARD_NS receivers, FORWARD_SECONDS of stream each, for forwarding; MEDIA_CONNS connections
# and MEDIA_FILL video packets per sender for RSS with audio and video), FIGURES=dcrtt for throughput
# through a delaying relay (DCRTT_SECONDS measured per point after a 2-s warm-up, at each of
# DCRTT_RTTS round-trip times in ms, without loss and with 1 % loss).
# Needs swift, gcc, pkg-config, libnice-dev, libssl-dev; the aiortc reference needs python3 with
# venv: it installs aiortc 1.16.0 from PyPI into Benchmarks/.venv (AIORTC_VENV overrides the path)
# when that is missing, and is skipped, with a message, when pip cannot. No timing assertions:
# exits non-zero only when a build fails or a benchmark program crashes, fails or times out.
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
  : "${DTLS_RUNS:=3}" "${DTLS_CONNS:=20}"
  : "${DC_RUNS:=3}" "${DC_COUNT:=2000}" "${DC_CONNS:=20}" "${DCRTT_SECONDS:=2}" "${DCRTT_RTTS:=20}"
  : "${SRTP_RUNS:=3}" "${SRTP_BATCH:=500}" "${SRTP_BUSY:=50}" "${FORWARD_NS:=2 5}" "${FORWARD_SECONDS:=2}" "${MEDIA_CONNS:=20}" "${MEDIA_FILL:=20}"
else
  : "${CONNECT_RUNS:=20}" "${TP_COUNT:=200000}" "${TP_RUNS:=5}" "${EVENT_RUNS:=200}" "${SCALE_NS:=500 $nmax}" "${CHURN_CYCLES:=10000}"
  : "${DTLS_RUNS:=20}" "${DTLS_CONNS:=1000}"
  : "${DC_RUNS:=20}" "${DC_COUNT:=20000}" "${DC_CONNS:=1000}" "${DCRTT_SECONDS:=10}" "${DCRTT_RTTS:=20 50 100}"
  : "${SRTP_RUNS:=20}" "${SRTP_BATCH:=2000}" "${SRTP_BUSY:=1000}" "${FORWARD_NS:=10 50 100 200 300}" "${FORWARD_SECONDS:=10}" "${MEDIA_CONNS:=1000}" "${MEDIA_FILL:=512}"
fi
: "${AIORTC_RUNS:=$DTLS_RUNS}" "${FIGURES:=connect throughput event scale churn dtls dc dcrtt media}"
: "${AIORTC_VENV:=$root/Benchmarks/.venv}"
# the RSS figure's connections come in pairs, 4 fds each
if [ "$DTLS_CONNS" -gt $((2 * nmax)) ]; then
  echo "DTLS_CONNS=$DTLS_CONNS needs more fds than the limit ($hard) allows: using $((2 * nmax))" >&2
  DTLS_CONNS=$((2 * nmax))
fi
want() { case " $FIGURES " in *" $1 "*) return 0 ;; esac; return 1; }

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
if want connect; then
  run c-connect $((CONNECT_RUNS * 3 + 60)) "" "$cbin" connect "$CONNECT_RUNS"
  run swift-connect $((CONNECT_RUNS * 3 + 60)) "" "$sbin" connect "$CONNECT_RUNS"
fi
# 2. throughput (C libnice, plain UDP ceiling, Swift handler / unpaced / stream)
tp_secs=$((TP_RUNS * 3 * (TP_COUNT / 10000 + 15) + 60))
if want throughput; then
  run c-throughput "$tp_secs" "" "$cbin" throughput "$TP_COUNT" 1200 "$TP_RUNS"
  run c-udp "$tp_secs" "" "$cbin" udp "$TP_COUNT" 1200 "$TP_RUNS"
  run swift-throughput "$tp_secs" "" "$sbin" throughput "$TP_COUNT" 1200 "$TP_RUNS"
fi
# 3. event latency (Swift only: in C the handler is the signal): IceStateChange.producedAt (SPI,
#    stamped in the component-state-changed handler) → the stateUpdateHandler on its queue
if want event; then
  run swift-event $((EVENT_RUNS * 3 + 60)) "" "$sbin" event "$EVENT_RUNS"
fi
# 4. scale: C, Swift on one NiceContext, Swift on a NiceContextGroup (one context per core, round-robin)
if want scale; then
  for n in $SCALE_NS; do
    secs=$((n / 10 + 180))
    run "c-scale-$n" "$secs" "N$n/" "$cbin" scale "$n"
    run "swift-scale-$n" "$secs" "N$n/" "$sbin" scale "$n" 1
    run "swift-scale-pool-$n" "$secs" "N$n/" "$sbin" scale "$n" 0
  done
fi
# 5. churn: measures memory/threads/fds, not time, and is mostly idle (each cycle waits on
# libnice's ~62 ms of nomination timers), so C and Swift run side by side to halve the wall time.
if want churn; then
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
fi

# aiortc: Benchmarks/.venv (or AIORTC_VENV) with aiortc 1.16.0, made here when missing; sets
# aiortc_py, and skip_why when it cannot be had (then the aiortc figures are skipped, not failed).
aiortc_setup() {
  aiortc_py="$AIORTC_VENV/bin/python"
  aiortc_ok() { "$aiortc_py" -c 'import sys, aiortc; sys.exit(aiortc.__version__ != "1.16.0")' 2>/dev/null; }
  skip_why=""
  if ! aiortc_ok; then
    echo "== setting up $AIORTC_VENV (pip install aiortc==1.16.0, at most 300 s; log: $results/aiortc-venv.log)" >&2
    if ! python3 -m venv "$AIORTC_VENV" >"$results/aiortc-venv.log" 2>&1; then
      skip_why="python3 -m venv failed"
    elif ! timeout -k 10 300 "$aiortc_py" -m pip install --disable-pip-version-check -q aiortc==1.16.0 >>"$results/aiortc-venv.log" 2>&1; then
      skip_why="pip could not install aiortc==1.16.0"
    elif ! aiortc_ok; then
      skip_why="aiortc 1.16.0 does not import"
    fi
  fi
}

# 6.–8. DTLS (NiceWebRTC): handshake (and aiortc ↔ aiortc's, the reference), throughput next to
# plain ICE on an identical pair in the same process, RSS per connection next to plain ICE.
if want dtls; then
  run swift-dtls-handshake $((DTLS_RUNS * 3 + 60)) "" "$sbin" dtls-handshake "$DTLS_RUNS"
  aiortc_setup
  if [ -z "$skip_why" ]; then
    run aiortc-dtls-handshake $((AIORTC_RUNS * 5 + 60)) "" "$aiortc_py" "$root/Benchmarks/aiortc_handshake.py" "$AIORTC_RUNS"
  else
    echo "-- skipping aiortc_dtls_handshake: $skip_why (see $results/aiortc-venv.log); not a failure" >&2
    printf '{"bench":"aiortc_dtls_handshake","impl":"aiortc","skipped":"%s"}\n' "$skip_why" >>"$jsonl"
  fi
  # plain ICE and DTLS pairs in one process, runs interleaved
  run swift-dtls-throughput $((2 * tp_secs)) "" "$sbin" dtls-throughput "$TP_COUNT" 1200 "$TP_RUNS"
  # RSS: one process each (plain ICE first, for comparison), all connections up at once
  rss_secs=$((DTLS_CONNS / 20 + 180))
  run swift-ice-rss "$rss_secs" "" "$sbin" dtls-rss "$DTLS_CONNS" ice
  run swift-dtls-rss "$rss_secs" "" "$sbin" dtls-rss "$DTLS_CONNS" dtls
fi

# 12. Throughput at a round-trip time: one reliable channel, 64 KiB messages, through a userspace
# relay holding each datagram RTT/2 (no netem here), no loss then 1 % loss.
if want dcrtt; then
  run swift-dc-rtt $(( (DCRTT_SECONDS + 20) * 2 * $(echo $DCRTT_RTTS | wc -w) + 60 )) "" "$sbin" dc-rtt "$DCRTT_SECONDS" $DCRTT_RTTS
fi

# 9.–11. Data channels (NiceWebRTC SctpTransport): ICE connected → channel open, throughput on one
# reliable ordered channel (1 KiB and 64 KiB) next to raw ICE in the same process, RSS per connection
# with one open channel; aiortc <-> aiortc (Interop/aiortc_dc_bench.py) is the reference.
if want dc; then
  run swift-dc-open $((DC_RUNS * 3 + 60)) "" "$sbin" dc-open "$DC_RUNS"
  run swift-dc-throughput $((DC_COUNT / 100 + 120)) "" "$sbin" dc-throughput "$DC_COUNT" "$([ "$quick" = 1 ] && echo 1 || echo 3)"
  run swift-dc-rss $((DC_CONNS / 20 + 180)) "" "$sbin" dc-rss "$DC_CONNS"
  aiortc_setup
  if [ -z "$skip_why" ]; then
    quickflag=""
    [ "$quick" = 1 ] && quickflag="--quick"
    if timeout -k 10 180 "$aiortc_py" "$root/Interop/aiortc_dc_bench.py" --runs "$DC_RUNS" $quickflag \
        >"$results/aiortc-dc.log" 2>"$results/aiortc-dc.err"; then
      # its last line is one JSON object: turn it into the summary lines the report reads
      tail -n 1 "$results/aiortc-dc.log" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
def line(bench, v, unit):
    print(json.dumps({"bench": bench, "impl": "aiortc", "summary": True, "median": v, "p10": v, "p90": v, "n": 1, "unit": unit}))
s = r["setup"]["offerer_ice_to_open_ms"]
print(json.dumps({"bench": "dc_open", "impl": "aiortc", "summary": True, "median": s["p50"], "p10": s["min"], "p90": s["max"], "n": s["n"], "unit": "ms"}))
for t in r["throughput"]:
    line("dc_throughput-%d" % t["size"], t["msg_per_s"], "msg/s")
    line("dc_throughput-%d-mbps" % t["size"], t["MB_per_s"], "MB/s")
' >>"$jsonl"
      grep '^aiortc' "$results/aiortc-dc.log" >&2
    else
      echo "!! aiortc_dc_bench.py failed (see $results/aiortc-dc.err)" >&2
      failed=1
    fi
  else
    printf '{"bench":"dc_open","impl":"aiortc","skipped":"%s"}\n' "$skip_why" >>"$jsonl"
  fi
fi

# 12.–14. Media (NiceWebRTC PeerConnections with SRTP): SRTP protect + unprotect per packet next
# to a DTLS record of the same size (the library's own sessions, in memory, one thread); one
# 1.5 Mbit/s VP8-like stream forwarded to N receivers in this process over loopback (loss per
# receiver, CPU per forwarded packet, largest N with < 1 % loss); RSS per connection with one
# audio and one video transceiver. All in one process each; no reference implementation.
if want media; then
  run swift-srtp-cost $((SRTP_RUNS * 5 + 60)) "" "$sbin" srtp-cost "$SRTP_RUNS" "$SRTP_BATCH" 1200 "$SRTP_BUSY"
  fwd_max=0 fwd_count=0
  for n in $FORWARD_NS; do fwd_count=$((fwd_count + 1)); [ "$n" -gt "$fwd_max" ] && fwd_max=$n; done
  # shellcheck disable=SC2086  # FORWARD_NS is a list
  run swift-forward $(((FORWARD_SECONDS + 15) * fwd_count + fwd_max + 180)) "" "$sbin" forward "$FORWARD_SECONDS" $FORWARD_NS
  media_conns=$MEDIA_CONNS
  if [ "$media_conns" -gt $((2 * nmax)) ]; then
    echo "MEDIA_CONNS=$media_conns needs more fds than the limit ($hard) allows: using $((2 * nmax))" >&2
    media_conns=$((2 * nmax))
  fi
  run swift-media-rss $((media_conns / 5 + MEDIA_FILL / 2 + 240)) "" "$sbin" media-rss "$media_conns" "$MEDIA_FILL"
fi

mode=full
[ "$quick" = 1 ] && mode="quick (smoke run: sizes too small for the figures to mean anything)"
{
  echo "NiceICE benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr), mode: $mode"
  echo "figures: $FIGURES"
  echo "connect runs=$CONNECT_RUNS; throughput ${TP_COUNT} x 1200 B, runs=$TP_RUNS; event runs=$EVENT_RUNS; scale N=$SCALE_NS; churn cycles=$CHURN_CYCLES"
  echo "DTLS handshake runs=$DTLS_RUNS (aiortc: $AIORTC_RUNS); DTLS throughput ${TP_COUNT} x 1200 B, runs=$TP_RUNS; DTLS RSS connections=$DTLS_CONNS"
  echo "data channels: open runs=$DC_RUNS; throughput $DC_COUNT x 1 KiB and $((DC_COUNT / 16)) x 64 KiB; RSS connections=$DC_CONNS"
  echo "media: SRTP runs=$SRTP_RUNS x $SRTP_BATCH packets (and with $SRTP_BUSY connections' sessions alive); forwarding N=$FORWARD_NS, ${FORWARD_SECONDS} s each; RSS connections=$MEDIA_CONNS, history fill $MEDIA_FILL"
  echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
  echo
  "$sbin" report "$jsonl"
} | tee "$results/table.md"

if [ "$failed" != 0 ]; then
  echo "!! at least one benchmark program crashed, failed or timed out (see above)" >&2
  exit 1
fi
exit 0
