#!/usr/bin/env bash
# Soak of the dc-peer ↔ headless Chromium pairing (issue 17 §4): Examples/dc-peer --offer against
# Interop/chromium_dc_peer.py --answer (Chromium's WebRTC defaults, mDNS host candidates), wired by
# Interop/webrtc_bridge.py, N times, each side sending --count messages of --size bytes on an
# ordered reliable channel. A run passes when both got everything and both closed cleanly.
#
#   scripts/dc-chromium-soak.sh [-n N] [--load] [--count C] [--size S] [--timeout T] [--loopback]
#                               [--logs DIR] [--keep-all] [--stop-on-fail] [--restart-after M] [--chromium-restart-after M]
#
#   -n N          runs (default 200)
#   --load        2 busy loops (`sh -c 'while :; do :; done'`) for the whole soak, ended by pid
#   --count C     messages each way (default 2000); --size S bytes each (default 1000)
#   --timeout T   the bridge's bound for one run (default 60 s); the whole run is also bounded
#                 by `timeout` (T + 30 s)
#   --loopback    no namespaces: 127.0.0.1 and Chromium's --allow-loopback-in-peer-connection
#   --logs DIR    where failed runs' logs go (default /tmp/dc-chromium-soak-PID)
#   --keep-all    keep the logs of passing runs too
#   --stop-on-fail  stop at the first failure
#   --restart-after M  dc-peer restarts ICE (a new offer with new credentials, W3C restartIce())
#                 once it got M messages; Chromium answers it, and the bridge (--restarts) checks
#                 the second offer/answer round and that no message was lost across it
#   --chromium-restart-after M  the same from Chromium's side (pc.restartIce() and a new offer)
#
# Network: as root, two network namespaces joined by a veth pair, made once for the soak:
# dc-peer in dcs-dc-PID (10.81.0.1), Chromium + chromedriver in dcs-web-PID (10.81.0.2). Nothing
# leaves them. Without root, or with --loopback, everything runs on 127.0.0.1.
#
# A failed run keeps: run-I.log (the bridge's report with both sides' stderr, --verbose: dc-peer's
# SCTP/DTLS counters at close, Chromium's progress lines every second and its `stats` line) and
# run-I.stats.json (Chromium's page counters and getStats at close: data-channel
# messagesSent/Received and bytes, transport, selected pair, SCTP transport state,
# bufferedAmount, ms since the page last got a message). A one-line verdict says which side
# stopped delivering.
#
# Environment: DC_PEER_BIN (a built dc-peer; default: swift build --product dc-peer, debug),
# DC_PEER_LOG_LEVEL (passed on; default info; trace logs every SCTP packet's chunks, which the
# verdict reads to tell a sender that never sent from a receiver that did not deliver), DC_PEER_RECEIVE_LIMIT (passed on: dc-peer's SCTP
# receive budget in bytes; small values exercise the read pause and its wake-up), CHROME_VMODULE (e.g. 'dcsctp*=2': Chromium's log
# into run-I.chrome.log).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. "$ROOT/scripts/browser-netns.sh"

RUNS=200 LOAD=0 COUNT=2000 SIZE=1000 TIMEOUT=60 LOOPBACK=0 KEEP_ALL=0 STOP=0 RESTART_AFTER= CHROMIUM_RESTART_AFTER=
LOGS=/tmp/dc-chromium-soak-$$
while [ $# -gt 0 ]; do
    case "$1" in
        -n) RUNS=$2; shift 2 ;;
        --load) LOAD=1; shift ;;
        --count) COUNT=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --loopback) LOOPBACK=1; shift ;;
        --logs) LOGS=$2; shift 2 ;;
        --keep-all) KEEP_ALL=1; shift ;;
        --stop-on-fail) STOP=1; shift ;;
        --restart-after) RESTART_AFTER=$2; shift 2 ;;
        --chromium-restart-after) CHROMIUM_RESTART_AFTER=$2; shift 2 ;;
        -h|--help) sed -n 2,34p "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$LOGS"
say() { echo "--- $*"; }

