#!/usr/bin/env bash
# LiveServer benchmark (issue 20's performance figures): viewers per process for one 1.5 Mbit/s
# VP8 + Opus stream. For each N, a fresh LiveServer (its own process, 127.0.0.1, an ICE port
# range) and LiveLoad (another process: one WHIP publisher and N WHEP viewers, NiceWebRTC
# PeerConnections) for --duration s once every viewer joined; the server is stopped by its pid.
#
#   scripts/live-bench.sh                   N = 50 100 200 300, 20 s each (release build)
#   scripts/live-bench.sh --viewers "100 200" --duration 30 --join-rate 25
#   scripts/live-bench.sh --quick           CI smoke test: N = 5 for 5 s (debug build); exits
#                                           non-zero unless every viewer is fine
#
# Per N: viewers joined and fine (a first frame, < 1 % packet loss, no gap between frames over
# 1 s), time from WHEP POST to first keyframe p50/p95, packet loss mean/max, freezes, the server's
# CPU (% of one core over the window) and RSS, the load generator's CPU, the kernel's UDP
# receive-buffer overflows over the window (system-wide: a receiver that did not keep up). Times
# in ms, loss in %. Then the largest N with
# every viewer fine: viewers per process. Both processes share the machine's cores: the figures
# are for the server and its viewers together on one box (the load generator decrypts as much
# SRTP as the server encrypts).
#
# Environment: LIVE_SERVER_ARGS  extra LiveServer options
#              LIVE_PORT_RANGE   the server's ICE ports (default 42000-43999)
#              LIVE_BENCH_LOG    a folder to keep the logs in (default: a temporary one, removed)
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")

viewers="50 100 200 300"
duration=20
join_rate=20
config=release
quick=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; viewers=5; duration=5; config=debug ;;
        --viewers) viewers=$2; shift ;;
        --duration) duration=$2; shift ;;
        --join-rate) join_rate=$2; shift ;;
        --debug) config=debug ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "live-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
say() { echo "--- live-bench: $*"; }

max_n=0
for n in $viewers; do [ "$n" -gt "$max_n" ] && max_n=$n; done
# The whole run is bounded: per N, joining + window + setup and teardown.
limit=$((1200 + $(echo "$viewers" | wc -w) * (duration + max_n / 5 + 180)))
if [ -z "${LIVE_BENCH_TIMED:-}" ]; then LIVE_BENCH_TIMED=1 exec timeout "$limit" "$0" "${args[@]}"; fi

say "swift build -c $config (LiveServer, LiveLoad)"
timeout 1800 swift build -c "$config" --package-path Examples/LiveServer 2>&1 | grep -E "error|warning: [^p]|Build" || true
bin=$(swift build -c "$config" --package-path Examples/LiveServer --show-bin-path)
for exe in LiveServer LiveLoad; do [ -x "$bin/$exe" ] || { say "no $bin/$exe"; exit 1; }; done

logs=${LIVE_BENCH_LOG:-$(mktemp -d)}
mkdir -p "$logs"
server=""
cleanup() {
    local status=$?
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    [ -n "${LIVE_BENCH_LOG:-}" ] || rm -rf "$logs"
    exit $status
}
trap cleanup EXIT
trap 'say "stopped (the time limit?)"; exit 124' TERM INT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The server wants its pages; a stub when the checkout has none (no page is loaded here).
public_args=()
if [ ! -f Examples/LiveServer/Public/index.html ]; then
    mkdir -p "$logs/public" && echo '<!doctype html><title>LiveServer</title>' >"$logs/public/index.html"
    public_args=(--public-dir "$logs/public")
fi

# Starts LiveServer on a free port; sets server (pid) and base (URL).
start_server() {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    # Limits above the load: every POST comes from 127.0.0.1.
    # shellcheck disable=SC2086
    "$bin/LiveServer" --host 127.0.0.1 --port "$port" --ice-address 127.0.0.1 \
        --port-range "${LIVE_PORT_RANGE:-42000-43999}" --max-sessions $((max_n + 50)) --max-viewers $((max_n + 50)) \
        --request-rate 1000 --request-burst 1000 --log-level warning "${public_args[@]}" ${LIVE_SERVER_ARGS:-} >"$logs/server-$1.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    cat "$logs/server-$1.log"
    say "the server did not come up"
    exit 1
}

stop_server() {
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
}

say "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine inflates every figure)"
say "stream: 1.5 Mbit/s VP8-shaped video at 30 fps (keyframe every 2 s or on request) + 20 ms Opus; window ${duration} s; join rate ${join_rate}/s"
results=()
best=0
failed=0
for n in $viewers; do
    start_server "$n"
    say "N = $n (server pid $server)"
    status=0
    expect=()
    [ "$quick" = 1 ] && expect=(--expect-all)
    timeout $((duration + n / 2 + 240)) "$bin/LiveLoad" --server "$base" --stream bench --viewers "$n" \
        --duration "$duration" --join-rate "$join_rate" --server-pid "$server" "${expect[@]}" \
        >"$logs/load-$n.out" 2>"$logs/load-$n.log" || status=$?
    stop_server
    sed 's/^/    /' "$logs/load-$n.out"
    [ "$status" -eq 0 ] || { tail -5 "$logs/load-$n.log"; say "LiveLoad exited $status"; failed=1; }
    line=$(grep '^summary ' "$logs/load-$n.out" || true)
    get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    if [ -n "$line" ]; then
        results+=("$(printf '%5s %7s %5s %9s %9s %10s %9s %8s %11s %11s %9s %10s' "$n" "$(get joined)" "$(get ok)" \
            "$(get ttff_p50_ms)" "$(get ttff_p95_ms)" "$(get loss_mean_pct)" "$(get loss_max_pct)" "$(get freezes)" \
            "$(get server_cpu_pct)" "$(get server_rss_mb)" "$(get load_cpu_pct)" "$(get udp_rcvbuf_drops)")")
        [ "$(get ok)" = "$n" ] && [ "$n" -gt "$best" ] && best=$n
    fi
done

echo
say "results (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%5s %7s %5s %9s %9s %10s %9s %8s %11s %11s %9s %10s\n' N joined ok "ttff p50" "ttff p95" "loss mean" "loss max" freezes "server CPU%" "server MiB" "load CPU%" "UDP drops"
for r in "${results[@]}"; do echo "$r"; done
say "viewers per process with < 1 % loss and no freeze > 1 s: $best (of N tried: $viewers)"
[ "$failed" = 0 ]
