#!/usr/bin/env bash
# Interop test for issue 3: wires Examples/ice-peer (NiceICE) to itself and to an aioice peer with
# Interop/bridge.py over ICE-JSONL, on 127.0.0.1 only, and prints both sides' state timelines.
# Where both sides send this repository's byte pattern, both get --check-pattern (a corrupted
# datagram is left out of `got`, so the bridge's count check catches it). The "foreign payload"
# runs have aioice send random bytes that break the pattern, and ice-peer, without --check-pattern,
# must count every one of them in either role, as it must with any independent peer.
#
# DTLS runs (issue 10, docs/dtls-jsonl.md): ice-peer --dtls with itself and with aiortc's
# RTCDtlsTransport over aiortc's own ICE (Interop/aiortc_dtls_peer.py), in both DTLS roles, and a
# fingerprint mismatch each way, which must fail on both sides.
#
# Data channels (WebRTC-JSONL): Examples/dc-peer with itself and with aiortc's RTCPeerConnection
# (Interop/aiortc_dc_peer.py) through Interop/webrtc_bridge.py; see the section at the end.
#
#   Interop/run.sh            exits non-zero if any run fails
#
# Environment: ICE_PEER_SCRATCH  scratch path for swift build (default: SwiftPM's .build)
#              AIOICE_SPEC       pip requirement for aioice (default aioice==0.13.0, the version
#                                aioice_peer.py was written against)
#              AIORTC_SPEC       pip requirement for aiortc (default aiortc==1.16.0)
#              BRIDGE_FLAGS      extra bridge flags, e.g. --verbose to see the peers' logs
set -euo pipefail
cd "$(dirname "$0")/.."

source Interop/venv.sh  # VENV: aioice and aiortc

build_args=(--product ice-peer)
if [ -n "${ICE_PEER_SCRATCH:-}" ]; then build_args+=(--scratch-path "$ICE_PEER_SCRATCH"); fi
echo "--- swift build ${build_args[*]}"
swift build "${build_args[@]}"
NICE="$(swift build "${build_args[@]}" --show-bin-path)/ice-peer"
AIOICE="$VENV/bin/python Interop/aioice_peer.py"
AIORTC="$VENV/bin/python Interop/aiortc_dtls_peer.py"
DATA="--count 1000 --size 200"
CHECK="--check-pattern"
FOREIGN="--payload random"

failed=()
runs=0
run() {  # run TITLE A-COMMAND B-COMMAND [bridge flags…]
    local title=$1 a=$2 b=$3
    shift 3
    runs=$((runs + 1))
    # The bridge bounds the run at 60 s (plus 10 s for the peers to exit after close);
    # timeout(1) is the backstop.
    if ! timeout 80 python3 Interop/bridge.py --timeout 60 --title "$title" --a "$a" --b "$b" \
        ${BRIDGE_FLAGS:-} "$@"; then
        failed+=("$title")
    fi
    echo
}

run "ice-peer (controlling) <-> ice-peer (controlled)" \
    "$NICE --name nice-A $DATA $CHECK" "$NICE --name nice-B $DATA $CHECK"
run "ice-peer (controlling) <-> aioice (controlled)" \
    "$NICE --name nice $DATA $CHECK" "$AIOICE --name aioice $DATA $CHECK"
run "aioice (controlling) <-> ice-peer (controlled)" \
    "$AIOICE --name aioice $DATA $CHECK" "$NICE --name nice $DATA $CHECK"
# Candidates before credentials: each side must queue remote candidates until `cred` arrives.
run "cand before cred: aioice (controlling) <-> ice-peer (controlled)" \
    "$AIOICE --name aioice $DATA $CHECK" "$NICE --name nice $DATA $CHECK" --cred-last

# Foreign payload (issue 8): aioice sends random bytes, none following our pattern; ice-peer
# (no --check-pattern) must report got 1000 / 200000 all the same, controlling and controlled.
run "foreign payload: ice-peer (controlling) <-> aioice --payload random (controlled)" \
    "$NICE --name nice $DATA" "$AIOICE --name aioice-random $DATA $FOREIGN $CHECK"
run "foreign payload: aioice --payload random (controlling) <-> ice-peer (controlled)" \
    "$AIOICE --name aioice-random $DATA $FOREIGN $CHECK" "$NICE --name nice $DATA"

# ICE-lite (issue 3): a lite NiceICE agent with a full NiceICE agent and with aioice (full).
run "ice-peer (controlling) <-> ice-peer --lite (controlled)" \
    "$NICE --name nice-full $DATA $CHECK" "$NICE --name nice-lite --lite $DATA $CHECK"
run "aioice (controlling) <-> ice-peer --lite (controlled)" \
    "$AIOICE --name aioice $DATA $CHECK" "$NICE --name nice-lite --lite $DATA $CHECK"

# DTLS (issue 10): 1,000 encrypted datagrams each way, both DTLS roles, against ice-peer and aiortc.
run "DTLS: ice-peer client <-> ice-peer server" \
    "$NICE --name nice-A --dtls --dtls-role client $DATA $CHECK" "$NICE --name nice-B --dtls --dtls-role server $DATA $CHECK" --dtls
run "DTLS: ice-peer client (controlling) <-> aiortc server (controlled)" \
    "$NICE --name nice --dtls --dtls-role client $DATA" "$AIORTC --name aiortc --dtls --dtls-role server $DATA" --dtls
