#!/usr/bin/env bash
# Interop with Firefox (issue 17 §7): Examples/dc-peer --offer (our stack: a=setup:actpass, so our
# DTLS is the server and receives Firefox's ClientHello) against Interop/firefox_dc_peer.py
# --answer (headless `firefox-esr`, WebRTC defaults, mDNS host candidates), wired by
# Interop/webrtc_bridge.py, N times, COUNT × SIZE bytes each way on an ordered reliable channel.
# Each run captures the DTLS handshake on the veth between the two (tcpdump, filter: UDP between
# the two namespace addresses only) and Interop/dtls_hello.py reports from it: the ClientHello's
# supported_versions (DTLS 1.3 = 0xFEFC offered?), its key_share groups (X25519MLKEM768 =
# 0x11EC?), how many records/datagrams it spanned, and the ServerHello's version and cipher; the
# cipher dc-peer logged is printed next to it.
#
#   scripts/dc-firefox-interop.sh [-n N] [--count C] [--size S] [--timeout T] [--logs DIR]
#                                 [--keep-all] [--stop-on-fail] [--any-hello] [--pref NAME=JSON]…
#
#   -n N          runs (default 5)
#   --count C     messages each way (default 200); --size S bytes each (default 1000)
#   --timeout T   the bridge's bound for one run (default 60 s); timeout(1) adds 30 s
#   --logs DIR    logs and captures (default /tmp/dc-firefox-interop-PID); a failed run keeps
#                 run-I.log (bridge report, both sides' stderr), run-I.pcap and run-I.hello.json
#   --keep-all    keep the logs and captures of passing runs too (run 1's are always kept)
#   --stop-on-fail  stop at the first failure
#   --any-hello   do not require the ClientHello below (offering DTLS 1.3 and X25519MLKEM768, in
#                 more than one record): for older browsers, or with --pref
#   --pref NAME=JSON  an extra Firefox pref for every run, e.g.
#                 --pref media.peerconnection.dtls.version.max=771 (cap Firefox at DTLS 1.2)
#
# A run passes when the bridge passes (both sides connected and open, each got all COUNT
# messages and bytes, both closed and exited 0), the capture holds a complete ClientHello from
# Firefox and our ServerHello, that ClientHello offers DTLS 1.3 (0xFEFC in supported_versions)
# and an X25519MLKEM768 key share (0x11EC) and came in more than one record (unless
# --any-hello), and our ServerHello says DTLS 1.2 (0xFEFD, no supported_versions extension): what
# OpenSSL 3.0 can speak, whatever Firefox offered.
#
# Network (root required: namespaces and the capture): two network namespaces joined by a veth
# pair, made once: dc-peer in dcf-dc-PID (10.83.0.1), Firefox and its page server in dcf-web-PID
# (10.83.0.2, the page on that namespace's 127.0.0.1). Firefox gathers host candidates only on
# its default route's interface (no camera/microphone permission), so its namespace gets a
# default route to dc-peer's, which forwards nothing: nothing leaves the pair. Firefox's profile
# (fresh per run) turns off telemetry, updates, captive portal, safe browsing, remote settings,
# prefetch, DoH and the rest (see PREFS in Interop/firefox_dc_peer.py); its DNS goes to a
# resolver on its own loopback where nothing listens.
#
# Environment: DC_PEER_BIN (a built dc-peer; default: swift build --product dc-peer, debug),
# DC_PEER_LOG_LEVEL (default info).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=5 COUNT=200 SIZE=1000 TIMEOUT=60 KEEP_ALL=0 STOP=0 ANY_HELLO=0 PREFS=()
LOGS=/tmp/dc-firefox-interop-$$
while [ $# -gt 0 ]; do
    case "$1" in
        -n) RUNS=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --logs) LOGS=$2; shift 2 ;;
        --keep-all) KEEP_ALL=1; shift ;;
        --stop-on-fail) STOP=1; shift ;;
        --any-hello) ANY_HELLO=1; shift ;;
        --pref) PREFS+=("--pref $2"); shift 2 ;;
        -h|--help) sed -n 2,44p "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
say() { echo "--- $*"; }
[ "$(id -u)" = 0 ] || { echo "root required (network namespaces, packet capture)" >&2; exit 2; }
mkdir -p "$LOGS"