# ---- what is needed
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing chromium and chromium-driver (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
fi
BIN=${DC_PEER_BIN:-}
if [ -z "$BIN" ]; then
    say "swift build --product dc-peer"
    swift build --product dc-peer 2>&1 | tail -1
    BIN="$(swift build --show-bin-path)/dc-peer"
fi
[ -x "$BIN" ] || { echo "no dc-peer at $BIN" >&2; exit 2; }
say "$(chromium --version 2>/dev/null | tail -1), $(chromedriver --version | cut -d' ' -f1-2), dc-peer $BIN"

# ---- cleanup: load, namespaces (everything in them was started by this script), by pid
NSDC=dcs-dc-$$ NSWEB=dcs-web-$$ VA=dcsa$$ VB=dcsb$$
made_ns=0
LOAD_PIDS=()
RUN_PID=
pass=0 fail=0 failed_runs=() finished=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$finished" = 0 ] && [ $((pass + fail)) -gt 0 ]; then
        echo "=== dc-chromium soak INTERRUPTED$([ "$LOAD" = 1 ] && echo ' (with CPU load)'): $pass/$((pass + fail)) passed, $fail failed${failed_runs:+ (runs ${failed_runs[*]})}; logs: $LOGS"
    fi
    if [ -n "$RUN_PID" ]; then kill "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" 2>/dev/null || true; fi
    for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${LOAD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$made_ns" = 1 ]; then
        browser_netns_down "$NSDC" "$NSWEB"
    fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

# ---- the network
if [ "$LOOPBACK" != 1 ] && [ "$(id -u)" = 0 ] && ip netns add "$NSDC" 2>/dev/null; then
    made_ns=1
    # Chromium's namespace gets a default route (to dc-peer's, which forwards nothing) and a
    # resolver on its own loopback, so its DNS fails at once (scripts/browser-netns.sh)
    browser_netns_up "$NSDC" "$NSWEB" "$VA" "$VB" 10.81.0
    RUN_DC=(ip netns exec "$NSDC") RUN_WEB=(ip netns exec "$NSWEB")
    BIND=10.81.0.1 WEBFLAGS=""
    say "namespaces $NSDC (dc-peer, 10.81.0.1) and $NSWEB (chromium, 10.81.0.2) over veth; Chromium WebRTC defaults (mDNS on)"
else
    RUN_DC=() RUN_WEB=()
    BIND=127.0.0.1 WEBFLAGS="--loopback"
    say "NOTE: no namespaces: 127.0.0.1 with --allow-loopback-in-peer-connection (mDNS off)"
fi

# ---- load
if [ "$LOAD" = 1 ]; then
    for _ in 1 2; do sh -c 'while :; do :; done' & LOAD_PIDS+=($!); done
    say "CPU load: busy loops ${LOAD_PIDS[*]}"
fi

say "$RUNS runs: dc-peer --offer ↔ chromium --answer, $COUNT × $SIZE B each way, ordered reliable, bridge timeout ${TIMEOUT} s; logs of failures in $LOGS"
started=$(date +%s)
for i in $(seq 1 "$RUNS"); do
    log=$LOGS/run-$i.log stats=$LOGS/run-$i.stats.json
    A="${RUN_DC[*]} env DC_PEER_LOG_LEVEL=${DC_PEER_LOG_LEVEL:-info} ${DC_PEER_RECEIVE_LIMIT:+DC_PEER_RECEIVE_LIMIT=$DC_PEER_RECEIVE_LIMIT} $BIN --offer --bind $BIND --count $COUNT --size $SIZE --name dc-peer${RESTART_AFTER:+ --restart-after $RESTART_AFTER}"
    B="${RUN_WEB[*]} python3 $ROOT/Interop/chromium_dc_peer.py --answer $WEBFLAGS --count $COUNT --size $SIZE --stats-out $stats${CHROMIUM_RESTART_AFTER:+ --restart-after $CHROMIUM_RESTART_AFTER}"
    if [ -n "${CHROME_VMODULE:-}" ]; then B="$B --chrome-log $LOGS/run-$i.chrome.log --chrome-vmodule ${CHROME_VMODULE}"; fi
    t0=$(date +%s.%N)
    set +e
    timeout $((TIMEOUT + 30)) python3 "$ROOT/Interop/webrtc_bridge.py" --a "$A" --b "$B" --timeout "$TIMEOUT" ${RESTART_AFTER:+--restarts}${CHROMIUM_RESTART_AFTER:+ --restarts} \
        --title "soak run $i$([ "$LOAD" = 1 ] && echo ' (load)')" --verbose >"$log" 2>&1 &
    RUN_PID=$!
    wait "$RUN_PID"
    rc=$?
    RUN_PID=
    set -e
    dt=$(echo "$(date +%s.%N) - $t0" | bc)
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1))
        [ "$KEEP_ALL" = 1 ] || rm -f "$log" "$stats" "$LOGS/run-$i.chrome.log"
        printf 'run %3d PASS %5.1f s   (%d/%d passed)\n' "$i" "$dt" "$pass" "$i"
    else
        fail=$((fail + 1)) failed_runs+=("$i")
        [ "$rc" = 124 ] && echo "run $i: the bridge itself took longer than $((TIMEOUT + 30)) s" >>"$log"
        printf 'run %3d FAIL %5.1f s   rc %s   log %s\n' "$i" "$dt" "$rc" "$log"
        python3 - "$log" "$stats" "$COUNT" <<'EOF' || true
