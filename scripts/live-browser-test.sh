#!/usr/bin/env bash
# Headless-Chromium test of Examples/LiveServer (issue 20): its publish and watch pages
# (Examples/LiveServer/Public) against the Swift server over WHIP and WHEP, driven by
# Examples/LiveServer/browser-test/test_live.py (Interop/browser_driver.py's WebDriver client).
#
#   scripts/live-browser-test.sh                      build the LiveServer and test it (the watch
#                                                     page's screenshot goes to a temporary folder)
#   scripts/live-browser-test.sh --refresh-screenshot the same, and the screenshot replaces
#                                                     docs/live-server.png (a deliberate refresh)
#   extra arguments go to test_live.py: --keep-logs, --no-token-run, --viewers N, --frames N,
#   --join-limit S, --server-arg ARG (repeatable)
#
# Checks (test_live.py has the details): one publisher page (Chromium's fake camera and
# microphone over WHIP), three watch pages (WHEP) each with framesDecoded ≥ 100 and audio samples
# within 10 s of joining; candidates trickled over PATCH; an ICE restart over PATCH on one viewer
# and on the publisher, video continuing; the publisher's DELETE (viewers stay connected, their
# tracks freeze, no error); a second server with --token: a page without it gets 401.
#
# Network: as root, two network namespaces joined by a veth pair (scripts/browser-netns.sh) — the
# server in live-srv-PID (10.86.0.1: HTTP and ICE) and Chromium + chromedriver + the test in
# live-web-PID (10.86.0.2, WebRTC defaults: mDNS host candidates). Nothing leaves the pair. Not
# root: 127.0.0.1 with Chromium's --allow-loopback-in-peer-connection, and it says so (as root
# there is no fallback: no namespaces is a failure).
#
# Installs when missing: Debian chromium, chromium-driver, iproute2. Environment:
#   LIVE_SERVER_BIN=path   an already built LiveServer (skips swift build)
#   LIVE_SCRATCH=path      --scratch-path for swift build
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. "$ROOT/scripts/browser-netns.sh"
BT=Examples/LiveServer/browser-test
say() { echo "--- $*"; }

# ---- where the screenshot goes: a temporary folder, or docs/ with --refresh-screenshot
SHOT_DIR=$(mktemp -d /tmp/live-browser-shot.XXXXXX)
SCREENSHOT=$SHOT_DIR/live-server.png
PASS_ARGS=()
for arg in "$@"; do
    if [ "$arg" = --refresh-screenshot ]; then SCREENSHOT=$ROOT/docs/live-server.png; else PASS_ARGS+=("$arg"); fi
done
set -- ${PASS_ARGS[@]+"${PASS_ARGS[@]}"}

# ---- install what is missing
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
say "$(chromium --version 2>/dev/null | tail -1), $(chromedriver --version | cut -d' ' -f1-2)"

# ---- the server
BIN=${LIVE_SERVER_BIN:-}
if [ -z "$BIN" ]; then
    build=(--package-path Examples/LiveServer)
    if [ -n "${LIVE_SCRATCH:-}" ]; then build+=(--scratch-path "$LIVE_SCRATCH"); fi
    say "swift build ${build[*]} --product LiveServer"
    blog=$(mktemp /tmp/live-build.XXXXXX)
    if ! swift build "${build[@]}" --product LiveServer >"$blog" 2>&1; then
        grep -E "error" "$blog" | head -20; tail -5 "$blog"; echo "FAIL  swift build (log $blog)"; exit 2
    fi
    tail -1 "$blog"; rm -f "$blog"
    BIN="$(swift build "${build[@]}" --show-bin-path)/LiveServer"
fi
[ -x "$BIN" ] || { echo "FAIL  no LiveServer at $BIN"; exit 2; }
ARGS=(--server-bin "$BIN" --screenshot "$SCREENSHOT")

# ---- the network
NSSRV=live-srv-$$ NSWEB=live-web-$$ VS=lvs$$ VW=lvw$$
made_ns=0 TEST_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$TEST_PID" ] && kill -0 "$TEST_PID" 2>/dev/null; then kill "$TEST_PID" 2>/dev/null || true; wait "$TEST_PID" 2>/dev/null || true; fi
    if [ "$made_ns" = 1 ]; then browser_netns_down "$NSSRV" "$NSWEB"; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" = 0 ]; then
    if ! ip netns add "$NSSRV"; then echo "FAIL  running as root but 'ip netns add' failed: no fallback to loopback as root"; exit 1; fi
    made_ns=1
    browser_netns_up "$NSSRV" "$NSWEB" "$VS" "$VW" 10.86.0
    say "namespaces $NSSRV (LiveServer, 10.86.0.1) and $NSWEB (chromium, 10.86.0.2) over veth; Chromium WebRTC defaults (mDNS on)"
    ARGS+=(--server-netns "$NSSRV" --host 10.86.0.1 --port 8080)
    RUN=(ip netns exec "$NSWEB")
else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    say "NOTE: not root: no network namespaces; 127.0.0.1:$port with --allow-loopback-in-peer-connection"
    ARGS+=(--loopback --host 127.0.0.1 --port "$port")
    RUN=()
fi

say "test: ${RUN[*]} python3 $BT/test_live.py ${ARGS[*]} $*"
set +e
timeout 300 ${RUN[@]+"${RUN[@]}"} python3 "$ROOT/$BT/test_live.py" "${ARGS[@]}" "$@" &
TEST_PID=$!
wait "$TEST_PID"
rc=$?
TEST_PID=
set -e
[ "$rc" = 124 ] && echo "FAIL  the test took longer than 300 s"

if [ "$made_ns" = 1 ]; then
    left="$(ip netns pids "$NSWEB" 2>/dev/null; ip netns pids "$NSSRV" 2>/dev/null)"
    if [ -n "$left" ]; then echo "FAIL  processes left in the namespaces after the test: $(echo $left)"; rc=1; fi
    browser_netns_down "$NSSRV" "$NSWEB"
    made_ns=0
    if ip netns list | grep -qE "^($NSWEB|$NSSRV)( |$)"; then echo "FAIL  namespaces not removed"; rc=1
    else echo "PASS  cleanup: no process left, namespaces $NSSRV and $NSWEB removed"; fi
fi
if [ -s "$SCREENSHOT" ]; then say "screenshot: $SCREENSHOT"; fi
if [ "$SCREENSHOT" != "$ROOT/docs/live-server.png" ] && [ ! -s "$SCREENSHOT" ]; then rmdir "$SHOT_DIR" 2>/dev/null || true; fi
if [ "$rc" = 0 ]; then echo "=== live browser test: PASS"; else echo "=== live browser test: FAIL"; fi
exit "$rc"
