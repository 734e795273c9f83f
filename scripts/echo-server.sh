#!/usr/bin/env bash
# Runs Examples/EchoServer (issue 12) in one command on a fresh Debian 12 machine with the Swift
# toolchain: installs the Debian packages it needs when missing (scripts/deps.sh), builds the
# server (Hummingbird's first build takes a few minutes) and runs it; open the printed address.
#
#   scripts/echo-server.sh                     http://127.0.0.1:8080/, ICE on 127.0.0.1
#   scripts/echo-server.sh --host 192.0.2.10   any EchoServer option (--help lists them)
#
# A browser on the same machine does not gather on loopback (Chrome needs
# --allow-loopback-in-peer-connection for 127.0.0.1); bind to an address of a real interface
# (--host, --ice-address) for a browser on another machine, with --public-address behind a 1:1 NAT.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
exec swift run --package-path Examples/EchoServer EchoServer "$@"