import json, re, sys
log, stats, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(log, errors="replace").read()
gots = re.findall(r"got\s+(\d+) messages, (\d+) bytes", text)
fails = [l.strip() for l in text.splitlines() if l.strip().startswith("- ")]
ctr = re.findall(r"counters: SCTP .*", text)
a = int(gots[0][0]) if gots else None
b = int(gots[1][0]) if len(gots) > 1 else None
print(f"    dc-peer got {a}/{count}, chromium got {b}/{count}")
for f in fails: print(f"    {f}")
for c in ctr[-1:]: print(f"    dc-peer {c.strip()}")
for l in [l for l in text.splitlines() if "] progress " in l][-4:]: print(f"    chromium {l.split('] ', 2)[-1]}")
try:
    s = json.load(open(stats))
    p = s["page"]
    print(f"    chromium page: sent {p['sent']} (done {p['sendDone']}), got {p['got']}, bufferedAmount {p['bufferedAmount']}, "
          f"dc {p['dcState']}, sctp {p['sctp']}, ms since its last message {p['msSinceLastGot']}, errors {p['errors']}")
    for x in s["stats"]:
        if x["type"] == "data-channel":
            print(f"    chromium data-channel: messagesSent {x.get('messagesSent')} bytesSent {x.get('bytesSent')} "
                  f"messagesReceived {x.get('messagesReceived')} bytesReceived {x.get('bytesReceived')} state {x.get('state')}")
        if x["type"] == "candidate-pair":
            print(f"    chromium pair: packetsSent {x.get('packetsSent')} packetsReceived {x.get('packetsReceived')} "
                  f"bytesSent {x.get('bytesSent')} bytesReceived {x.get('bytesReceived')} lastPacketReceived {x.get('lastPacketReceivedTimestamp')} "
                  f"lastPacketSent {x.get('lastPacketSentTimestamp')} now {x.get('timestamp')}")
    dc_sent = next((x.get("messagesSent") for x in s["stats"] if x["type"] == "data-channel"), None)
    # With DC_PEER_LOG_LEVEL=trace, dc-peer logs every SCTP packet: the highest SSN Chromium put
    # into a DATA chunk says whether it ever sent the messages dc-peer lacks (SSN 0 is the DCEP OPEN).
    ssns = [int(m) for m in re.findall(r"sctp in: .*?DATA tsn=\d+ sid=\d+ ssn=(\d+)", text)]
    if a is not None and a < count and p["sent"] >= count:
        if (dc_sent is not None and dc_sent < p["sent"] and not p["bufferedAmount"]) or (ssns and max(ssns) < count):
            seen = f"the highest SSN in Chromium's DATA chunks was {max(ssns)}" if ssns else f"Chromium's RTCDataChannel stats count {dc_sent} messages sent"
            print(f"    verdict: Chromium lost messages above its SCTP: the page called send() {p['sent']} times and bufferedAmount is 0, "
                  f"but {seen}; dc-peer delivered every message Chromium's SCTP sent (cf. node-datachannel#188)")
        elif p["bufferedAmount"]:
            print(f"    verdict: Chromium still buffers {p['bufferedAmount']} B it could not send: our window / our SACKs stopped it")
        else:
            print("    verdict: Chromium handed everything to SCTP (bufferedAmount 0) and dc-peer did not deliver it all: "
                  "look at dc-peer's receive side (read pause / wake-up) or the retransmissions")
    if b is not None and b < count:
        print("    verdict: Chromium did not get everything dc-peer sent: look at dc-peer's send side")
except (OSError, ValueError, KeyError) as e:
    print(f"    (no Chromium stats: {e})")
EOF
        [ "$STOP" = 1 ] && break
    fi
done
finished=1
total=$((pass + fail))
echo "=== dc-chromium soak$([ "$LOAD" = 1 ] && echo ' (with CPU load)'): $pass/$total passed, $fail failed${failed_runs:+ (runs ${failed_runs[*]})} in $(( $(date +%s) - started )) s; logs: $LOGS"
[ "$fail" = 0 ]
