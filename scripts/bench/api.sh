#!/usr/bin/env bash
# Requests/s of the service API (`axes serve`): `check`, and `begin` +
# `finish` pairs, on the memory store and on SQLite, with wrk.
#
#   scripts/bench/api.sh [SECONDS]      (default 10 s per run)
#
# Builds `axes` in release mode; runs each server on 127.0.0.1 with its
# data in a scratch folder; prints one Markdown table row per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
target=${CARGO_TARGET_DIR:-$PWD/target}
axes="$(cd "$target" && pwd)/release/axes"
cargo build -q --release -p axes-cli
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
port=18741
echo "| store | workload | requests/s | answers |"
echo "|---|---|---|---|"
for store in memory sqlite; do
  for mode in check begin; do
    rm -rf "$work/data" && mkdir -p "$work/data"
    (cd "$work/data" && AXES_HANDLER=$([ $store = memory ] && echo memory || echo database) \
      AXES_FAILURE_LIMIT=5 AXES_LOCKOUT_PARAMETERS=ip_address+username AXES_LOG=warn \
      exec "$axes" serve --listen 127.0.0.1:$port >"$work/log" 2>&1) &
    pid=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    out=$(wrk -t2 -c8 -d"${secs}s" -s scripts/bench/api.lua "http://127.0.0.1:$port" -- "$mode")
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    answers=$(printf '%s\n' "$out" | grep '^STATUSES' | tr '\n' ' ')
    label=$([ $mode = check ] && echo check || echo "begin + finish (2 requests a pair)")
    echo "| $store | $label | $rps | ${answers//STATUSES /} |"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
done
