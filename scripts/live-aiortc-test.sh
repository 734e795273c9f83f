#!/usr/bin/env bash
# LiveServer with aiortc (issue 20): aiortc publishes a file over WHIP, another aiortc watches it
# over WHEP and records what it got, and the recording's frames decode.
#
#   1. ffmpeg (Debian's; installed when missing) makes a 10 s WebM: a test pattern as VP8 and a
#      sine as Opus.
#   2. LiveServer (built here, debug) on 127.0.0.1, a random free port, ICE on 127.0.0.1, a
#      random Bearer token; stopped by its pid at the end.
#   3. Examples/LiveServer/aiortc/whip_client.py publish: aiortc's MediaPlayer loops the file,
#      aiortc re-encodes it (VP8, Opus) and sends it to POST /whip/{stream}.
#   4. whip_client.py watch: POST /whep/{stream}, aiortc decodes what arrives and two
#      MediaRecorders re-encode VIEW_SECONDS of it into Matroska files, the video (H.264:
#      MediaRecorder's WebM path encodes VP8 on the event loop, too slow on a busy machine: frames
#      get dropped) and the audio (AAC) apart (in one file the first audio packet opens the video
#      encoder at 640x480 before the first frame sets its size, and the video task dies), then DELETE.
#   5. ffprobe decodes the recording: at least MIN_FPS video frames per second (the file has
#      30) and AAC frames for at least half of the time; the publisher DELETEs its session (200).
#
#   scripts/live-aiortc-test.sh        exits 0 when the recording decodes, non-zero otherwise
#
# Environment: VIEW_SECONDS (default 8), MIN_FPS (default 15), LIVE_SERVER_BIN (a LiveServer
#              executable: no build), AIORTC_SPEC / AIOICE_SPEC (Interop/venv.sh: aiortc==1.16.0),
#              KEEP=1 keeps the temporary folder (media, logs, recording).
# Everything is time-limited: the whole run (600 s) and each step by timeout(1).
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole test within 600 s (timeout(1) sends TERM: the trap below stops what was started).
if [ -z "${LIVE_AIORTC_TIMED:-}" ]; then LIVE_AIORTC_TIMED=1 exec timeout 600 "$0" "$@"; fi
VIEW_SECONDS=${VIEW_SECONDS:-8}
MIN_FPS=${MIN_FPS:-15}
say() { echo "--- live-aiortc: $*"; }

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    say "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
source Interop/venv.sh  # VENV with aiortc

work=$(mktemp -d)
pids=()
cleanup() {
    local status=$?
    # Only what this script started, by pid.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
    exit $status
}
trap cleanup EXIT
trap 'say "stopped (the 600 s limit?)"; exit 124' TERM INT

say "$(ffmpeg -version | head -1)"
say "test media: testsrc 640x360 30 fps → VP8, sine 440 Hz → Opus, 10 s WebM"
timeout 120 ffmpeg -hide_banner -loglevel error \
    -f lavfi -i testsrc=size=640x360:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 10 \
    -c:v libvpx -b:v 1M -g 60 -deadline realtime -cpu-used 8 -c:a libopus -b:a 64k "$work/media.webm"

if [ -n "${LIVE_SERVER_BIN:-}" ]; then
    server_bin=$LIVE_SERVER_BIN
else
    say "swift build --product LiveServer"
    timeout 1200 swift build --package-path Examples/LiveServer --product LiveServer 2>&1 | grep -E "error|warning: [^p]|Compiling LiveServer|Build" || true
    server_bin="$(swift build --package-path Examples/LiveServer --show-bin-path)/LiveServer"
fi
[ -x "$server_bin" ] || { say "no LiveServer executable at $server_bin"; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
base="http://127.0.0.1:$port"
# The server wants its pages; a stub when the checkout has none (no page is loaded here).
public_args=()
if [ ! -f Examples/LiveServer/Public/index.html ]; then
    mkdir -p "$work/public" && echo '<!doctype html><title>LiveServer</title>' >"$work/public/index.html"
    public_args=(--public-dir "$work/public")
fi
say "LiveServer on $base (with a Bearer token)"
"$server_bin" --host 127.0.0.1 --port "$port" --ice-address 127.0.0.1 --token "$token" "${public_args[@]}" \
    --log-level "${LIVE_SERVER_LOG:-notice}" >"$work/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do
    curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; say "the server exited"; exit 1; }
    sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || { cat "$work/server.log"; say "no /healthz after 10 s"; exit 1; }

client=Examples/LiveServer/aiortc/whip_client.py
publish_seconds=$((VIEW_SECONDS + 25))
say "aiortc publishes $work/media.webm to /whip/aiortc (${publish_seconds} s at most)"
timeout $((publish_seconds + 60)) "$VENV/bin/python" "$client" publish --url "$base/whip/aiortc" --token "$token" \
    --file "$work/media.webm" --duration "$publish_seconds" --name publisher >"$work/publisher.out" 2>"$work/publisher.log" &
publisher=$!
pids+=("$publisher")

say "aiortc watches /whep/aiortc and records ${VIEW_SECONDS} s"
status=0
timeout $((VIEW_SECONDS + 90)) "$VENV/bin/python" "$client" watch --url "$base/whep/aiortc" --token "$token" \
    --record "$work/view.mkv" --record-audio "$work/view.mka" --duration "$VIEW_SECONDS" --name viewer >"$work/viewer.out" 2>"$work/viewer.log" || status=$?
cat "$work/viewer.out"
if [ "$status" -ne 0 ]; then
    say "the viewer failed ($status)"
    tail -n 20 "$work/viewer.log" "$work/publisher.log" "$work/server.log"
    exit 1
fi

count() {  # decoded frames of stream $2 (v or a) in $1
    timeout 120 ffprobe -v error -count_frames -select_streams "$2:0" -show_entries stream=nb_read_frames -of csv=p=0 "$1"
}
video=$(count "$work/view.mkv" v || echo 0)
audio=$(count "$work/view.mka" a || echo 0)
# Not a number (ffprobe prints N/A for a stream it read no frame of): none.
[[ "$video" =~ ^[0-9]+$ ]] || video=0
[[ "$audio" =~ ^[0-9]+$ ]] || audio=0
min_video=$((VIEW_SECONDS * MIN_FPS))
# AAC frames are 1,024 samples at 48 kHz: about 47 a second; half the time at least.
min_audio=$((VIEW_SECONDS * 23))
say "ffprobe decoded $video video frames (≥ $min_video wanted) and $audio audio frames (≥ $min_audio wanted)"
for f in "$work/view.mkv" "$work/view.mka"; do
    timeout 60 ffprobe -v error -show_entries stream=codec_name,width,height,sample_rate -of compact "$f" || true
done

# The publisher leaves: on TERM it stops sending, DELETEs its session (200 wanted) and exits 0.
kill -TERM "$publisher" 2>/dev/null || true
pub_status=0
wait "$publisher" || pub_status=$?
cat "$work/publisher.out"
[ "$pub_status" -eq 0 ] || say "the publisher failed ($pub_status)"

if [ "$video" -ge "$min_video" ] && [ "$audio" -ge "$min_audio" ] && [ "$pub_status" -eq 0 ]; then
    say "PASSED"
    exit 0
fi
say "FAILED"
tail -n 20 "$work/viewer.log" "$work/publisher.log" "$work/server.log"
exit 1
