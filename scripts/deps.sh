#!/usr/bin/env bash
# Installs the Debian packages NiceICE needs, only those that are missing.
#
#   scripts/deps.sh          libnice, GLib, OpenSSL, usrsctp, libsrtp2, pkg-config (enough to build and run the demo)
#   scripts/deps.sh --test   also what the full test suite uses: coturn, iproute2, iptables, valgrind,
#                            ffmpeg
set -euo pipefail

need=()
pkg-config --exists nice 2>/dev/null || need+=(libnice-dev)
pkg-config --exists glib-2.0 2>/dev/null || need+=(libglib2.0-dev)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)  # NiceWebRTC's DTLS
pkg-config --exists usrsctp 2>/dev/null || need+=(libusrsctp-dev)  # NiceWebRTC's SCTP (data channels)
pkg-config --exists libsrtp2 2>/dev/null || need+=(libsrtp2-dev)  # NiceWebRTC's SRTP (media)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [[ "${1:-}" == "--test" ]]; then
    command -v turnserver >/dev/null 2>&1 || need+=(coturn)
    command -v ip >/dev/null 2>&1 || need+=(iproute2)
    command -v iptables >/dev/null 2>&1 || need+=(iptables)
    command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
    # scripts/media-interop.sh: makes the test media (libvpx VP8 in IVF, libopus in Ogg; Debian's
    # build has both) and checks media-peer's recordings with ffprobe
    command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
    python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install: ${need[*]}" >&2; exit 1; }
    sudo=sudo
fi
echo "--- installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# coturn's package starts a system service on 3478; the tests start their own instances.
if [[ " ${need[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now coturn >/dev/null 2>&1 || true
fi
