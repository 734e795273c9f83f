#!/usr/bin/env bash
# Media interop (issue 19; Media-JSONL, docs/media-jsonl.md): Examples/media-peer (a NiceWebRTC
# PeerConnection sending VP8 and Opus from files through LocalTrack and counting RemoteTrack's
# frames) with itself and with aiortc's RTCPeerConnection (Interop/aiortc_media_peer.py), in both
# offer directions, with and without a data channel, through Interop/webrtc_bridge.py --media,
# on 127.0.0.1 only (no STUN). The test media are made here with ffmpeg (a test pattern → VP8 in
# IVF, a sine → Opus in Ogg; 10 s each) in a temporary directory, never committed.
#
# Each run passes when every receiver got >= 90 % of the video frames and audio packets sent,
# no incomplete frame (loopback loses nothing), a `pli` line from each receiver given --pli-at
# (the PLI round trip is printed), the --record files open in ffprobe with the frame and packet
# counts the receiver recorded, and both sides exit 0 after close.
#
#   scripts/media-interop.sh           exits non-zero if any run fails (about 2 minutes)
#
# Environment: MEDIA_DURATION  seconds of media per run (default 10)
#              ICE_PEER_SCRATCH scratch path for swift build (default: SwiftPM's .build)
#              AIOICE_SPEC, AIORTC_SPEC  pip requirements (default aioice==0.13.0, aiortc==1.16.0;
#                              Interop/.venv, shared with Interop/run.sh)
#              BRIDGE_FLAGS    extra bridge flags, e.g. --verbose to see the peers' logs
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in ffmpeg ffprobe; do
    command -v "$tool" >/dev/null || { echo "media-interop: $tool is missing (scripts/deps.sh --test installs ffmpeg)" >&2; exit 1; }
done
source Interop/venv.sh  # VENV: aioice and aiortc, as Interop/run.sh has them
echo "--- $(ffmpeg -version | head -1)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "--- test media into $work"
timeout 120 ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=640x360:rate=30 -t 10 \
    -c:v libvpx -b:v 1M -g 300 -deadline realtime -cpu-used 8 "$work/video.ivf"
timeout 60 ffmpeg -hide_banner -loglevel error -f lavfi -i sine=frequency=440:sample_rate=48000 -t 10 \
    -c:a libopus -b:a 64k -page_duration 20000 "$work/audio.ogg"

build_args=(--product media-peer)
if [ -n "${ICE_PEER_SCRATCH:-}" ]; then build_args+=(--scratch-path "$ICE_PEER_SCRATCH"); fi
echo "--- swift build ${build_args[*]}"
timeout 900 swift build "${build_args[@]}"
MP="$(swift build "${build_args[@]}" --show-bin-path)/media-peer"
AIORTC="$VENV/bin/python Interop/aiortc_media_peer.py"
D="--duration ${MEDIA_DURATION:-10}"
SEND="--send-video $work/video.ivf --send-audio $work/audio.ogg"
RECV="--receive-video --receive-audio"

# title|A command (offers)|B command (answers)
pairs=(
    "media-peer <-> media-peer: VP8 + Opus each way, PLI both ways, B records, data channel|$MP --name A $SEND $RECV --pli-at 3 $D|$MP --name B $SEND $RECV --pli-at 3 --record $work/rec $D"
    "media-peer -> media-peer: media only (--no-data, as WHIP)|$MP --name A $SEND --no-data $D|$MP --name B $RECV --no-data $D"
    "media-peer (offer) -> aiortc (answer): video + audio, aiortc asks for a keyframe, data channel|$MP --name nice $SEND $D|$AIORTC --name aiortc $RECV --pli-at 3"
    "aiortc (offer) <- media-peer (answer): video + audio, media only|$AIORTC --name aiortc $RECV --pli-at 3 --no-data|$MP --name nice $SEND --no-data $D"
    "aiortc (offer) -> media-peer (answer): video + audio, media-peer asks for a keyframe, media only|$AIORTC --name aiortc $SEND --no-data $D|$MP --name nice $RECV --pli-at 3 --no-data"
    "media-peer (offer) <- aiortc (answer): video + audio, data channel|$MP --name nice $RECV --pli-at 3 $D|$AIORTC --name aiortc $SEND $D"
)
failed=()
for pair in "${pairs[@]}"; do
    IFS='|' read -r title a b <<<"$pair"
    # The bridge bounds a run at 60 s (plus 10 s for the peers to exit after close); timeout(1)
    # is the backstop.
    timeout 80 python3 Interop/webrtc_bridge.py --media --timeout 60 --title "$title" --a "$a" --b "$b" \
        ${BRIDGE_FLAGS:-} || failed+=("$title")
    echo
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "MEDIA INTEROP FAILED: ${failed[*]}"
    exit 1
fi
echo "MEDIA INTEROP PASSED: ${#pairs[@]} runs"
