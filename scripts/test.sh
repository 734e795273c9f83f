#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this), from a clean clone:
#   1. installs missing Debian packages (libnice, GLib, OpenSSL, usrsctp, coturn, iproute2, iptables,
#      valgrind, ffmpeg)
#   2. builds everything and fails on any compiler warning (the -pthread note from pkg-config aside)
#   3. the protocol cores (NiceICECore, NiceWebRTCCore) built and tested as a package of their own,
#      without libnice or OpenSSL
#   2b. every repository-relative link in Markdown, DocC and Swift comments points to a file in the
#      repository (scripts/check-links.sh)
#   3b. the README's examples built from its text in a fresh package that depends on this one; the
#       "Fifteen lines" program (two PeerConnections, one message) is run and its output checked
#   4. swift test: unit tests, loopback integration tests (ICE and DTLS), and the network tests
#      (coturn, network namespaces, DTLS under loss; they skip with a message where root or netns
#      is unavailable, and as root such a skip fails the run: NICE_REQUIRE_NETNS=1)
#   4a. the soak: 1,000 echo sessions in a row, alone (live-object counts back to zero, RSS within 5 %)
#   4b. Examples/EchoServer (Hummingbird) tested in headless Chromium: one session, 20 at once, ICE
#      restart mid-stream, SIGTERM mid-stream (scripts/echo-browser-test.sh; installs chromium)
#   4b'. Examples/LiveServer (WHIP/WHEP, Hummingbird): its in-process tests, then headless Chromium
#       publishing its fake camera over WHIP to three WHEP viewer pages (scripts/live-browser-test.sh)
#   4c. media with headless Chromium (scripts/media-chromium-test.sh, namespaces): its fake camera and
#      microphone sent to Examples/media-peer (every VP8 frame complete, a keyframe when asked, Opus
#      at ~50 packets/s) and ffmpeg-made VP8/IVF + Opus/Ogg sent to it (framesDecoded ≥ 90 %, audio
#      samples received), both offer directions, and a 10 % loss run each way (NACK recovery)
#   5. interop: ice-peer <-> ice-peer, <-> aioice, DTLS <-> aiortc, and data channels: dc-peer <->
#      dc-peer and <-> aiortc (Interop/run.sh); dc-peer <-> headless Firefox ESR in namespaces, its
#      DTLS 1.3 + post-quantum ClientHello captured and checked (scripts/dc-firefox-interop.sh);
#      media: media-peer <-> media-peer and <-> aiortc, VP8 + Opus both ways, both offer
#      directions, PLI, recordings checked with ffprobe (scripts/media-interop.sh)
#      LiveServer: an aiortc WHIP publisher and WHEP viewer (scripts/live-aiortc-test.sh)
#   6. the candidate/SDP fuzzer, the DTLS record fuzzer, the data-channel fuzzer (DCEP, messages,
#      SDP offer/answer, the JSEP negotiation core) and the media fuzzer (RTP, RTCP, depacketizers),
#      FUZZ_SECONDS each (default 60)
#   7. valgrind --leak-check=full on the loopback demo (no definite leak)
#   8. a benchmark smoke run (small sizes, no timing assertions)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "build (warnings are errors)"
log=$(mktemp)
swift build --build-tests 2>&1 | tee "$log"
if grep -E 'warning:' "$log" | grep -vE 'prohibited flag\(s\): -pthread|-pthread' | grep -q .; then
    echo "FAIL: the build printed warnings" >&2
    grep -E 'warning:' "$log" | grep -v pthread >&2
    exit 1
fi
rm -f "$log"

step "links: every repository-relative link in Markdown, DocC and Swift comments resolves"
scripts/check-links.sh

step "protocol cores alone: a package without libnice, GLib, OpenSSL or any C target"
scripts/core-alone.sh

step "the README's examples build in a package that depends on this one; Fifteen lines runs"
scripts/readme-example.sh

# As root (CI) the namespace and coturn suites must run: with NICE_REQUIRE_NETNS=1 a suite that
# would skip (no namespaces, no iptables, no coturn) fails the run instead (the prerequisite tests
# NetworkPrerequisites, LossyLinkNetworkPrerequisites and CoturnPrerequisite record it).
if [ "$(id -u)" = 0 ]; then export NICE_REQUIRE_NETNS=1; fi