# ---- what is needed
need=()
command -v firefox-esr >/dev/null || need+=(firefox-esr)
command -v tcpdump >/dev/null || need+=(tcpdump)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
BIN=${DC_PEER_BIN:-}
if [ -z "$BIN" ]; then
    say "swift build --product dc-peer"
    swift build --product dc-peer 2>&1 | tail -1
    BIN="$(swift build --product dc-peer --show-bin-path)/dc-peer"
fi
[ -x "$BIN" ] || { echo "no dc-peer at $BIN" >&2; exit 2; }
say "$(firefox-esr --version 2>/dev/null), $(tcpdump --version 2>&1 | head -1), dc-peer $BIN"

# ---- cleanup: the capture, the run, the namespaces (everything in them was started here), by pid
NSDC=dcf-dc-$$ NSWEB=dcf-web-$$ VA=dcfa$$ VB=dcfb$$
ADC=10.83.0.1 AWEB=10.83.0.2
made_ns=0 RUN_PID= CAP_PID= OTHER_PID=
pass=0 fail=0 failed_runs=() finished=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$finished" = 0 ] && [ $((pass + fail)) -gt 0 ]; then
        echo "=== dc-firefox interop INTERRUPTED: $pass/$((pass + fail)) passed; logs: $LOGS"
    fi
    if [ -n "$RUN_PID" ]; then kill "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" 2>/dev/null || true; fi
    for p in $CAP_PID $OTHER_PID; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ "$made_ns" = 1 ]; then
        for ns in "$NSWEB" "$NSDC"; do
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        done
        ip netns del "$NSWEB" 2>/dev/null || true
        ip netns del "$NSDC" 2>/dev/null || true
        rm -rf "/etc/netns/$NSWEB"
    fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

# ---- the network
ip netns add "$NSDC"
made_ns=1
ip netns add "$NSWEB"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$NSDC"
ip link set "$VB" netns "$NSWEB"
ip -n "$NSDC" addr add "$ADC/24" dev "$VA"
ip -n "$NSWEB" addr add "$AWEB/24" dev "$VB"
for ns in "$NSDC" "$NSWEB"; do ip -n "$ns" link set lo up; done
ip -n "$NSDC" link set "$VA" up
ip -n "$NSWEB" link set "$VB" up
ip -n "$NSWEB" route add default via "$ADC"
mkdir -p "/etc/netns/$NSWEB"
echo "nameserver 127.0.0.1" >"/etc/netns/$NSWEB/resolv.conf"
say "namespaces $NSDC (dc-peer, $ADC) and $NSWEB (firefox-esr, $AWEB) over veth $VA/$VB; Firefox WebRTC defaults (mDNS on)"

say "$RUNS runs: dc-peer --offer ↔ firefox-esr --answer, $COUNT × $SIZE B each way, ordered reliable, bridge timeout ${TIMEOUT} s; logs in $LOGS"
started=$(date +%s)
for i in $(seq 1 "$RUNS"); do
    log=$LOGS/run-$i.log pcap=$LOGS/run-$i.pcap hello=$LOGS/run-$i.hello.json caplog=$LOGS/run-$i.tcpdump.log
    # the capture: this run's two addresses only, on dc-peer's end of the veth
    ip netns exec "$NSDC" tcpdump -i "$VA" -U -s 0 -n -w "$pcap" "udp and host $ADC and host $AWEB" >"$caplog" 2>&1 &
    CAP_PID=$!
    # and whatever else crosses the veth (ARP, mDNS, IPv6 ND, … and anything Firefox would send
    # towards the internet through its default route: dc-peer's namespace drops it), to report
    ip netns exec "$NSDC" tcpdump -i "$VA" -U -s 0 -n -w "$LOGS/run-$i.other.pcap" "not (ip host $ADC and ip host $AWEB)" \
        >"$LOGS/run-$i.other.log" 2>&1 &
    OTHER_PID=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$caplog" 2>/dev/null && grep -q "listening on" "$LOGS/run-$i.other.log" 2>/dev/null && break
        sleep 0.05
    done
    A="ip netns exec $NSDC env DC_PEER_LOG_LEVEL=${DC_PEER_LOG_LEVEL:-info} $BIN --offer --bind $ADC --count $COUNT --size $SIZE --name dc-peer"
    B="ip netns exec $NSWEB python3 $ROOT/Interop/firefox_dc_peer.py --answer --count $COUNT --size $SIZE --stats-out $LOGS/run-$i.stats.json ${PREFS[*]:-}"
    t0=$(date +%s.%N)
    set +e
    timeout $((TIMEOUT + 30)) python3 "$ROOT/Interop/webrtc_bridge.py" --a "$A" --b "$B" --timeout "$TIMEOUT" \
        --title "dc-peer (offer) <-> firefox-esr (answer), run $i" --verbose >"$log" 2>&1 &
    RUN_PID=$!
    wait "$RUN_PID"
    rc=$?
    RUN_PID=
    set -e
    dt=$(echo "$(date +%s.%N) - $t0" | bc)
    sleep 0.2
    kill -INT "$CAP_PID" "$OTHER_PID" 2>/dev/null || true
    wait "$CAP_PID" "$OTHER_PID" 2>/dev/null || true
    CAP_PID= OTHER_PID=
    other=$(tcpdump -r "$LOGS/run-$i.other.pcap" -n -q 2>/dev/null | sed -E 's/^[0-9:.]+ //' | sort | uniq -c | sort -rn)
    verdict=$(tail -1 "$log")
    hello_rc=0
    python3 "$ROOT/Interop/dtls_hello.py" "$pcap" --client "$AWEB" --json "$hello" >"$LOGS/run-$i.hello.txt" 2>&1 || hello_rc=$?
    cipher=$(grep -o 'DTLS connected (handshake completed): cipher [^,]*' "$log" | head -1 | sed 's/.*cipher //')
    read -r negotiated premise < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = r["server_hellos"]
