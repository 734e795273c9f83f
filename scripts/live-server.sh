#!/usr/bin/env bash
# Runs Examples/LiveServer (issue 20: WHIP ingest, WHEP playback) in one command on a fresh Debian 12
# machine with the Swift toolchain: installs the Debian packages it needs when missing
# (scripts/deps.sh), builds the server in release mode (Hummingbird's first build takes a few
# minutes) and runs it with the arguments given; open the printed address.
#
#   scripts/live-server.sh                                  http://127.0.0.1:8080/, ICE on 127.0.0.1, open
#   LIVE_TOKEN=$(openssl rand -hex 16) scripts/live-server.sh --host 192.0.2.10
#                                                           any LiveServer option (--help lists them)
#
# Publish from the page at /, from OBS (Settings → Stream → WHIP, http://HOST:8080/whip/NAME,
# Bearer token = the token) or GStreamer/FFmpeg; watch at /watch/NAME (WHEP at /whep/NAME).
# A browser on the same machine does not gather on loopback (Chrome needs
# --allow-loopback-in-peer-connection for 127.0.0.1); bind to an address of a real interface
# (--host, --ice-address) for a browser on another machine, with --public-address behind a 1:1 NAT.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --package-path Examples/LiveServer --product LiveServer
exec "$(swift build -c release --package-path Examples/LiveServer --show-bin-path)/LiveServer" \
    --public-dir Examples/LiveServer/Public "$@"
