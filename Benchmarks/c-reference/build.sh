#!/bin/sh
# Build the plain-C libnice reference benchmark.
# usage: Benchmarks/c-reference/build.sh [output-path]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/nice-bench"}
# shellcheck disable=SC2046
gcc -O2 -Wall -Wextra -o "$out" "$here/nice_bench.c" $(pkg-config --cflags --libs nice)
echo "built $out" >&2