neg = "none" if not s else "0x%04X" % (s[0]["supported_versions"] if s[0]["supported_versions"] is not None else s[0]["version"])
h = [h for h in r["client_hellos"] if h.get("complete")]
missing = []
if not h: missing.append("no-complete-ClientHello")
else:
    h = h[0]
    if 0xFEFC not in (h["supported_versions"] or []): missing.append("no-DTLS-1.3-offer")
    if 0x11EC not in [g for g, _ in (h["key_share"] or [])]: missing.append("no-X25519MLKEM768-share")
    if h["records"] < 2: missing.append("ClientHello-in-one-record")
print(neg, ",".join(missing) or "met")
' "$hello" 2>/dev/null || echo none unreadable)
    ok=1
    [ "$rc" = 0 ] || ok=0
    [ "$hello_rc" = 0 ] || ok=0
    [ "$negotiated" = 0xFEFD ] || ok=0
    [ "$premise" = met ] || [ "$ANY_HELLO" = 1 ] || ok=0
    if [ "$ok" = 1 ]; then
        pass=$((pass + 1))
        printf 'run %3d PASS %5.1f s   (%d/%d passed)   dc-peer cipher %s\n' "$i" "$dt" "$pass" "$i" "${cipher:-?}"
    else
        fail=$((fail + 1)) failed_runs+=("$i")
        [ "$rc" = 124 ] && echo "run $i: the bridge itself took longer than $((TIMEOUT + 30)) s" >>"$log"
        printf 'run %3d FAIL %5.1f s   bridge rc %s (%s), capture rc %s, negotiated %s, ClientHello premise %s, dc-peer cipher %s; log %s\n' \
            "$i" "$dt" "$rc" "$verdict" "$hello_rc" "$negotiated" "$premise" "${cipher:-?}" "$log"
        grep -E '^\s+(got|- )' "$log" | sed 's/^/    /' || true
    fi
    sed 's/^/    /' "$LOGS/run-$i.hello.txt"
    if [ -n "$other" ]; then
        echo "    other packets on the veth (count, summary):"
        echo "$other" | head -8 | sed 's/^/      /'
    else
        echo "    other packets on the veth: none"
    fi
    if [ "$ok" = 1 ] && [ "$KEEP_ALL" = 0 ] && [ "$i" != 1 ]; then
        rm -f "$log" "$pcap" "$hello" "$caplog" "$LOGS/run-$i".{hello.txt,stats.json,other.pcap,other.log}
    fi
    [ "$ok" = 1 ] || [ "$STOP" = 0 ] || break
done
finished=1
total=$((pass + fail))
echo "=== dc-firefox interop ($(firefox-esr --version 2>/dev/null)): $pass/$total passed, $fail failed${failed_runs:+ (runs ${failed_runs[*]})} in $(( $(date +%s) - started )) s; logs: $LOGS"
[ "$fail" = 0 ]
