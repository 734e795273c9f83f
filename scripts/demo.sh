#!/usr/bin/env bash
# Runs the two-agent loopback demo, installing libnice and GLib first if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift run -c release LoopbackDemo
