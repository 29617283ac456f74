#!/usr/bin/env bash
# Runs every benchmark and writes BENCHMARKS.md and docs/bench.svg: see
# scripts/bench/run.py (axes against django-axes in one run, and the micro
# benches). Arguments are passed on (e.g. --quick).
set -euo pipefail
exec python3 "$(dirname "$0")/bench/run.py" "$@"
