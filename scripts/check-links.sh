#!/usr/bin/env bash
# Fails on repository-relative links (Markdown, DocC, Swift comments) to files that are not in the
# repository, e.g. paths into documents that live elsewhere. scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/check-links.py
