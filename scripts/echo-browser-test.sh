#!/usr/bin/env bash
# Headless-Chromium test of Examples/EchoServer (issue 12): the page in Examples/EchoServer/Public
# against the Swift server, driven by Examples/EchoServer/browser-test/test_echo.py (selenium).
#
#   scripts/echo-browser-test.sh            build the Swift EchoServer and test it (the screenshot
#                                           goes to a temporary folder; the path is printed)
#   scripts/echo-browser-test.sh --refresh-screenshot   the same, and the screenshot replaces the
#                                           README's docs/echo-server.png (a deliberate refresh;
#                                           a plain test run never touches tracked files)
#   ECHO_SERVER=stub scripts/echo-browser-test.sh    test the page against browser-test/stub_server.py (aiortc)
#
# Network: as root, two network namespaces joined by a veth pair — the server in echo-srv-PID
# (10.79.0.1: HTTP, WebSocket and ICE) and Chromium + chromedriver + the test in echo-web-PID
# (10.79.0.2). Chromium keeps its WebRTC defaults (mDNS host candidates); nothing leaves the two
# namespaces. Without root or namespaces it falls back to 127.0.0.1 with Chromium's
# --allow-loopback-in-peer-connection and says so.
#
# Installs when missing: Debian chromium + chromium-driver, a venv in browser-test/.venv with
# selenium (and websockets + aiortc for the stub). Environment:
#   ECHO_SERVER=swift|stub   which server (default swift)
#   ECHO_SERVER_BIN=path     an already built EchoServer (skips swift build and the server's swift test)
#   ECHO_SCRATCH=path        --scratch-path for swift build
#   ECHO_LOOPBACK=1          force the loopback fallback
#   extra arguments go to test_echo.py: --probe (latency probes), --keep-logs, --strict-shutdown
#   SELENIUM_SPEC            pip requirement (default selenium==4.50.0, which drives chromium 156)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BT=Examples/EchoServer/browser-test
VENV=$BT/.venv
SERVER_KIND=${ECHO_SERVER:-swift}
SELENIUM_SPEC=${SELENIUM_SPEC:-selenium==4.50.0}

say() { echo "--- $*"; }

# ---- where the screenshot goes: a temporary folder, or docs/ with --refresh-screenshot
SHOT_DIR=$(mktemp -d /tmp/echo-browser-shot.XXXXXX)
SCREENSHOT=$SHOT_DIR/echo-server.png
PASS_ARGS=()
for arg in "$@"; do
    if [ "$arg" = --refresh-screenshot ]; then SCREENSHOT=$ROOT/docs/echo-server.png; else PASS_ARGS+=("$arg"); fi
done
set -- ${PASS_ARGS[@]+"${PASS_ARGS[@]}"}

# ---- install what is missing
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing chromium and chromium-driver (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
fi
command -v ip >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq iproute2 >/dev/null; }
PYMODS="import selenium"
PIPS=("$SELENIUM_SPEC")
if [ "$SERVER_KIND" = stub ]; then PYMODS="$PYMODS, websockets, aiortc"; PIPS+=(websockets==15.0.1 aiortc==1.16.0); fi
if ! "$VENV/bin/python" -c "$PYMODS" 2>/dev/null; then
    say "creating $VENV with ${PIPS[*]}"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    timeout 300 "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PIPS[@]}"
fi
say "$(chromium --version 2>/dev/null | tail -1), $(chromedriver --version | cut -d' ' -f1-2), selenium $("$VENV/bin/python" -c 'import selenium; print(selenium.__version__)')"

# ---- the server
ARGS=(--server "$SERVER_KIND" --screenshot "$SCREENSHOT")
if [ "$SERVER_KIND" = swift ]; then
    BIN=${ECHO_SERVER_BIN:-}
    if [ -z "$BIN" ]; then
        build=(--package-path Examples/EchoServer)
        if [ -n "${ECHO_SCRATCH:-}" ]; then build+=(--scratch-path "$ECHO_SCRATCH"); fi
        say "swift build ${build[*]}"
        swift build "${build[@]}"
        BIN="$(swift build "${build[@]}" --show-bin-path)/EchoServer"
        # the server's own tests (Origin policy, per-address limit, offer budget, static files), in-process on 127.0.0.1
        say "swift test ${build[*]}"
        timeout 600 swift test "${build[@]}"
    fi
    ARGS+=(--server-bin "$BIN")