step "swift test: unit, loopback integration, TURN on loopback"
swift test --skip-build --skip "Network" --skip "Soak"

# The namespace suite runs on its own so its long loss runs do not compete with the timing of the
# loopback tests (they skip themselves, with the reason, where root or netns is unavailable; as
# root that fails the run).
step "swift test: real networks in namespaces (NAT, TURN, loss, link cuts)"
swift test --skip-build --filter "Network"

# Alone, because it reads process-wide live-object counts and RSS.
step "swift test: soak (1,000 sessions in a row: every object freed, RSS back within 5 %)"
swift test --skip-build --filter "Soak"

step "a Swift server a browser talks to: Examples/EchoServer in headless Chromium (namespaces)"
scripts/echo-browser-test.sh --strict-shutdown

step "Examples/LiveServer (WHIP/WHEP on Hummingbird): build (warnings are errors) and the in-process tests (every status code, forwarding, trickle and ICE restart over PATCH, limits, lifetimes)"
log=$(mktemp)
swift build --package-path Examples/LiveServer --build-tests 2>&1 | tee "$log"
# Our code only: swift-distributed-tracing (a dependency) warns about a file of its own.
if grep -E 'warning:' "$log" | grep -vE 'pthread|swift-distributed-tracing' | grep -q .; then
    echo "FAIL: the LiveServer build printed warnings" >&2
    grep -E 'warning:' "$log" | grep -vE 'pthread|swift-distributed-tracing' >&2
    exit 1
fi
rm -f "$log"
swift test --package-path Examples/LiveServer --skip-build

step "LiveServer in headless Chromium: a WHIP publisher page and three WHEP viewers, trickle and ICE restart over PATCH, token (namespaces)"
LIVE_SERVER_BIN="$(swift build --package-path Examples/LiveServer --show-bin-path)/LiveServer" scripts/live-browser-test.sh

step "media with a real browser: headless Chromium's fake camera + microphone <-> Examples/media-peer, both ways, 10 % loss (namespaces)"
MEDIA_PEER_BIN="$(swift build --show-bin-path)/media-peer" scripts/media-chromium-test.sh

step "interop (ice-peer, aioice)"
Interop/run.sh

step "media interop: media-peer <-> media-peer and <-> aiortc (VP8 + Opus, both offer directions, PLI, recordings)"
scripts/media-interop.sh

step "LiveServer with aiortc: an aiortc WHIP publisher (an ffmpeg-made VP8 + Opus file) and an aiortc WHEP viewer that records; the recording decodes"
LIVE_SERVER_BIN="$(swift build --package-path Examples/LiveServer --show-bin-path)/LiveServer" scripts/live-aiortc-test.sh

step "a real Firefox: dc-peer --offer <-> firefox-esr --answer; its fragmented DTLS 1.3 + X25519MLKEM768 ClientHello negotiates DTLS 1.2"
scripts/dc-firefox-interop.sh -n 3

step "fuzz candidate and SDP parsers"
Fuzz/run.sh "${FUZZ_SECONDS:-60}"

step "fuzz the DTLS record input path (and replay the known reproducers)"
Fuzz/dtls-run.sh "${FUZZ_SECONDS:-60}"

step "fuzz the data-channel layer (DCEP, messages, SDP offer/answer, the JSEP negotiation core)"
Fuzz/dc-run.sh "${FUZZ_SECONDS:-60}"

step "fuzz the media layer (RTP, RTCP compounds, NACK/TWCC, the depacketizers and frame assembly)"
Fuzz/media-run.sh "${FUZZ_SECONDS:-60}"

step "valgrind leak check of the loopback demo"
scripts/valgrind-demo.sh

step "benchmark smoke run"
scripts/bench.sh --quick

step "LiveServer benchmark smoke run (LiveLoad: one WHIP publisher, 5 WHEP viewers, 5 s; no timing assertions)"
scripts/live-bench.sh --quick

step "all passed"