run "DTLS: ice-peer server (controlling) <-> aiortc client (controlled)" \
    "$NICE --name nice --dtls --dtls-role server $DATA" "$AIORTC --name aiortc --dtls --dtls-role client $DATA" --dtls
run "DTLS: aiortc client (controlling) <-> ice-peer server (controlled)" \
    "$AIORTC --name aiortc --dtls --dtls-role client $DATA" "$NICE --name nice --dtls --dtls-role server $DATA" --dtls
# A wrong fingerprint either way fails both sides, nothing delivered.
run "DTLS mismatch: aiortc signals a wrong fingerprint to ice-peer" \
    "$NICE --name nice --dtls --dtls-role client $DATA" "$AIORTC --name aiortc --dtls --dtls-role server --bad-fingerprint $DATA" --expect-dtls-fail
run "DTLS mismatch: ice-peer signals a wrong fingerprint to aiortc" \
    "$NICE --name nice --dtls --dtls-role server --bad-fingerprint $DATA" "$AIORTC --name aiortc --dtls --dtls-role client $DATA" --expect-dtls-fail

# Data channels (WebRTC-JSONL, shared/docs/webrtc-jsonl.md): Examples/dc-peer (a NiceWebRTC
# PeerConnection) with itself and with aiortc (Interop/aiortc_dc_peer.py), in both offer/answer directions,
# through Interop/webrtc_bridge.py. Each pairing: 1,000 × 1 KiB binary messages each way, the same
# as strings (--text), on an unordered channel, and on a partially reliable one (--max-retransmits
# 0: loopback drops bursts, aiortc lost 3-17 % of 1,000 × 1 KiB, so --allow-loss). The offerer's
# channel options decide; the answerer gets the same flags for clarity. Then a peer that vanishes:
# B is SIGKILLed mid-transfer, and A must see dc closed and conn disconnected/failed within 60 s.
dc_build_args=(--product dc-peer)
if [ -n "${ICE_PEER_SCRATCH:-}" ]; then dc_build_args+=(--scratch-path "$ICE_PEER_SCRATCH"); fi
echo "--- swift build ${dc_build_args[*]}"
swift build "${dc_build_args[@]}"
DCPEER="$(swift build "${dc_build_args[@]}" --show-bin-path)/dc-peer"
AIORTC_DC="$VENV/bin/python Interop/aiortc_dc_peer.py"
DC_DATA="--count 1000 --size 1024"

dcrun() {  # dcrun TITLE A-COMMAND B-COMMAND [bridge flags…]
    local title=$1 a=$2 b=$3
    shift 3
    runs=$((runs + 1))
    # The bridge bounds the run at 60 s (plus 10 s for the peers to exit after close, plus the
    # kill wait for --kill-b-after-got); timeout(1) is the backstop.
    if ! timeout 150 python3 Interop/webrtc_bridge.py --timeout 60 --title "$title" --a "$a" --b "$b" \
        ${BRIDGE_FLAGS:-} "$@"; then
        failed+=("$title")
    fi
    echo
}

dc_pairs=(
    "dc-peer (offer) <-> dc-peer (answer)|$DCPEER --name dc-A|$DCPEER --name dc-B"
    "dc-peer (offer) <-> aiortc (answer)|$DCPEER --name dc|$AIORTC_DC --name aiortc"
    "aiortc (offer) <-> dc-peer (answer)|$AIORTC_DC --name aiortc|$DCPEER --name dc"
)
for pair in "${dc_pairs[@]}"; do
    IFS='|' read -r title a b <<<"$pair"
    dcrun "DC binary: $title" "$a $DC_DATA" "$b $DC_DATA"
    dcrun "DC text: $title" "$a $DC_DATA --text" "$b $DC_DATA --text"
    dcrun "DC unordered: $title" "$a $DC_DATA --unordered" "$b $DC_DATA --unordered"
    dcrun "DC max-retransmits 0: $title" "$a $DC_DATA --max-retransmits 0" "$b $DC_DATA --max-retransmits 0" \
        --allow-loss
done
# ICE restart mid-transfer (dc-peer --restart-after N, an extension of WebRTC-JSONL; the bridge's
# --restarts expects the second offer/answer round): 20,000 × 1 KiB each way on a reliable channel,
# a restart once one side got 2,000, offered by A, then by B; nothing may be lost. (aiortc 1.16
# cannot restart ICE, so dc-peer restarts only with itself.)
dcrun "DC ICE restart by the offerer: dc-peer (offer) <-> dc-peer (answer)" \
    "$DCPEER --name dc-A --count 20000 --size 1024 --restart-after 2000" "$DCPEER --name dc-B --count 20000 --size 1024" --restarts
dcrun "DC ICE restart by the answerer: dc-peer (offer) <-> dc-peer (answer)" \
    "$DCPEER --name dc-A --count 20000 --size 1024" "$DCPEER --name dc-B --count 20000 --size 1024 --restart-after 2000" --restarts
# Both send 200,000 × 1 KiB; B is SIGKILLed once A got 2,000 (both mid-transfer).
dcrun "DC peer killed: dc-peer (offer) <-> dc-peer (answer), B SIGKILLed mid-transfer" \
    "$DCPEER --name dc-A --count 200000 --size 1024" "$DCPEER --name dc-B --count 200000 --size 1024" \
    --kill-b-after-got 2000 --kill-wait 60

if [ ${#failed[@]} -ne 0 ]; then
    echo "INTEROP FAILED: ${failed[*]}"
    exit 1
fi
echo "INTEROP PASSED: $runs runs"