fi

# ---- the network
SRV=echo-srv-$$
WEB=echo-web-$$
VS=evs$$
VW=evw$$
made_ns=0
TEST_PID=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$TEST_PID" ] && kill -0 "$TEST_PID" 2>/dev/null; then kill "$TEST_PID" 2>/dev/null || true; wait "$TEST_PID" 2>/dev/null || true; fi
    if [ "$made_ns" = 1 ]; then
        # whatever still runs in our namespaces was started by this test: end it by pid
        for ns in "$WEB" "$SRV"; do
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        done
        ip netns del "$WEB" 2>/dev/null || true
        ip netns del "$SRV" 2>/dev/null || true
    fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

if [ "${ECHO_LOOPBACK:-0}" != 1 ] && [ "$(id -u)" = 0 ] && ip netns add "$SRV" 2>/dev/null; then
    made_ns=1
    ip netns add "$WEB"
    ip link add "$VS" type veth peer name "$VW"
    ip link set "$VS" netns "$SRV"
    ip link set "$VW" netns "$WEB"
    ip -n "$SRV" addr add 10.79.0.1/24 dev "$VS"
    ip -n "$WEB" addr add 10.79.0.2/24 dev "$VW"
    for ns in "$SRV" "$WEB"; do ip -n "$ns" link set lo up; done
    ip -n "$SRV" link set "$VS" up
    ip -n "$WEB" link set "$VW" up
    # a default route inside the pair, so Chromium sees a usable network (nothing goes beyond it)
    ${ECHO_DEFAULT_ROUTE:+ip -n "$WEB" route add default via 10.79.0.1}
    ${ECHO_DEFAULT_ROUTE:+ip -n "$SRV" route add default via 10.79.0.2}
    say "network namespaces $SRV (server, 10.79.0.1) and $WEB (chromium, 10.79.0.2) over veth; Chromium WebRTC defaults (mDNS on)"
    ARGS+=(--server-netns "$SRV" --host 10.79.0.1)
    RUN=(ip netns exec "$WEB")
else
    say "NOTE: no network namespaces (not root or 'ip netns' unavailable): falling back to 127.0.0.1 with --allow-loopback-in-peer-connection"
    ARGS+=(--loopback --host 127.0.0.1 --port "${ECHO_PORT:-18080}" --driver-port "${ECHO_DRIVER_PORT:-19515}")
    RUN=()
fi

say "test: ${RUN[*]} $VENV/bin/python $BT/test_echo.py ${ARGS[*]}"
set +e
timeout 300 "${RUN[@]}" "$ROOT/$VENV/bin/python" "$ROOT/$BT/test_echo.py" "${ARGS[@]}" "$@" &
TEST_PID=$!
wait "$TEST_PID"
rc=$?
TEST_PID=
set -e
[ "$rc" = 124 ] && echo "FAIL  the test took longer than 300 s"

if [ "$made_ns" = 1 ]; then
    left="$(ip netns pids "$WEB" 2>/dev/null; ip netns pids "$SRV" 2>/dev/null)"
    if [ -n "$left" ]; then echo "FAIL  processes left in the namespaces after the test: $(echo $left)"; rc=1; fi
    for p in $left; do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$WEB"; ip netns del "$SRV"
    made_ns=0
    if ip netns list | grep -qE "^($WEB|$SRV)( |$)"; then echo "FAIL  namespaces not removed"; rc=1
    else echo "PASS  cleanup: no process left, namespaces $SRV and $WEB removed"; fi
fi
if [ -s "$SCREENSHOT" ]; then say "screenshot: $SCREENSHOT"; fi
if [ "$SCREENSHOT" != "$ROOT/docs/echo-server.png" ] && [ ! -s "$SCREENSHOT" ]; then rmdir "$SHOT_DIR" 2>/dev/null || true; fi
if [ "$rc" = 0 ]; then echo "=== echo browser test: PASS"; else echo "=== echo browser test: FAIL"; fi
exit "$rc"
